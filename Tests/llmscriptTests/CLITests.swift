// CLITests: the command line of the llmscript binary, run as a subprocess. Exit statuses (0 success,
// 1 Lua error with file:line and traceback on stderr, 2 usage error), the `arg` table and `...`, -e order,
// -l, `-` (stdin), --version, strict globals and --no-strict.
import Foundation
import Testing

@Suite struct CLITests {
    @Test func scriptSeesArgTableAndVarargs() throws {
        let r = try Subprocess.withScript(
            "args.lua",
            """
            print(arg[0]:match('args%.lua$') ~= nil, arg[1], arg[2], #arg, select('#', ...), ...)
            print(type(arg[-1]))
            """
        ) { path in try Subprocess.run([path, "a", "b c"]) }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "true\ta\tb c\t2\t2\ta\tb c\nstring\n")
    }

    @Test func scriptErrorExitsWithOneAndFileLine() throws {
        try Subprocess.withScript("boom.lua", "local x = 1\nerror('boom')\n") { path in
            let r = try Subprocess.run(["boom.lua"], cwd: URL(fileURLWithPath: path).deletingLastPathComponent())
            #expect(r.status == 1)
            #expect(r.stderr.hasPrefix("boom.lua:2: boom"), "\(r.stderr)")
            #expect(r.stderr.contains("stack traceback:"))
        }
    }

    @Test func syntaxErrorAndMissingFileExitWithOne() throws {
        let syntax = try Subprocess.withScript("bad.lua", "x = = 1\n") { try Subprocess.run([$0]) }
        #expect(syntax.status == 1)
        #expect(syntax.stderr.contains("bad.lua:1:"))
        let missing = try Subprocess.run(["/nonexistent/nope.lua"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot open /nonexistent/nope.lua"))
    }

    @Test func usageErrorsExitWithTwo() throws {
        for args in [["-x"], ["-e"], ["-l"], ["--threads"], ["--threads", "zero"], ["--seed", "abc"], ["--bogus"]] {
            let r = try Subprocess.run(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.contains("usage: llmscript"), "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    @Test func executeChunksRunInOrder() throws {
        let r = try Subprocess.run(["-e", "io.write('a')", "-e", "io.write('b')", "-eio.write('c')"])
        #expect(r.status == 0)
        #expect(r.stdout == "abc")
        let e = try Subprocess.run(["-e", "error('nope')"])
        #expect(e.status == 1)
        #expect(e.stderr.hasPrefix("(command line):1: nope"))
    }

    @Test func requireSetsGlobal() throws {
        let r = try Subprocess.run([
            "-l", "llm.repl", "-l", "R=llm.repl",
            "-e", "print(type(_G['llm.repl']), R.format(1, 'x'))"
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "table\t1\t\"x\"\n")
        let missing = try Subprocess.run(["-l", "no.such.module"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("module 'no.such.module' not found"))
    }

    @Test func scriptFromStdin() throws {
        let dash = try Subprocess.run(["-", "x", "y"], stdin: "print('stdin', arg[0], ...)\n")
        #expect(dash.status == 0)
        #expect(dash.stdout == "stdin\t-\tx\ty\n")
        let piped = try Subprocess.run([], stdin: "print(llm.zeros(2, 3):numel())\n")
        #expect(piped.status == 0)
        #expect(piped.stdout == "6\n")
    }

    @Test func versionAndHelp() throws {
        let v = try Subprocess.run(["--version"])
        #expect(v.status == 0)
        #expect(v.stdout.hasPrefix("llmscript "))
        #expect(v.stdout.contains("Lua 5.4"))
        let h = try Subprocess.run(["--help"])
        #expect(h.status == 0)
        #expect(h.stdout.contains("--threads N"))
    }

    @Test func strictGlobalsNameTheVariable() throws {
        let read = try Subprocess.run(["-e", "print(foo)"])
        #expect(read.status == 1)
        #expect(read.stderr.contains("undeclared global 'foo'"), "\(read.stderr)")
        let write = try Subprocess.run(["-e", "bar = 1"])
        #expect(write.status == 1)
        #expect(write.stderr.contains("assignment to undeclared global 'bar'"))
        let declared = try Subprocess.run(["-e", "global 'baz'; baz = 2; print(baz)"])
        #expect(declared.stdout == "2\n")
        let loose = try Subprocess.run(["--no-strict", "-e", "qux = 3; print(qux, nothing)"])
        #expect(loose.status == 0)
        #expect(loose.stdout == "3\tnil\n")
    }

    @Test func threadsAndSeedOptions() throws {
        let r = try Subprocess.run(["--threads", "1", "--seed", "7", "-e", "print(llm.randn(3):sum():item())"])
        let again = try Subprocess.run(["--threads=2", "--seed=7", "-e", "print(llm.randn(3):sum():item())"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == again.stdout)
    }

    @Test func helpPrintsSignatures() throws {
        let r = try Subprocess.run(["-e", "help(llm.zeros); help(llm.Tensor.numel); help(llm.zeros(1)); help(print)"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("llm.zeros("))
        #expect(r.stdout.contains("t:numel()"))
        #expect(r.stdout.contains("llm.Tensor methods:"))
        #expect(r.stdout.contains("built-in Lua function"))
    }

    @Test func firstArgumentRuleScriptsWinOverCommands() throws {
        let dir = try Subprocess.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // an existing file named like a command runs as the script
        try "print('script named test', ...)\n".write(to: dir.appendingPathComponent("test"), atomically: true, encoding: .utf8)
        let file = try Subprocess.run(["test", "x"], cwd: dir)
        #expect(file.status == 0, "\(file.stderr)")
        #expect(file.stdout == "script named test\tx\n")
        // a name ending in .lua or containing '/' is a script even when missing (a Lua error, status 1)
        for script in ["plugin.lua", "./plugin", "sub/test"] {
            let r = try Subprocess.run([script], cwd: dir)
            #expect(r.status == 1, "\(script): \(r.stderr)")
            #expect(r.stderr.contains("cannot open \(script)"), "\(script): \(r.stderr)")
        }
        // a folder named like a command does not hide the command
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("plugin"), withIntermediateDirectories: true)
        let command = try Subprocess.run(["plugin", "--help"], cwd: dir)
        #expect(command.status == 0, "\(command.stderr)")
        #expect(command.stdout.contains("llmscript plugin install"))
    }

    @Test func firstArgumentNeitherScriptNorCommandIsAUsageError() throws {
        let dir = try Subprocess.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let typo = try Subprocess.run(["tset"], cwd: dir)
        #expect(typo.status == 2)
        #expect(typo.stdout.isEmpty)
        #expect(typo.stderr.hasPrefix("llmscript: 'tset' is neither a script nor a command (did you mean 'test'?)"), "\(typo.stderr)")
        #expect(typo.stderr.contains("commands: plugin, test"))
        #expect(typo.stderr.contains("ending in .lua"))
        #expect(typo.stderr.contains("usage: llmscript"))
        // every command the message lists is dispatched (`--help` answers instead of the usage error)
        let listed =
            typo.stderr.split(separator: "\n").first { $0.contains("commands: ") }
            .map { $0.components(separatedBy: "commands: ")[1].components(separatedBy: ", ") } ?? []
        #expect(!listed.isEmpty, "\(typo.stderr)")
        for command in listed {
            let r = try Subprocess.run([command, "--help"], cwd: dir)
            #expect(r.status == 0 && r.stdout.contains("usage: llmscript \(command)"), "\(command): \(r.stderr)")
        }
        let other = try Subprocess.run(["serve-it"], cwd: dir)
        #expect(other.status == 2)
        #expect(!other.stderr.contains("did you mean"), "\(other.stderr)")
        #expect(!other.stderr.contains("traceback"))
    }
}
