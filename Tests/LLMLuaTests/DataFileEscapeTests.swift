// DataFileEscapeTests: the data-file loader (DataFile, llm.loadData) against hostile files: loops in
// every form (while, goto, tail calls, costly instructions under the time limit), allocation (strings, tables, the Lua stack), bytecode, library
// access, deep nesting, cycles and functions in the result. Each must be a DataFileError naming the file,
// quickly, never a hang or a crash; plain data comes back exactly. Also: llm.loadData works inside a
// sandboxed VM (it takes text, not a path) and its result is plain tables there.
import Foundation
import Testing
@testable import LLMLua

@Suite struct DataFileEscapeTests {
    static func load(_ text: String, _ limits: DataLimits = DataLimits(maxInstructions: 200_000, maxMemory: 4 << 20, maxSeconds: 1))
        -> Result<DataFile.Result, DataFileError>
    {
        Result { () throws(DataFileError) in try DataFile.load(text: Array(text.utf8), name: "evil.rockspec", limits: limits) }
    }

    static func message(_ text: String) -> String? {
        if case .failure(let e) = load(text) { return e.message }
        return nil
    }

    @Test func plainDataComesBackExactly() throws {
        let r = try Self.load(
            "package = 'demo'\nbuild = { type = 'builtin', modules = { ['demo.a'] = 'src/a.lua' } }\n"
                + "return { 1, 2.5, true, 'b\\0c' }"
        ).get()
        #expect(r.globals["package"]?.text == "demo")
        #expect(r.globals["build"]?["type"]?.text == "builtin")
        #expect(r.globals["build"]?["modules"]?["demo.a"]?.text == "src/a.lua")
        #expect(
            r.value
                == .table([
                    .init(key: .integer(1), value: .integer(1)), .init(key: .integer(2), value: .number(2.5)),
                    .init(key: .integer(3), value: .boolean(true)), .init(key: .integer(4), value: .string([98, 0, 99]))
                ]))
        #expect(try Self.load("").get() == DataFile.Result(value: nil, globals: .table([])))
    }

    @Test func loopsStop() {
        for code in [
            "while true do end", "::a:: goto a", "local function f() return f() end return f()",
            "for i = 1, math_huge or 1e308 do end", "repeat local x = {} until false",
            // few instructions, each copying a growing vararg list: stopped by the time limit
            "local function f(...) return f(1, 1, 1, 1, ...) end f()"
        ] {
            let start = Date()
            let m = Self.message(code)
            #expect(
                m?.hasPrefix("evil.rockspec") == true
                    && (m?.contains("instruction limit of 200000 exceeded") == true
                        || m?.contains("memory limit") == true || m?.contains("time limit of 1.0 s exceeded") == true
                        || m?.contains("stack overflow") == true),
                "\(code): \(m ?? "no error")")
            #expect(Date().timeIntervalSince(start) < 5, "\(code)")
        }
    }

    @Test func allocationStops() {
        for code in [
            "local s = 'x' for i = 1, 40 do s = s .. s end",
            "local t = {} for i = 1, 1e7 do t[i] = i end",
            "local function f() local a = {f()} end f()"
        ] {
            let m = Self.message(code)
            #expect(m?.hasPrefix("evil.rockspec") == true, "\(code): \(m ?? "no error")")
        }
        #expect(
            Self.message("local s = 'x' for i = 1, 40 do s = s .. s end")
                == "evil.rockspec: memory limit of 4194304 bytes exceeded (a data file may only build tables)")
    }

    @Test func noLibrariesNoBytecodeNoCode() {
        for (code, expected) in [
            ("\u{1B}Lua", "evil.rockspec: attempt to load a binary chunk (mode is 't')"),
            ("return string.dump(function() end)", "evil.rockspec:1: attempt to index a nil value (global 'string')"),
            ("return ('x'):rep(3)", "evil.rockspec:1: attempt to index a string value (constant 'x')"),
            ("return getmetatable('')", "evil.rockspec:1: attempt to call a nil value (global 'getmetatable')"),
            ("return load('return 1')", "evil.rockspec:1: attempt to call a nil value (global 'load')"),
            ("require 'os'", "evil.rockspec:1: attempt to call a nil value (global 'require')"),
            ("x = _ENV", "evil.rockspec: the table at 'x' contains itself"),
            ("return function() end", "evil.rockspec: 'result' is a function; a data file holds only tables, strings, numbers and booleans"),
            ("x = coroutine", nil)
        ] {
            #expect(Self.message(code) == expected, "\(code)")
        }
    }

    @Test func nestingAndCyclesAreBounded() {
        let deep = String(repeating: "{", count: 150) + String(repeating: "}", count: 150)
        #expect(Self.message("return " + deep) != nil)  // parser or reader depth limit, not a crash
        var nested = "local t = {} local c = t for i = 1, 500 do c.n = {} c = c.n end return t"
        #expect(Self.message(nested)?.contains("tables nested deeper than 100") == true)
        nested = "local a, b = {}, {} a.b = b b.a = a x = a"
        #expect(Self.message(nested) == "evil.rockspec: the table at 'x.b.a' contains itself")
        #expect(Self.message("x = { [{}] = 1 }")?.contains("data keys are strings, numbers or booleans") == true)
    }

    @Test func loadDataWorksInASandbox() throws {
        let vm = try LuaVM(strict: true, sandbox: SandboxPolicy(memoryLimit: 256 << 20, timeLimit: 30))
        try vm.run(
            string: """
                local v, g = llm.loadData("x = { 1, 'a' } return { k = true }", { name = 'm' })
                assert(v.k == true and g.x[2] == 'a' and getmetatable(g) == nil)
                local ok, err = pcall(llm.loadData, 'while true do end', { name = 'm', maxInstructions = 1000 })
                assert(not ok and err:find('m: instruction limit of 1000 exceeded', 1, true), err)
                """, name: "=sandboxed")
    }
}
