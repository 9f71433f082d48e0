// SandboxEscapeTests: known Lua sandbox escapes against LuaVM(sandbox:), in process. Each attempt must
// fail with a clear error and leave the state usable: bytecode, the string metatable, package.loaded,
// C modules, collectgarbage, endless loops (also under pcall/xpcall/coroutines), paths with `..` and
// symlinks, os.execute/io.popen, removed globals. The file rule's own classes (number paths, symlink
// swaps, *at operations, Swift readers, defaults, messages) are in SandboxFileTests.swift. Memory limits
// (per state) are in SandboxMemoryTests.swift, and per binding through the CLI (sandbox_memory_spec.lua).
import Foundation
import Testing
@testable import LLMLua

@Suite struct SandboxEscapeTests {
    /// A recipe folder, a data folder and an output folder, and a symlink from the recipe folder to /etc.
    final class Dirs {
        let root: String, recipe: String, data: String, out: String
        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("llms-sbx-\(UUID().uuidString)").path
            recipe = root + "/recipe"; data = root + "/data"; out = root + "/out"
            for d in [recipe, data, out] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
            try "hello".write(toFile: data + "/a.txt", atomically: true, encoding: .utf8)
            try "return {x = 42}".write(toFile: recipe + "/mod.lua", atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: recipe + "/etc", withDestinationPath: "/etc")
            try FileManager.default.createSymbolicLink(atPath: out + "/dangling", withDestinationPath: root + "/created-outside")
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }
    }

    static func vm(_ d: Dirs, time: Double? = nil) throws -> LuaVM {
        try LuaVM(strict: true, sandbox: SandboxPolicy(readDirs: [d.data], writeDirs: [d.out], recipeDir: d.recipe, timeLimit: time))
    }

    /// Runs `code` and returns its error message (nil when it succeeded).
    static func error(_ vm: LuaVM, _ code: String) -> String? {
        do { try vm.run(string: code, name: "=recipe"); return nil } catch { return "\(error)" }
    }

    @Test func dangerousFunctionsAreGoneOrRefused() throws {
        let d = try Dirs(), vm = try Self.vm(d)
        for (code, message) in [
            ("os.execute('id')", "sandbox: os.execute is disabled"),
            ("io.popen('id')", "sandbox: io.popen is disabled"),
            ("os.exit(3)", "sandbox: os.exit is disabled"),
            ("os.tmpname()", "sandbox: os.tmpname is disabled"),
            ("io.tmpfile()", "sandbox: io.tmpfile is disabled"),
            ("local x = debug.getinfo", "undeclared global 'debug'"),
            ("string.dump(print)", "attempt to call a nil value (field 'dump')"),
            ("collectgarbage('stop')", "sandbox: collectgarbage('stop') is disabled"),
            ("collectgarbage('generational')", "sandbox: collectgarbage('generational') is disabled"),
            ("local x = package.loadlib('/lib/x86_64-linux-gnu/libc.so.6', '*')", "attempt to call a nil value (field 'loadlib')")
        ] {
            #expect(Self.error(vm, code)?.contains(message) == true, "\(code): \(Self.error(vm, code) ?? "no error")")
        }
        #expect(
            Self.error(
                vm,
                """
                assert(rawget(_G, 'debug') == nil and rawget(_G, 'loadstring') == nil and package.cpath == '')
                assert(package.loaded.debug == nil and package.loaded.io == io and package.loaded.os == os)
                assert(package.loaded.os.execute == os.execute and os.getenv('HOME') == nil and os.getenv('TERM') == os.getenv('TERM'))
                assert(collectgarbage('count') > 0 and collectgarbage() == 0)
                """) == nil)
    }

    @Test func bytecodeIsRefused() throws {
        let d = try Dirs(), vm = try Self.vm(d)
        #expect(Self.error(vm, "load('x', 'x', 'b')")?.contains("sandbox: loading binary chunks is disabled (load mode 'b')") == true)
        #expect(Self.error(vm, "loadfile('x', 'b')")?.contains("loading binary chunks is disabled") == true)
        #expect(
            Self.error(
                vm,
                """
                local f, err = load('\\27Lua\\x54\\0junk')
                assert(f == nil and err:find("attempt to load a binary chunk"), err)
                local g, err2 = load(function() return nil end, 'x', 'bt')   -- 'bt' becomes text only
                assert(g)
                """) == nil)
        try Data([0x1b, 0x4c, 0x75, 0x61, 0x54, 0]).write(to: URL(fileURLWithPath: d.recipe + "/bin.lua"))
        #expect(Self.error(vm, "require 'bin'")?.contains("attempt to load a binary chunk") == true)
        #expect(Self.error(vm, "dofile('\(d.recipe)/bin.lua')")?.contains("attempt to load a binary chunk") == true)
    }

    @Test func metatableAndPackageTricksFail() throws {
        let d = try Dirs(), vm = try Self.vm(d)
        #expect(Self.error(vm, "getmetatable('').__index = {}")?.contains("attempt to index a boolean value") == true)
        #expect(Self.error(vm, "setmetatable('', {})")?.contains("table expected, got string") == true)
        #expect(Self.error(vm, "assert(('x').dump == nil and ('x'):rep(3) == 'xxx')") == nil)
        #expect(Self.error(vm, "setmetatable({}, {__gc = function() end})")?.contains("sandbox: __gc metamethods are disabled") == true)
        // package.loaded holds the sandboxed io/os; putting something else there gains nothing
        #expect(
            Self.error(
                vm,
                """
                package.loaded.io = nil; package.loaded.os = nil
                local ok = pcall(require, 'io'); assert(not ok)
                package.cpath = '/usr/lib/x86_64-linux-gnu/lua/5.4/?.so'
                """) == nil)
        for module in ["lfs", "system", "posix"] {
            #expect(Self.error(vm, "require '\(module)'")?.contains("sandbox: native C modules are disabled") == true)
        }
        // the sandboxed require reads only allowed files, whatever package.path says
        #expect(Self.error(vm, "package.path = '/etc/?'; require 'passwd'")?.contains("no file '/etc/passwd' (outside the allowed folders)") == true)
        #expect(Self.error(try Self.vm(d), "assert(require('mod').x == 42)") == nil)
    }

    @Test func pathsOutsideTheAllowedFoldersAreRefused() throws {
        let d = try Dirs(), vm = try Self.vm(d)
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        let allowed = "outside the allowed folders: \(d.data), \(d.out), \(d.recipe))"
        for (code, message) in [
            ("error(select(2, io.open('/etc/passwd')))", "sandbox: reading '/etc/passwd' is not allowed (\(allowed)"),
            ("io.lines('\(home)/.ssh/id_rsa')", "sandbox: reading '\(home)/.ssh/id_rsa' is not allowed"),
            ("error(select(2, io.open('\(d.data)/../../../etc/passwd')))", "sandbox: reading '\(d.data)/../../../etc/passwd' is not allowed"),
            ("error(select(2, io.open('\(d.recipe)/etc/passwd')))", "sandbox: reading '\(d.recipe)/etc/passwd' is not allowed"),
            ("error(select(2, io.open('\(d.out)/dangling', 'w')))", "is not allowed"),
            (
                "error(select(2, io.open('\(d.data)/new.txt', 'w')))",
                "sandbox: writing '\(d.data)/new.txt' is not allowed (outside the writable folders: \(d.out))"
            ),
            ("io.output('/tmp/x.txt')", "sandbox: writing '/tmp/x.txt' is not allowed"),
            ("os.remove('\(d.data)/a.txt')", "sandbox: writing"),
            ("os.rename('\(d.out)/x', '/tmp/x')", "sandbox: writing '/tmp/x' is not allowed"),
            ("dofile('/etc/passwd')", "sandbox: reading '/etc/passwd'"),
            ("llm.load('/etc/passwd')", "sandbox: reading '/etc/passwd'"),
            ("llm.save('/tmp/x.safetensors', {})", "sandbox: writing '/tmp/x.safetensors'"),
            ("llm.makeDirs('\(d.out)/a/../../escape')", "sandbox: writing '\(d.out)/a/../../escape' is not allowed"),
            ("llm.checkpoint.write('\(d.out)', {['a.txt'] = 'x'})", "sandbox: writing"),
            ("llm.checkpoint.read('/etc')", "sandbox: reading '/etc'"),
            ("llm.data.fortunes()", "sandbox: reading '/usr/share/games/fortunes'")
        ] {
            let e = Self.error(vm, code)
            #expect(e?.contains(message) == true, "\(code): \(e ?? "no error")")
            #expect(e?.contains("(/etc/passwd)") != true && e?.contains(d.root + "/escape") != true, "\(code): \(e ?? "")")
        }
        #expect(!FileManager.default.fileExists(atPath: d.root + "/created-outside"))
        #expect(!FileManager.default.fileExists(atPath: d.root + "/escape"))
        // a folder read recursively does not follow the recipe folder's link to /etc
        #expect(Self.error(vm, "assert(not llm.data.readText('\(d.recipe)'):find('root:'))") == nil)
        // allowed: the data folder for reading, the output folder for writing, the recipe folder for require
        #expect(
            Self.error(
                vm,
                """
                assert(io.open('\(d.data)/a.txt'):read('a') == 'hello')
                local f = assert(io.open('\(d.out)/o.txt', 'w')); f:write('ok'); f:close()
                assert(os.rename('\(d.out)/o.txt', '\(d.out)/p.txt'))
                llm.makeDirs('\(d.out)/sub/dir')
                llm.save('\(d.out)/sub/t.safetensors', {w = llm.zeros(2)})
                assert(llm.load('\(d.out)/sub/t.safetensors').w:numel() == 2)
                assert(llm.data.readText('\(d.data)') == 'hello')
                assert(require('mod').x == 42)
                """) == nil)
    }

    @Test func earlyChecksMatchTheRuleAtOpen() throws {
        let d = try Dirs()
        let policy = try PathPolicy(readDirs: [d.data], writeDirs: [d.out])
        #expect(policy.denial(d.out + "/new/deeper/file", .write) == nil)  // parents are created step by step, each checked
        #expect(policy.denial(d.out + "/../data/x", .write) != nil)
        #expect(policy.denial(d.data + "/a.txt", .read) == nil)
        #expect(policy.denial(d.data + "/a.txt", .write) != nil)
        #expect(policy.denial(d.out + "/dangling", .write) == nil)  // the parent is fine; the open refuses the link
        #expect(policy.denial("", .read) != nil)
        #expect(policy.denial("/etc/passwd", .read) == "sandbox: reading '/etc/passwd' is not allowed (outside the allowed folders: \(d.data), \(d.out))")
    }

    @Test func endlessLoopsStopAtTheTimeLimit() throws {
        let d = try Dirs()
        for code in [
            "while true do end",
            "while true do pcall(function() while true do end end) end",
            "while true do xpcall(function() while true do end end, function(m) while true do end end) end",
            "local co = coroutine.wrap(function() while true do end end); co()",
            "while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
            "local function f() return pcall(f) end; while true do f() end",
            "while true do pcall(llm.zeros, 1) end"
        ] {
            let vm = try Self.vm(d, time: 0.2)
            let e = Self.error(vm, code)
            #expect(e?.contains("sandbox: time limit of 0.2 s exceeded") == true, "\(code): \(e ?? "no error")")
        }
    }

    @Test func trustedStatesAreUnchanged() throws {
        let vm = try LuaVM(strict: true)
        #expect(vm.sandbox == nil)
        #expect(Self.error(vm, "assert(debug and os.execute and io.popen and string.dump and package.loadlib)") == nil)
        #expect(SandboxPolicy.parseSize("512M") == 512 << 20 && SandboxPolicy.parseSize("2G") == 2 << 30)
        #expect(SandboxPolicy.parseSize("64k") == 65536 && SandboxPolicy.parseSize("100") == 100)
        #expect(SandboxPolicy.parseSize("1.5GiB") == 3 << 29 && SandboxPolicy.parseSize("-1") == nil && SandboxPolicy.parseSize("x") == nil)
    }

    @Test func uncheckedPathBindingsFailClosed() {
        // a path-taking binding that is not declared path-checked is refused; declared ones pass
        #expect(Sandbox.denial(key: "x.readers.text", signature: "x.readers.text(path: string | {string}) -> Reader") != nil)
        #expect(Sandbox.denial(key: "x.open", signature: "x.open([dir: string]) -> W") != nil)
        #expect(Sandbox.denial(key: "llm.save", signature: "llm.save(path: string, tensors: {})") == nil)
        #expect(Sandbox.denial(key: "llm.data.readers.text", signature: "llm.data.readers.text(path: string | {string}) -> Reader") == nil)
        #expect(Sandbox.denial(key: "llm.zeros", signature: "llm.zeros(...: int, [{dtype}]) -> Tensor") == nil)
        // worker Lua states inherit the caller's sandbox, so luaStep is allowed
        #expect(Sandbox.denial(key: "llm.data.luaStep", signature: "llm.data.luaStep(module: string, fn: string)") == nil)
    }
}
