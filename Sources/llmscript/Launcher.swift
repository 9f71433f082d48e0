// Launcher: the sequence of one llmscript run, given a parsed command line. Owns the VM for the run and
// turns every outcome into an exit status (see main.swift); prints errors, never traps on user input.
import CLua
import LLMLua
#if canImport(Glibc)
    import Glibc
#endif

enum Launcher {
    static let version = "0.1.0"

    static var versionLine: String {
        "llmscript \(version) (Lua \(LUA_VERSION_MAJOR).\(LUA_VERSION_MINOR).\(LUA_VERSION_RELEASE))"
    }

    /// Runs llmscript with `argv` and returns the exit status.
    static func main(_ argv: [String]) -> Int32 {
        switch FirstArgument.classify(argv) {
        case .command:
            if let status = Subcommands.run(argv) { return status }  // `llmscript plugin|test ...` (PluginCommand.swift)
        case .unknown(let message):
            Output.err("llmscript: \(message)\n\(CommandLineParser.usageLine)\n")
            return 2
        case .interpreter:
            break
        }
        let options: Options
        do {
            options = try CommandLineParser.parse(argv)
        } catch {
            Output.err("llmscript: \(error.message)\n\(CommandLineParser.usageLine)\n")
            return 2
        }
        if options.showHelp {
            Output.out(CommandLineParser.usage + "\n")
            return 0
        }
        if let n = options.threads { LuaVM.setBLASThreads(n) }  // first, so --version reports the count in force
        if options.showVersion { Output.out(versionLine + "\n" + BLASEnvironment.identity + "\n") }
        let runner: ScriptRunner
        do {
            runner = ScriptRunner(vm: try LuaVM(strict: options.strict, sandbox: options.sandbox.policy(script: options.script)))
        } catch {
            Output.line("\(error)", toError: true)
            return 1
        }
        let vm = runner.vm
        do {
            runner.setArgTable(argv: argv, scriptIndex: options.scriptIndex)
            if let seed = options.seed { try runner.seed(seed) }
            for action in options.actions { try runner.run(action) }
            if let script = options.script { try runner.run(script, args: options.scriptArgs) }

            let hasExecute = options.actions.contains { if case .execute = $0 { true } else { false } }
            if options.interactive {
                try startREPL(vm)
            } else if options.script == nil && !hasExecute && !options.showVersion {
                if Output.isTerminal(0) {
                    try startREPL(vm)
                } else {
                    try runner.run(.stdin, args: [])
                }
            }
            return 0
        } catch {
            if let usage = runner.usageError(in: error) {  // a recipe's bad --key: one line, status 2
                Output.line("llmscript: " + usage, toError: true)
                return 2
            }
            Output.line("\(error)", toError: true)
            return 1
        }
    }

    /// The REPL runs with strict globals off; prompts, banner and line editing only on a terminal.
    static func startREPL(_ vm: LuaVM) throws {
        if vm.sandbox != nil { throw LuaError.runtime("llmscript: --sandbox runs a script; the REPL does not run sandboxed") }
        try vm.setStrict(false)
        let reader: LineReader
        if Output.isTerminal(0) {
            Output.out("\(versionLine)  help() for help, Ctrl-D to exit\n")
            let completer = Completer(vm: vm)
            reader = EditLineReader(completer: { completer.candidates(for: $0) })
        } else {
            reader = PlainLineReader()
        }
        try REPL(vm: vm, reader: reader).run()
        if Output.isTerminal(0) { Output.out("\n") }
    }
}
