// Options: parses llmscript's command line the way the `lua` interpreter does. Options come first, the
// first non-option argument is the script (or `-` for stdin) and everything after it belongs to the
// script. Pure parsing, no side effects: a bad command line becomes a `UsageError` (exit status 2).

/// One `-e` or `-l` action, run in command-line order before the script.
enum StartupAction: Equatable {
    /// `-e code`: run a chunk.
    case execute(String)
    /// `-l [global=]module`: `require` the module and store it in a global.
    case require(module: String, global: String)
}

/// Where the main chunk comes from.
enum ScriptSource: Equatable {
    case file(String)
    case stdin
}

/// The parsed command line.
struct Options: Equatable {
    var actions: [StartupAction] = []
    var script: ScriptSource? = nil
    /// Arguments after the script, passed as `...` and `arg[1...]`.
    var scriptArgs: [String] = []
    /// Index in `argv` of the script name (0 when there is no script): `arg[0]`; options get negative indices.
    var scriptIndex: Int = 0
    var interactive = false
    var showVersion = false
    var showHelp = false
    var strict = true
    var threads: Int? = nil
    var seed: Int64? = nil
    /// `--sandbox` and its limits (see SandboxOptions.swift).
    var sandbox = SandboxOptions()
}

/// A malformed command line; the message is printed above the usage line.
struct UsageError: Error, Equatable {
    let message: String
}

enum CommandLineParser {
    static let usageLine = "usage: llmscript [options] [script [args...]]  (llmscript --help lists the options)"

    static let usage = """
        usage: llmscript [options] [script [args...]]
        Available options are:
          -e stat        execute string 'stat' (repeatable, runs in order)
          -l mod         require library 'mod' into global 'mod'
          -l g=mod       require library 'mod' into global 'g'
          -i             enter interactive mode after running the script
          -              run stdin as the script (and stop handling options)
          --             stop handling options
          --threads N    number of BLAS threads
          --seed N       seed the random number generator (llm.manualSeed(N))
          --no-strict    allow undeclared globals in scripts
          --sandbox      run an untrusted recipe: no commands, no C modules, files only under the
                         recipe's folder and the folders below (README: Running an untrusted recipe)
          --allow-read DIR   (with --sandbox) also allow reading DIR (repeatable)
          --allow-write DIR  (with --sandbox) allow writing (and reading) DIR (repeatable)
          --max-memory SIZE  (with --sandbox) limit Lua and tensor memory (e.g. 512M, 2G)
          --max-time SECONDS (with --sandbox) limit the run's time
          -v, --version  show version information
          -h, --help     show this help
        With no script and stdin a terminal, starts the REPL; with stdin piped, runs it as a script.
        Commands:
          llmscript plugin install|list|remove|pack|new ...   manage plugins (LuaRocks rocks)
          llmscript test [DIR]                                run busted specs with llmscript
        The first argument decides: a name of an existing file, ending in .lua or containing a '/' always
        runs that script; otherwise a command runs; anything else is a usage error.
        """

    /// Parses `argv` (including the program name at index 0).
    static func parse(_ argv: [String]) throws(UsageError) -> Options {
        var o = Options()
        var i = 1
        /// The value of an option given either glued (`-ecode`, `--threads=4`) or as the next argument.
        func value(_ arg: String, _ flag: String) throws(UsageError) -> String {
            if arg.count > flag.count {
                let rest = String(arg.dropFirst(flag.count))
                return flag.hasPrefix("--") ? String(rest.dropFirst()) : rest  // "--threads=4" -> "4"
            }
            i += 1
            guard i < argv.count else { throw UsageError(message: "'\(flag)' needs an argument") }
            return argv[i]
        }
        while i < argv.count {
            let a = argv[i]
            if a == "--" {
                i += 1
                break
            }
            if a == "-" {
                o.script = .stdin
                o.scriptIndex = i
                o.scriptArgs = Array(argv[(i + 1)...])
                try o.sandbox.validate()
                return o
            }
            guard a.hasPrefix("-") else { break }
            switch a {
            case "-i": o.interactive = true
            case "-v", "--version": o.showVersion = true
            case "-h", "--help": o.showHelp = true
            case "--no-strict": o.strict = false
            case "--strict": o.strict = true
            case _ where a.hasPrefix("-e"):
                o.actions.append(.execute(try value(a, "-e")))
            case _ where a.hasPrefix("-l"):
                let spec = try value(a, "-l")
                if let eq = spec.firstIndex(of: "=") {
                    let g = String(spec[..<eq]), m = String(spec[spec.index(after: eq)...])
                    guard !g.isEmpty, !m.isEmpty else { throw UsageError(message: "bad module spec '\(spec)' (expected mod or g=mod)") }
                    o.actions.append(.require(module: m, global: g))
                } else {
                    guard !spec.isEmpty else { throw UsageError(message: "'-l' needs a module name") }
                    o.actions.append(.require(module: spec, global: spec))
                }
            case _ where a == "--threads" || a.hasPrefix("--threads="):
                let v = try value(a, "--threads")
                guard let n = Int(v), n >= 1, n <= 4096 else {
                    throw UsageError(message: "Invalid '--threads': expected a positive integer, got '\(v)'")
                }
                o.threads = n
            case _ where a == "--seed" || a.hasPrefix("--seed="):
                let v = try value(a, "--seed")
                guard let n = Int64(v) else { throw UsageError(message: "Invalid '--seed': expected an integer, got '\(v)'") }
                o.seed = n
            case _ where SandboxOptions.handles(a):
                try o.sandbox.parse(a) { (flag) throws(UsageError) in try value(a, flag) }
            default:
                throw UsageError(message: "unrecognized option '\(a)'")
            }
            i += 1
        }
        try o.sandbox.validate()
        if i < argv.count {
            o.script = argv[i] == "-" ? .stdin : .file(argv[i])
            o.scriptIndex = i
            o.scriptArgs = Array(argv[(i + 1)...])
        }
        return o
    }
}
