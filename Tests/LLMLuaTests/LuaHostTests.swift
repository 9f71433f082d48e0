// LuaHostTests: the Lua host itself — package.path and LLMSCRIPT_PATH, strict globals, errors crossing
// the boundary in both directions (with position and traceback), rewritten upvalues, no leaks on errors.
import Foundation
import Testing
@testable import LLMLua
import LLMCore

@Suite(.serialized) struct LuaHostTests {
    @Test func requireFindsStdlibModules() throws {
        #expect(try luaError("local s = require 'llm.strict'; assert(type(s.enable) == 'function')") == nil)
    }

    @Test func llmscriptPathIsSearched() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llms-path-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "return { answer = 42 }".write(to: dir.appendingPathComponent("mymod.lua"), atomically: true, encoding: .utf8)
        setenv("LLMSCRIPT_PATH", dir.path + "/?.lua", 1)
        defer { unsetenv("LLMSCRIPT_PATH") }
        #expect(try luaError("assert(require('mymod').answer == 42)") == nil)
    }

    @Test func strictGlobalsNameTheVariable() throws {
        let read = try luaError("local x = undefinedThing")
        #expect(read?.contains("undeclared global 'undefinedThing'") == true)
        let write = try luaError("learnigRate = 1e-3")
        #expect(write?.contains("assignment to undeclared global 'learnigRate'") == true)
        #expect(try luaError("global 'lr'; lr = 1; assert(lr == 1)") == nil)
        #expect(try luaError("rawset(_G, 'x2', 5); assert(x2 == 5)") == nil)
        #expect(try luaError("y = 1; assert(y == 1)", strict: false) == nil)
    }

    @Test func scriptErrorsCarryPositionAndTraceback() throws {
        let msg = try luaError("local t = llm.zeros(2, 3)\nlocal u = t:matmul(t)")
        #expect(msg?.hasPrefix("test:2:") == true)
        #expect(msg?.contains("matmul: cannot multiply [2, 3] by [2, 3]") == true)
        #expect(msg?.contains("stack traceback") == true)
    }

    @Test func typeErrorsUseLuaWording() throws {
        let m1 = try luaError("llm.matmul(1, llm.zeros(2, 2))")
        #expect(m1?.contains("bad argument #1 to 'matmul' (llm.Tensor expected, got number)") == true)
        let m2 = try luaError("llm.zeros(2, 2):matmul(nil)")
        #expect(m2?.contains("llm.Tensor expected, got nil") == true)
    }

    @Test func rewrittenUpvalueIsAnErrorNotACrash() throws {
        let msg = try luaError("debug.setupvalue(llm.zeros, 1, 123456); llm.zeros(2)")
        #expect(msg?.contains("invalid llmscript function id") == true)
    }

    @Test func callbackErrorsPropagateThroughNoGrad() throws {
        let msg = try luaError("llm.noGrad(function() error('inner failure') end)")
        #expect(msg?.contains("inner failure") == true)
        #expect(try luaError("local a, b = llm.noGrad(function(x) return x, 2 end, 1); assert(a == 1 and b == 2)") == nil)
        #expect(try luaError("assert(llm.isGradEnabled()); llm.noGrad(function() assert(not llm.isGradEnabled()) end); assert(llm.isGradEnabled())") == nil)
    }

    @Test func errorsDoNotLeakTensors() throws {
        let vm = try LuaVM()
        try vm.run(
            string: """
                collectgarbage(); collectgarbage()
                local before = llm.memory()
                for i = 1, 2000 do
                  pcall(function() local a = llm.zeros(64, 64); return a:matmul(llm.zeros(3, 3)) end)
                  pcall(llm.tensor, {{1, 2}, {3}})
                end
                collectgarbage(); collectgarbage()
                assert(llm.memory() <= before, 'leaked ' .. (llm.memory() - before) .. ' bytes')
                """, name: "=leak")
    }

    @Test func closingTheStateReleasesEverything() throws {
        let before = Storage.liveBytes.load(ordering: .relaxed)
        do {
            let vm = try LuaVM()
            try vm.run(string: "global 'keep'; keep = {}; for i = 1, 100 do keep[i] = llm.zeros(1000) end", name: "=close")
        }
        #expect(Storage.liveBytes.load(ordering: .relaxed) <= before)
    }
}
