// SandboxCLITests: `llmscript --sandbox` as a subprocess — the flags and their usage errors, memory bombs
// against --max-memory (string.rep, table growth, llm.zeros: a clean error, the process alive), the
// time limit (exit 1 with the message), the recipe's folder readable and nothing else by default.
import Foundation
import Testing

@Suite struct SandboxCLITests {
    @Test func memoryBombsHitTheLimitCleanly() throws {
        let r = try Subprocess.withScript("bomb.lua", """
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
            """) { try Subprocess.run(["--sandbox", "--max-memory", "32M", $0]) }
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
        let r = try Subprocess.withScript("r.lua", """
            local here = arg[0]:match('^(.*)/')
            assert(io.open(arg[0]):read('l'):find('local here'))
            print(pcall(io.open, '/etc/passwd'))
            local f = assert(io.open(arg[1] .. '/x.txt', 'w')); f:write('ok'); f:close()
            print(pcall(io.open, here .. '/y.txt', 'w'))
            print(pcall(os.execute, 'true'))
            """) { try Subprocess.run(["--sandbox", "--allow-write", out.path, $0, out.path]) }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("false\tsandbox: reading '/etc/passwd' is not allowed (allowed: "), "\(r.stdout)")
        #expect(r.stdout.contains("false\tsandbox: writing '"), "\(r.stdout)")
        #expect(r.stdout.contains("false\tsandbox: os.execute is disabled"), "\(r.stdout)")
        #expect((try? String(contentsOf: out.appendingPathComponent("x.txt"), encoding: .utf8)) == "ok")
    }

    @Test func flagsAreCheckedAndNeedSandbox() throws {
        for args in [["--max-time", "5", "-e", "x=1"], ["--allow-read", "/tmp", "-e", "x=1"], ["--sandbox", "--max-memory", "lots"],
                     ["--sandbox", "--max-time", "-1"], ["--sandbox", "--allow-write"]] {
            let r = try Subprocess.run(args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("usage: llmscript"), "\(args)")
        }
        let ok = try Subprocess.run(["--sandbox", "--max-memory=256M", "--max-time=30", "--allow-read=/tmp", "-e", "print(debug)"])
        #expect(ok.status == 1 && ok.stderr.contains("undeclared global 'debug'"), "\(ok.stderr)")
    }
}
