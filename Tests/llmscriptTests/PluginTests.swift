// PluginTests: `llmscript plugin ...` through LuaRocks in a temp HOME and tree (LLMSCRIPT_ROCKS): the
// new -> test -> pack -> install -> list -> require -> remove round trip, the example plugin used by a
// script, the refusals (no manifest, bad manifest, a manifest that loops, allocates or sets globals,
// version not satisfied, another version without --force), a missing luarocks and usage errors. Skipped where luarocks is not installed.
import Foundation
import Testing

@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/luarocks"), "needs luarocks"))
struct PluginTests {
    /// Runs llmscript in `dir` with a private HOME and plugin tree.
    static func run(_ args: [String], in dir: URL, env: [String: String] = [:]) throws -> RunResult {
        var e = ["HOME": dir.path, "LLMSCRIPT_ROCKS": dir.appendingPathComponent("rocks").path]
        for (k, v) in env { e[k] = v }
        return try Subprocess.run(args, environment: e, cwd: dir, timeout: 60)
    }

    static var exampleDir: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/plugins/medabbrev").path
    }

    @Test func newPackInstallListRequireRemove() throws {
        let dir = try Subprocess.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let new = try Self.run(["plugin", "new", "demo"], in: dir)
        #expect(new.status == 0, "\(new.stderr)")
        let skeleton = try String(contentsOf: dir.appendingPathComponent("demo/demo-0.1.0-1.rockspec"), encoding: .utf8)
        #expect(skeleton.contains("type = \"builtin\"") && skeleton.contains("--allow-native"), "\(skeleton)")
        let test = try Self.run(["test", "demo"], in: dir)
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.hasSuffix("3 passed, 0 failed\n"), "\(test.stdout)")
        let pack = try Self.run(["plugin", "pack", "demo", "--output", "out"], in: dir)
        #expect(pack.status == 0, "\(pack.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/demo-0.1.0-1.all.rock").path))
        let install = try Self.run(["plugin", "install", "out/demo-0.1.0-1.all.rock"], in: dir)
        #expect(install.status == 0, "\(install.stderr)")
        #expect(install.stdout.contains("installed demo 0.1.0-1"))
        let list = try Self.run(["plugin", "list"], in: dir)
        #expect(list.stdout.contains("demo  0.1.0-1  augmenters: shout"), "\(list.stdout)")
        let use = try Self.run(
            [
                "-e",
                """
                print(require('demo.shout').new{rate = 1}('hi there'), require('llm.plugins').provides('augmenters').shout.plugin)
                """
            ], in: dir)
        #expect(use.stdout == "HI THERE\tdemo\n", "\(use.stderr)")
        let remove = try Self.run(["plugin", "remove", "demo"], in: dir)
        #expect(remove.status == 0, "\(remove.stderr)")
        #expect(try Self.run(["plugin", "list"], in: dir).stdout.hasPrefix("no plugins installed"))
        #expect(try Self.run(["plugin", "remove", "demo"], in: dir).status == 1)
    }

    @Test func examplePluginIsUsedByARecipe() throws {
        let dir = try Subprocess.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let install = try Self.run(["plugin", "install", Self.exampleDir, "--project"], in: dir)
        #expect(install.status == 0, "\(install.stderr)")
        try """
        local a = require('llm.plugins').provides('augmenters').medabbrev
        local ramp = require(require('llm.plugins').provides('schedules').medabbrev_ramp.module)
        local aug = require(a.module).new{ rate = ramp{ from = 1, to = 1 }, seed = 1 }
        print(a.plugin, aug('Check blood pressure as needed.'))
        -- the same augmenter found by name through augment.get
        local byName = augment.get('medabbrev'){ rate = 1, seed = 1 }
        print(byName('Check heart rate twice daily.'))
        """.write(to: dir.appendingPathComponent("recipe.lua"), atomically: true, encoding: .utf8)
        let r = try Self.run(["recipe.lua"], in: dir)
        #expect(r.stdout == "medabbrev\tCheck BP PRN.\nCheck HR BID.\n", "\(r.stderr)")
        let specs = try Self.run(["test", Self.exampleDir], in: dir)
        #expect(specs.status == 0 && specs.stdout.hasSuffix("6 passed, 0 failed\n"), "\(specs.stdout)")
    }

    @Test func refusals() throws {
        let dir = try Subprocess.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Self.run(["plugin", "new", "demo"], in: dir).status == 0)
        let manifest = dir.appendingPathComponent("demo/src/demo/llmscript.lua")
        let spec = dir.appendingPathComponent("demo/demo-0.1.0-1.rockspec")
        func install(_ args: [String] = []) throws -> RunResult { try Self.run(["plugin", "install", "demo"] + args, in: dir) }
        for (text, message) in [
            ("return {llmscript = '>=9.0', provides = {}}", "needs llmscript >=9.0; this is llmscript 0.1.0"),
            ("return {llmscript = '>=0.1', provides = {augmentors = {}}}", "Invalid 'provides.augmentors'"),
            ("return {llmscript = 'soon', provides = {}}", "Invalid 'llmscript'"),
            ("return {llmscript = '>=0.1', provides = {augmenters = {x = 'demo.nope'}}}", "does not install"),
            ("return 42", "expected a table, got number"),
            // the manifest is data: evaluated in a bare bounded state, so loops, allocation and calls are refused
            ("while true do end return {}", "demo: cannot load manifest: "),
            ("while true do end return {}", "instruction limit of 1000000 exceeded"),
            ("local s = 'x' for i = 1, 40 do s = s .. s end return {}", "memory limit of 8388608 bytes exceeded"),
            ("os.execute('true') return {}", "attempt to index a nil value (global 'os')"),
            ("x = 1 return {llmscript = '>=0.1', provides = {}}", "sets the global 'x'; a manifest only returns a table")
        ] {
            try text.write(to: manifest, atomically: true, encoding: .utf8)
            let r = try install()
            #expect(r.status == 1 && r.stderr.contains(message), "\(text): \(r.stderr)")
        }
        try "return {llmscript = '>=0.1', provides = {}}".write(to: manifest, atomically: true, encoding: .utf8)
        #expect(try install().status == 0)
        // another version over it: refused without --force, replaces with it
        let v2 = try String(contentsOf: spec, encoding: .utf8).replacingOccurrences(of: "0.1.0-1", with: "0.2.0-1")
        try FileManager.default.removeItem(at: spec)
        try v2.write(to: dir.appendingPathComponent("demo/demo-0.2.0-1.rockspec"), atomically: true, encoding: .utf8)
        let over = try install()
        #expect(over.status == 1 && over.stderr.contains("use --force"), "\(over.stderr)")
        #expect(try install(["--force"]).status == 0)
        #expect(try Self.run(["plugin", "list"], in: dir).stdout.contains("demo  0.2.0-1"))
        // no manifest module at all
        let noManifest = v2.replacingOccurrences(of: "[\"demo.llmscript\"] = \"src/demo/llmscript.lua\",", with: "")
        try noManifest.write(to: dir.appendingPathComponent("demo/demo-0.2.0-1.rockspec"), atomically: true, encoding: .utf8)
        let none = try install(["--force"])
        #expect(none.status == 1 && none.stderr.contains("has no manifest module 'demo.llmscript'"), "\(none.stderr)")
    }

    /// LuaRocks runs a project's `.luarocks/config-5.4.lua` (next to `lua_modules/`) as Lua: a plugin folder
    /// carrying one must not get it run (here it would loop forever).
    @Test func projectConfigInThePluginFolderIsNotRun() throws {
        let dir = try Subprocess.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Self.run(["plugin", "new", "demo"], in: dir).status == 0)
        let demo = dir.appendingPathComponent("demo")
        for sub in [".luarocks", "lua_modules"] {
            try FileManager.default.createDirectory(at: demo.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try "while true do end\n".write(to: demo.appendingPathComponent(".luarocks/config-5.4.lua"), atomically: true, encoding: .utf8)
        let r = try Self.run(["plugin", "install", "demo"], in: dir)
        #expect(r.status == 0 && r.stdout.contains("installed demo 0.1.0-1"), "\(r.stdout)\(r.stderr)")
        let p = try Self.run(["plugin", "pack", "demo", "--output", "out"], in: dir)
        #expect(p.status == 0, "\(p.stderr)")
    }

    @Test func missingLuaRocksAndUsage() throws {
        let dir = try Subprocess.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Self.run(["plugin", "new", "demo"], in: dir).status == 0)
        let r = try Self.run(["plugin", "install", "demo"], in: dir, env: ["PATH": "/nonexistent"])
        #expect(r.status == 1 && r.stderr.contains("LuaRocks is not installed"), "\(r.stderr)")
        for args in [
            ["plugin"], ["plugin", "frob"], ["plugin", "install"], ["plugin", "list", "x"],
            ["plugin", "install", "a", "--bogus"], ["plugin", "new", "bad-name"]
        ] {
            let u = try Self.run(args, in: dir)
            #expect(u.status == 2 && u.stderr.contains("usage: llmscript plugin"), "\(args): \(u.stderr)")
        }
        #expect(try Self.run(["plugin", "install", "nothere"], in: dir).status == 1)
        #expect(try Self.run(["plugin", "new", "demo"], in: dir).status == 1)  // exists
    }
}
