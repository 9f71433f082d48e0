// REPLTests: the REPL through piped stdin (`llmscript -i`: no prompts, results on stdout, errors on
// stderr, the session goes on) and once through a pseudo-terminal (libedit: Tab completion of globals,
// fields and methods, an error that does not end the session, history written to $LLMSCRIPT_HISTORY).
import Foundation
import Testing

@Suite struct REPLTests {
    @Test func pipedSessionPrintsResultsAndSurvivesErrors() throws {
        let input = """
            1 + 1
            x = 40
            x + 2, "s", nil
            function double(a)
              return a * 2
            end
            double(21)
            error('boom')
            'still here'
            {1, 2, 3, x = 4}
            3 + 4;
            help(llm.zeros)
            llm.zeros(2, 3):numel()
            """
        let r = try Subprocess.run(["-i"], stdin: input + "\n")
        #expect(r.status == 0)
        let expected = [
            "2",
            "42\t\"s\"\tnil",
            "42",
            "\"still here\"",
            "{1, 2, 3, x = 4}"
        ]
        var lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(lines.prefix(expected.count)) == expected, "\(r.stdout)")
        lines.removeFirst(min(expected.count, lines.count))
        #expect(lines.first?.hasPrefix("llm.zeros(") == true, "help(llm.zeros) should print the signature: \(r.stdout)")
        #expect(r.stdout.hasSuffix("6\n"))
        #expect(!r.stdout.contains("7"), "a trailing ';' hides the result")
        #expect(!r.stdout.hasPrefix(">") && !r.stdout.contains("\n>"), "no prompts when stdin is not a terminal")
        #expect(r.stderr.hasPrefix("stdin:1: boom"), "\(r.stderr)")
        #expect(r.stderr.contains("stack traceback:"))
    }

    @Test func pipedSessionReportsIncompleteAndSyntaxErrors() throws {
        let r = try Subprocess.run(["-i"], stdin: "x = = 1\nprint('after')\nif true then\n")
        #expect(r.status == 0)
        #expect(r.stdout == "after\n")
        #expect(r.stderr.contains("stdin:1: unexpected symbol near '='"), "\(r.stderr)")
        #expect(r.stderr.contains("'end' expected near <eof>"))
    }

    @Test func replIsNotStrictButScriptBeforeItIs() throws {
        try Subprocess.withScript("setup.lua", "global 'answer'; answer = 42\n") { path in
            let r = try Subprocess.run(["-i", path], stdin: "answer\nfresh = 1\nfresh + 1\n")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == "42\n2\n")
        }
    }

    @Test func terminalSessionCompletesAndSurvivesErrors() throws {
        let dir = try Subprocess.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let history = dir.appendingPathComponent("history").path
        let term = try PseudoTerminal([], environment: ["LLMSCRIPT_HISTORY": history])
        #expect(term.expect("> "), "prompt: \(term.transcript)")

        // Each step waits for the next prompt: keys typed while the terminal is between two readline
        // calls (cooked mode) are subject to the tty's own editing, Ctrl-D in particular.
        term.send("llm.ze\t")  // several matches: the common prefix (the README's example) ...
        #expect(term.expect("\u{7}"), "bell: \(term.transcript)")
        term.send("\t")  // ... then the list on a second Tab
        #expect(term.expect("llm.zero_    llm.zeroGrad llm.zeros"), "completion list: \(term.transcript)")
        let t = term.transcript
        if let typed = t.range(of: "llm.ze"), let list = t.range(of: "llm.zero_    ") {
            #expect(t[typed.upperBound..<list.lowerBound].contains("ro"), "'llm.ze' completed to 'llm.zero': \(t)")
        }
        term.send("s(2, 3):numel()\n")
        #expect(term.expect("6\r\n> "), "\(term.transcript)")

        term.send("t = llm.zeros(2)\n")
        #expect(term.expect("t = llm.zeros(2)\r\n> "))
        term.send("t:matm\t")  // a method through the tensor's metatable
        #expect(term.expect("t:matmul"), "\(term.transcript)")
        term.send("\u{15}")  // Ctrl-U: clear the line

        term.send("error('oops')\n")
        #expect(term.expect("stdin:1: oops"), "\(term.transcript)")
        term.send("1 + 41\n")
        #expect(term.expect("42\r\n> "), "session continues after an error: \(term.transcript)")

        // Ctrl-D on an empty line ends the session. libedit writes the prompt just before it puts the
        // terminal in raw mode; a Ctrl-D landing in that gap is the tty's EOF, which libedit then reads
        // as a NUL (quoted insert). On a timeout: end the quote (^A), clear the line (^A ^K), Ctrl-D again.
        term.send("\u{4}")
        var status = term.waitForExit(timeout: 2)
        if status == nil { term.send("\u{1}\u{1}\u{b}\u{4}"); status = term.waitForExit() }
        #expect(status == 0, "exit after Ctrl-D: \(term.transcript)")
        let saved = (try? String(contentsOfFile: history, encoding: .utf8)) ?? ""
        #expect(saved.contains("1 + 41") || saved.contains("1\\040+\\04041"), "history: \(saved)")
    }
}
