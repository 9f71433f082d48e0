// SandboxCLITests: `llmscript --sandbox` as a subprocess — the flags and their usage errors, memory bombs
// against --max-memory (string.rep, table growth, llm.zeros: a clean error, the process alive), the
// time limit (exit 1 with the message), the recipe's folder readable and nothing else by default, number
// paths relative to the working directory, and no home or plugin folder named to the recipe.
import Foundation
import Testing

@Suite struct SandboxCLITests {
    @Test func memoryBombsHitTheLimitCleanly() throws {
        let r = try Subprocess.withScript(
            "bomb.lua",
            """
            for _, f in ipairs{
              function() return string.rep('x', 2^30) end,
              function() return ('x'):rep(1e6):rep(1e3) end,
              function() local t = {} for i = 1, 1e8 do t[#t + 1] = {} end end,
              function() return llm.zeros(100000, 100000) end,
              function() local t = {} for i = 1, 64 do t[i] = llm.zeros(1024, 1024) end end,
            } do
              local ok, err = pcall(f)
              print(ok, (tostring(err):gsub('^.-sandbox', 'sandbox'):gsub('%s*%(.*$', '')))
            end
            print('alive', #string.rep('y', 1000))
            """
        ) { try Subprocess.run(["--sandbox", "--max-memory", "32M", $0]) }
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 6, "\(r.stdout)")
        for line in lines.prefix(5) { #expect(line == "false\tsandbox: memory limit of 33554432 bytes exceeded", "\(line)") }
        #expect(lines.last == "alive\t1000")
    }

    @Test func timeLimitEndsTheRun() throws {
        let r = try Subprocess.withScript("spin.lua", "while true do pcall(function() while true do end end) end") {
            try Subprocess.run(["--sandbox", "--max-time", "0.5", $0])
        }
        #expect(r.status == 1)
        #expect(r.stderr.contains("sandbox: time limit of 0.5 s exceeded"), "\(r.stderr)")
    }

    @Test func recipeFolderIsReadableAndNothingElse() throws {
        let out = try Subprocess.tempDir()
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try Subprocess.withScript(
            "r.lua",
            """
            local here = arg[0]:match('^(.*)/')
            assert(io.open(arg[0]):read('l'):find('local here'))
            print(pcall(io.open, '/etc/passwd'))
            local f = assert(io.open(arg[1] .. '/x.txt', 'w')); f:write('ok'); f:close()
            print(pcall(io.open, here .. '/y.txt', 'w'))
            print(pcall(os.execute, 'true'))
            """
        ) { try Subprocess.run(["--sandbox", "--allow-write", out.path, $0, out.path]) }
        #expect(r.status == 0, "\(r.stderr)")
        // io.open refuses like a missing file: nil, message, errno (EACCES)
        #expect(
            r.stdout.contains("true\tnil\tsandbox: reading '/etc/passwd' is not allowed (outside the allowed folders: \(out.path), "),
            "\(r.stdout)")
        #expect(r.stdout.contains("true\tnil\tsandbox: writing '"), "\(r.stdout)")
        #expect(r.stdout.contains("(outside the writable folders: \(out.path))\t13"), "\(r.stdout)")
        #expect(r.stdout.contains("false\tsandbox: os.execute is disabled"), "\(r.stdout)")
        #expect((try? String(contentsOf: out.appendingPathComponent("x.txt"), encoding: .utf8)) == "ok")
    }

    @Test func numberPathsAreFileNamesInTheWorkingDirectory() throws {
        let out = try Subprocess.tempDir(), other = try Subprocess.tempDir()
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: other) }
        try "outside".write(to: other.appendingPathComponent("5"), atomically: false, encoding: .utf8)
        let script = """
            local f = assert(io.open(5, 'w')); f:write('five'); f:close()      -- ./5 inside --allow-write
            assert(io.open(5):read('a') == 'five')
            assert(os.rename(5, 6) and io.open(6) and os.remove(6))
            print(select(2, io.open(7)))
            """
        let r = try Subprocess.withScript("n.lua", script) { try Subprocess.run(["--sandbox", "--allow-write", out.path, $0], cwd: out) }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("7: No such file or directory"), "\(r.stdout)")
        // the same recipe run from a folder it may not touch: './5' exists there and is refused
        let denied = try Subprocess.withScript("n.lua", "print(select(2, io.open(5)))") {
            try Subprocess.run(["--sandbox", "--allow-write", out.path, $0], cwd: other)
        }
        #expect(denied.stdout.contains("sandbox: reading '5' is not allowed"), "\(denied.stdout) \(denied.stderr)")
    }

    @Test func aMissingWriteFolderIsCreated() throws {
        let root = try Subprocess.tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("runs/new").path
        let r = try Subprocess.run(["--sandbox", "--allow-write", out, "-e", "local f = assert(io.open('\(out)/x', 'w')); f:close()"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/x"))
    }

    @Test func theHomeAndPluginFoldersAreNotNamed() throws {
        let home = try Subprocess.tempDir()
        defer { try? FileManager.default.removeItem(at: home) }
        let r = try Subprocess.withScript(
            "h.lua",
            """
            print(package.path)
            print(pcall(require, 'some.plugin'))
            print(select(2, io.open(os.getenv('HOME') or '/nonexistent-home')))
            """
        ) { try Subprocess.run(["--sandbox", $0], environment: ["HOME": home.path, "LLMSCRIPT_ROCKS": ""]) }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains(home.path) && !r.stdout.contains(".llmscript") && !r.stdout.contains("stdlib-lua"), "\(r.stdout)")
    }

    @Test func flagsAreCheckedAndNeedSandbox() throws {
        for args in [
            ["--max-time", "5", "-e", "x=1"], ["--allow-read", "/tmp", "-e", "x=1"], ["--sandbox", "--max-memory", "lots"],
            ["--sandbox", "--max-time", "-1"], ["--sandbox", "--allow-write"]
        ] {
            let r = try Subprocess.run(args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("usage: llmscript"), "\(args)")
        }
        let ok = try Subprocess.run(["--sandbox", "--max-memory=256M", "--max-time=30", "--allow-read=/tmp", "-e", "print(debug)"])
        #expect(ok.status == 1 && ok.stderr.contains("undeclared global 'debug'"), "\(ok.stderr)")
    }
}
