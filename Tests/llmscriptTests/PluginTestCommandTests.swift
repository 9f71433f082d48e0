// PluginTestCommandTests: `llmscript test [DIR]` runs busted with llmscript as the interpreter: exit 0 and
// `N passed, 0 failed` for a passing folder, exit 1 and the counts for a failing one, specs see `llm`,
// a missing folder is an error, and a script named like a subcommand still runs as ./test.
import Foundation
import Testing

@Suite struct PluginTestCommandTests {
    static func specDir(_ body: String) throws -> URL {
        let dir = try Subprocess.tempDir()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("specs"), withIntermediateDirectories: true)
        try body.write(to: dir.appendingPathComponent("specs/x_spec.lua"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test func passingAndFailingSpecs() throws {
        let pass = try Self.specDir("describe('a', function() it('sees llm', function() assert.is_table(llm) end) end)\n")
        defer { try? FileManager.default.removeItem(at: pass) }
        let ok = try Subprocess.run(["test", "specs"], cwd: pass)
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.hasSuffix("1 passed, 0 failed\n"), "\(ok.stdout)")

        let fail = try Self.specDir(
            """
            describe('b', function()
              it('ok', function() end)
              it('fails', function() assert.are.equal(1, 2) end)
              it('errors', function() error('boom') end)
            end)
            """)
        defer { try? FileManager.default.removeItem(at: fail) }
        let bad = try Subprocess.run(["test", "specs"], cwd: fail)
        #expect(bad.status == 1)
        #expect(bad.stdout.hasSuffix("1 passed, 2 failed\n"), "\(bad.stdout)")
    }

    @Test func missingDirAndScriptNamedTest() throws {
        let r = try Subprocess.run(["test", "/nonexistent/specs"])
        #expect(r.status == 1 && r.stderr.contains("does not exist"), "\(r.stderr)")
        try Subprocess.withScript("test", "print('script named test')\n") { path in
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
            let s = try Subprocess.run(["./test"], cwd: dir)
            #expect(s.stdout == "script named test\n", "\(s.stderr)")
            let t = try Subprocess.run(["--", "test"], cwd: dir)
            #expect(t.stdout == "script named test\n", "\(t.stderr)")
        }
    }
}
