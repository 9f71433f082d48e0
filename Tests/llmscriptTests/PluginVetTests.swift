// PluginVetTests: `plugin install` never runs code from the rock. A stand-in luarocks
// ($LLMSCRIPT_LUAROCKS, a shell script that records each call) proves that refused rockspecs and rocks
// (build types that run commands, hooks, C modules without --allow-native, looping or allocating
// rockspecs and rock_manifests) are refused before LuaRocks is called at all; a looping plugin tree
// manifest makes `plugin list` fail naming the file; the staging folder is removed on errors and when
// the command is interrupted (SIGINT while LuaRocks runs: exit 130, LuaRocks' process group ended).
import Foundation
import Testing

@Suite struct PluginVetTests {
    /// A test folder with a plugin skeleton `demo`, a stand-in luarocks and a private TMPDIR.
    struct Fixture {
        let dir: URL
        var calls: URL { dir.appendingPathComponent("luarocks-calls") }
        var tmp: URL { dir.appendingPathComponent("tmp") }
        var spec: URL { dir.appendingPathComponent("demo/demo-0.1.0-1.rockspec") }

        /// `luarocks` stand-in: records its arguments and its pid, then runs `body` (default: fail).
        init(luarocks body: String = "exit 1") throws {
            dir = try Subprocess.tempDir()
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("tmp"), withIntermediateDirectories: true)
            let fake = dir.appendingPathComponent("fake-luarocks")
            try "#!/bin/sh\necho \"$$ $*\" >> '\(calls.path)'\n\(body)\n".write(to: fake, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
            #expect(try run(["plugin", "new", "demo"]).status == 0)
        }

        var env: [String: String] {
            [
                "HOME": dir.path, "LLMSCRIPT_ROCKS": dir.appendingPathComponent("rocks").path, "TMPDIR": tmp.path,
                "LLMSCRIPT_LUAROCKS": dir.appendingPathComponent("fake-luarocks").path
            ]
        }

        func run(_ args: [String]) throws -> RunResult { try Subprocess.run(args, environment: env, cwd: dir, timeout: 60) }

        /// Replaces the skeleton's build table.
        func setBuild(_ build: String, extra: String = "") throws {
            let text = try String(contentsOf: spec, encoding: .utf8)
            let start = text.range(of: "build = {")!.lowerBound, end = text.range(of: "test_dependencies")!.lowerBound
            try (String(text[..<start]) + build + "\n" + extra + "\n" + String(text[end...])).write(to: spec, atomically: true, encoding: .utf8)
        }

        var luarocksCalled: Bool { FileManager.default.fileExists(atPath: calls.path) }
        var stagingLeft: [String] { (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? [] }
        func remove() { try? FileManager.default.removeItem(at: dir) }
    }

    @Test func buildsThatRunCommandsAreRefusedBeforeLuaRocks() throws {
        let f = try Fixture()
        defer { f.remove() }
        let lua = #"modules = { ["demo.llmscript"] = "src/demo/llmscript.lua" }"#
        for (build, extra, message) in [
            (#"build = { type = "command", build_command = "touch PWNED" }"#, "", "build type 'command' (build.type) runs commands"),
            (#"build = { type = "make" }"#, "", "build type 'make'"),
            (#"build = { type = "cmake" }"#, "", "build type 'cmake'"),
            (#"build = { type = "my_backend" }"#, "", "build type 'my_backend'"),
            (
                "build = { type = 'builtin', \(lua), platforms = { unix = { type = 'command', install_command = 'x' } } }", "",
                "build type 'command' (build.platforms.unix.type)"
            ),
            ("build = { type = 'builtin', \(lua) }", "hooks = { post_install = 'touch PWNED' }", "its hooks (post_install) would run shell commands"),
            ("build = { type = 42 }", "", "Invalid 'build.type': expected a string, got number"),
            ("build = 'command'", "", "Invalid 'build': expected a table, got string")
        ] {
            try f.setBuild(build, extra: extra)
            let r = try f.run(["plugin", "install", "demo", "--allow-native"])
            #expect(
                r.status == 1 && r.stderr.contains("refusing demo-0.1.0-1.rockspec: ") && r.stderr.contains(message),
                "\(build): \(r.stderr)")
            #expect(!f.luarocksCalled, "\(build): luarocks ran")
        }
        #expect(f.stagingLeft.isEmpty, "\(f.stagingLeft)")
    }

    @Test func cModulesNeedAllowNative() throws {
        let f = try Fixture()
        defer { f.remove() }
        let cases: [(String, String)] = [
            (#"build = { type = "builtin", modules = { ["demo.core"] = "src/core.c" } }"#, "module 'demo.core' ('src/core.c') is C code"),
            (
                #"build = { type = "builtin", modules = { ["demo.core"] = { sources = { "a.c" }, libraries = { "m" } } } }"#,
                "module 'demo.core' (a C module table) is C code"
            ),
            (#"build = { type = "builtin", modules = { ["demo.core"] = { "a.c", "b.c" } } }"#, "module 'demo.core' (a C module table)"),
            (#"build = { type = "none", install = { lib = { ["demo.core"] = "core.so" } } }"#, "build.install.lib installs native libraries"),
            (#"build = { type = "builtin", platforms = { linux = { modules = { x = "x.cpp" } } } }"#, "module 'x' ('x.cpp') is C code"),
            (#"build = { type = "builtin" }"#, "no build.modules, so LuaRocks would compile any C files it finds")
        ]
        try "int x;\n".write(to: f.dir.appendingPathComponent("demo/src/core.c"), atomically: true, encoding: .utf8)
        for (build, message) in cases {
            try f.setBuild(build)
            let r = try f.run(["plugin", "install", "demo"])
            #expect(r.status == 1 && r.stderr.contains(message) && r.stderr.contains("--allow-native"), "\(build): \(r.stderr)")
            #expect(!f.luarocksCalled, "\(build): luarocks ran")
            let p = try f.run(["plugin", "pack", "demo"])
            #expect(p.status == 1 && p.stderr.contains(message), "pack \(build): \(p.stderr)")
            #expect(!f.luarocksCalled, "pack \(build): luarocks ran")
        }
        // opted in: the vetting passes and LuaRocks is asked to build it (the stand-in fails)
        let r = try f.run(["plugin", "install", "demo", "--allow-native"])
        #expect(r.status == 1 && r.stderr.contains("staging demo failed"), "\(r.stderr)")
        #expect(f.luarocksCalled)
        #expect(f.stagingLeft.isEmpty, "\(f.stagingLeft)")
    }

    @Test func rockspecsAreBoundedData() throws {
        let f = try Fixture()
        defer { f.remove() }
        for (text, message) in [
            ("while true do end", "instruction limit of 10000000 exceeded"),
            ("local s = 'x' for i = 1, 40 do s = s .. s end", "memory limit of 67108864 bytes exceeded"),
            ("os.execute('touch PWNED')", "attempt to index a nil value (global 'os')"),
            ("build = { type = 'builtin', modules = {} } build.self = build", "contains itself")
        ] {
            try text.write(to: f.spec, atomically: true, encoding: .utf8)
            let r = try f.run(["plugin", "install", "demo"])
            #expect(
                r.status == 1 && r.stderr.contains("refusing demo-0.1.0-1.rockspec: not a valid data file: ")
                    && r.stderr.contains(message), "\(text): \(r.stderr)")
        }
        #expect(!f.luarocksCalled)
        #expect(!FileManager.default.fileExists(atPath: f.dir.appendingPathComponent("PWNED").path))
    }

    @Test(.enabled(if: ["/usr/bin/zip", "/usr/bin/unzip"].allSatisfy(FileManager.default.isExecutableFile(atPath:)), "needs zip and unzip"))
    func rocksAreVettedBeforeLuaRocks() throws {
        let f = try Fixture()
        defer { f.remove() }
        let stage = f.dir.appendingPathComponent("stage")
        /// Zips `files` (path -> text) into `name` and tries to install it.
        func install(_ name: String, _ files: [String: String], _ flags: [String] = []) throws -> RunResult {
            try? FileManager.default.removeItem(at: stage)
            for (path, text) in files {
                let url = stage.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
            let zip = Process()
            zip.executableURL = URL(fileURLWithPath: "/usr/bin/zip")
            zip.arguments = ["-q", "-r", f.dir.appendingPathComponent(name).path] + files.keys.sorted()
            zip.currentDirectoryURL = stage
            try zip.run(); zip.waitUntilExit()
            defer { try? FileManager.default.removeItem(at: f.dir.appendingPathComponent(name)) }
            return try f.run(["plugin", "install", name] + flags)
        }
        let spec = try String(contentsOf: f.spec, encoding: .utf8)
        let manifest = "rock_manifest = { lua = {} }\n"
        for (name, files, message) in [
            (
                "demo-0.1.0-1.all.rock", ["demo-0.1.0-1.rockspec": spec + "hooks = { post_install = 'touch PWNED' }", "rock_manifest": manifest],
                "its hooks (post_install) would run shell commands"
            ),
            (
                "demo-0.1.0-1.linux-x86_64.rock", ["demo-0.1.0-1.rockspec": spec, "rock_manifest": manifest, "lib/demo/core.so": "ELF"],
                "contains the native library 'lib/demo/core.so'"
            ),
            (
                "demo-0.1.0-1.all.rock", ["demo-0.1.0-1.rockspec": spec, "rock_manifest": "while true do end"],
                "demo-0.1.0-1.all.rock!rock_manifest: not a valid data file"
            ),
            (
                "demo-0.1.0-1.all.rock", ["demo-0.1.0-1.rockspec": "local s = 'x' for i = 1, 40 do s = s .. s end"],
                "memory limit"
            ),
            (
                "demo-0.1.0-1.src.rock",
                [
                    "demo-0.1.0-1.rockspec": spec.replacingOccurrences(of: "type = \"builtin\"", with: "type = \"make\""),
                    "src/demo/llmscript.lua": "return {}"
                ], "build type 'make'"
            ),
            (
                "demo-0.1.0-1.src.rock",
                [
                    "demo-0.1.0-1.rockspec": spec.replacingOccurrences(of: "modules = {", with: "nomodules = {"),
                    "src/demo/core.c": "int x;"
                ], "LuaRocks would compile any C files"
            ),
            ("demo-0.1.0-1.all.rock", ["demo-0.1.0-1.rockspec": spec, "other-1.0-1.rockspec": spec], "expected one rockspec")
        ] {
            let r = try install(name, files)
            #expect(r.status == 1 && r.stderr.contains(message), "\(name) \(files.keys.sorted()): \(r.stderr)")
            #expect(!f.luarocksCalled, "\(name): luarocks ran")
        }
        // a binary rock with native code is accepted with --allow-native (then handed to LuaRocks)
        let ok = try install(
            "demo-0.1.0-1.linux-x86_64.rock",
            [
                "demo-0.1.0-1.rockspec": spec, "rock_manifest": manifest,
                "lib/demo/core.so": "ELF"
            ], ["--allow-native"])
        #expect(ok.stderr.contains("staging demo-0.1.0-1.linux-x86_64.rock failed"), "\(ok.stderr)")
        #expect(f.luarocksCalled)
        #expect(!FileManager.default.fileExists(atPath: f.dir.appendingPathComponent("PWNED").path))
        #expect(f.stagingLeft.isEmpty, "\(f.stagingLeft)")
    }

    @Test func loopingTreeManifestIsAnErrorNamingTheFile() throws {
        let f = try Fixture()
        defer { f.remove() }
        let rocksDir = f.dir.appendingPathComponent("rocks/lib/luarocks/rocks-5.4")
        try FileManager.default.createDirectory(at: rocksDir, withIntermediateDirectories: true)
        for text in ["while true do end", "repository = 'garbage'", "\u{1}\u{2}"] {
            try text.write(to: rocksDir.appendingPathComponent("manifest"), atomically: true, encoding: .utf8)
            let start = Date()
            let r = try f.run(["plugin", "list"])
            #expect(r.status == 1 && r.stderr.contains("invalid plugin tree manifest \(rocksDir.path)/manifest"), "\(text): \(r.stderr)")
            #expect(!r.stdout.contains("no plugins"), "\(r.stdout)")
            #expect(!r.stderr.contains("stack traceback"), "\(r.stderr)")
            #expect(Date().timeIntervalSince(start) < 30)
            // install reads the target tree (as bounded data) before LuaRocks does
            let i = try f.run(["plugin", "install", "demo"])
            #expect(i.status == 1 && i.stderr.contains("invalid plugin tree manifest \(rocksDir.path)/manifest"), "\(text): \(i.stderr)")
            #expect(!f.luarocksCalled)
        }
    }

    @Test func stagingFolderIsRemovedWhenInterrupted() throws {
        let f = try Fixture(luarocks: "exec sleep 30")
        defer { f.remove() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Subprocess.binary)
        p.arguments = ["plugin", "install", "demo"]
        p.environment = ProcessInfo.processInfo.environment.merging(f.env) { $1 }
        p.currentDirectoryURL = f.dir
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(30)
        while !f.luarocksCalled && Date() < deadline { usleep(20_000) }
        #expect(f.luarocksCalled)
        #expect(f.stagingLeft.count == 1, "\(f.stagingLeft)")  // the staging folder exists while LuaRocks runs
        let pid = try String(contentsOf: f.calls, encoding: .utf8).split(separator: " ").first.flatMap { Int32($0) } ?? 0
        p.interrupt()
        let stop = Date().addingTimeInterval(20)
        while p.isRunning && Date() < stop { usleep(20_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationReason == .exit && p.terminationStatus == 130, "\(p.terminationReason) \(p.terminationStatus) \(stderr)")
        #expect(stderr.contains("interrupted"), "\(stderr)")
        #expect(f.stagingLeft.isEmpty, "\(f.stagingLeft)")
        #expect(pid > 0 && kill(pid, 0) != 0, "LuaRocks (pid \(pid)) still runs")
    }
}

extension PluginVetTests {
    @Test func buildPathsStayInsideTheRock() throws {
        let f = try Fixture()
        defer { f.remove() }
        for (build, message) in [
            (#"build = { type = "builtin", modules = { ["demo.llmscript"] = "/etc/passwd.lua" } }"#, "build.modules names '/etc/passwd.lua'"),
            (#"build = { type = "builtin", modules = { ["demo.x"] = "../../x.lua" } }"#, "build.modules names '../../x.lua'"),
            (
                #"build = { type = "none", install = { bin = { ["../../../.profile"] = "src/demo/shout.lua" } } }"#,
                "build.install names '../../../.profile'"
            ),
            (#"build = { type = "builtin", modules = {}, copy_directories = { "/home" } }"#, "build.copy_directories names '/home'"),
            (
                #"build = { type = "builtin", modules = {}, patches = { ["p.diff"] = "--- a\n+++ ../../.bashrc" } }"#,
                "build.patches would rewrite files"
            )
        ] {
            try f.setBuild(build)
            let r = try f.run(["plugin", "install", "demo"])
            #expect(r.status == 1 && r.stderr.contains(message), "\(build): \(r.stderr)")
            #expect(!f.luarocksCalled, "\(build): luarocks ran")
        }
    }
}
