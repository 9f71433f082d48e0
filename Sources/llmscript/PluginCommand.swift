// PluginCommand: `llmscript plugin install|list|remove|pack|new ...` over LuaRocks. Install first vets
// the rock without running any of its code (PluginVet: rockspec evaluated as bounded data, only
// builtin/none builds, C modules only with --allow-native), stages it in a temporary tree (removed on
// every exit path, Ctrl-C included), checks its manifest module `<name>.llmscript` there (with
// llm.plugins), then installs into the user's tree (~/.llmscript/rocks or $LLMSCRIPT_ROCKS) or, with
// --project, ./plugins. Exit status: 0 success, 1 a refusal or a LuaRocks failure, 2 a usage error.
import LLMLua

/// Subcommands: `llmscript plugin ...` and `llmscript test ...` when argv[1] is exactly that word.
/// The launcher calls it only when FirstArgument.swift's rule says argv[1] is a command (not an existing
/// file, `*.lua` or a path); a new command is added here and to `FirstArgument.commands`.
enum Subcommands {
    /// The exit status of a subcommand, or nil when argv is an ordinary interpreter command line.
    static func run(_ argv: [String]) -> Int32? {
        guard argv.count >= 2 else { return nil }
        switch argv[1] {
        case "plugin": return PluginCommand.main(Array(argv.dropFirst(2)))
        case "test": return TestCommand.main(Array(argv.dropFirst(2)), argv0: argv[0])
        case "tune": return TuneCommand.main(Array(argv.dropFirst(2)), argv0: argv[0])
        case "plot": return PlotCommand.main(Array(argv.dropFirst(2)), argv0: argv[0])
        case "export", "import": return ExportCommand.main(argv[1], Array(argv.dropFirst(2)), argv0: argv[0])
        case "serve", "generate": return ServeCommand.main(argv[1], Array(argv.dropFirst(2)), argv0: argv[0])
        case "eval": return EvalCommand.main(Array(argv.dropFirst(2)), argv0: argv[0])
        default: return nil
        }
    }

    /// Prints a PluginError the CLI's way and returns its status.
    static func report(_ e: PluginError, command: String, usage: String) -> Int32 {
        Output.err("llmscript \(command): \(e.message)\n")
        if e.status == 2 { Output.err(usage + "\n") }
        return e.status
    }
}

enum PluginCommand {
    static let usage = """
        usage: llmscript plugin install PATH|ROCK [--force] [--project] [--allow-native]
                 (a rockspec, a folder with one, or a .rock; --allow-native builds/installs C modules)
               llmscript plugin list
               llmscript plugin remove NAME [--project]
               llmscript plugin pack DIR [--output DIR] [--allow-native]
               llmscript plugin new NAME
        """

    /// Parsed arguments of one subcommand: positional words and flags.
    struct Args {
        var words: [String] = []
        var force = false
        var project = false
        var allowNative = false
        var output: String? = nil
    }

    static func main(_ args: [String]) -> Int32 {
        do throws(PluginError) {
            guard let cmd = args.first else { throw PluginError(message: "missing command", status: 2) }
            if cmd == "-h" || cmd == "--help" { Output.out(usage + "\n"); return 0 }
            let a = try parse(Array(args.dropFirst()))
            func one(_ what: String) throws(PluginError) -> String {
                guard a.words.count == 1 else {
                    throw PluginError(message: "'\(cmd)' needs exactly one \(what)", status: 2)
                }
                return a.words[0]
            }
            switch cmd {
            case "install": try install(try one("PATH"), a)
            case "list":
                guard a.words.isEmpty else { throw PluginError(message: "'list' takes no arguments", status: 2) }
                try list()
            case "remove": try remove(try one("NAME"), a)
            case "pack": try PluginPack.pack(try one("DIR"), output: a.output ?? ".", allowNative: a.allowNative)
            case "new": try PluginSkeleton.create(try one("NAME"))
            default:
                throw PluginError(message: "unknown command '\(cmd)' (expected install, list, new, pack, remove)", status: 2)
            }
            return 0
        } catch {
            return Subcommands.report(error, command: "plugin", usage: usage)
        }
    }

    static func parse(_ args: [String]) throws(PluginError) -> Args {
        var a = Args()
        var i = 0
        while i < args.count {
            let s = args[i]
            switch s {
            case "--force": a.force = true
            case "--project": a.project = true
            case "--allow-native": a.allowNative = true
            case "--output", "-o":
                i += 1
                guard i < args.count else { throw PluginError(message: "'\(s)' needs a directory", status: 2) }
                a.output = args[i]
            case _ where s.hasPrefix("--output="): a.output = String(s.dropFirst(9))
            case _ where s.hasPrefix("-") && s.count > 1:
                throw PluginError(message: "unrecognized option '\(s)'", status: 2)
            default: a.words.append(s)
            }
            i += 1
        }
        return a
    }

    /// The tree a command installs into or removes from.
    static func targetTree(_ a: Args) throws(PluginError) -> String {
        if a.project { return PluginSystem.absolute(".") + "/plugins" }
        guard let t = LuaVM.userPluginTree() else {
            throw PluginError(message: "neither LLMSCRIPT_ROCKS nor HOME is set; use --project or set LLMSCRIPT_ROCKS")
        }
        return t
    }

    /// The luarocks arguments that install `source`, and the folder to run them in.
    static func installArgs(_ source: PluginVet.Source) -> (args: [String], cwd: String?) {
        switch source {
        case .rock(let rock, _): return (["install", rock], nil)
        case .rockspec(let spec): return (["make", spec], PluginSystem.dirname(spec))
        }
    }

    /// Vets the rock (no code from it runs: PluginVet), stages it in a temporary tree, checks its
    /// manifest there, then installs it into the target tree.
    static func install(_ path: String, _ a: Args) throws(PluginError) {
        let tree = try targetTree(a)
        let source = try PluginVet.source(path)
        let rocks = try RocksSession()
        let lua = try PluginLua()
        try PluginVet.check(source, session: rocks, allowNative: a.allowNative)
        _ = try lua.eval("P.rocks(\(PluginLua.quote(tree)))")  // LuaRocks reads the tree's manifest too: vet it first
        let (args, cwd) = installArgs(source)
        try rocks.check(tree: rocks.staging, args + ["--deps-mode=none"], cwd: cwd, what: "staging \(path)")
        let (name, version, provides) = try PluginPack.inspectStaged(rocks, lua)
        let existing = try lua.eval(
            """
            local out = {}
            for _, r in ipairs(P.rocks(\(PluginLua.quote(tree)))) do
              if r.name == \(PluginLua.quote(name)) and r.version ~= \(PluginLua.quote(version)) then out[#out + 1] = r.version end
            end
            return table.concat(out, ', ')
            """)[0]
        if !existing.isEmpty && !a.force {
            throw PluginError(message: "\(name) \(existing) is installed in \(tree); use --force to replace it with \(version)")
        }
        try rocks.check(tree: tree, args, cwd: cwd, what: "installing \(name) \(version)")
        if !existing.isEmpty {  // luarocks keeps no other versions by default; make sure of it
            for old in existing.split(separator: ",").map({ String($0.drop { $0 == " " }) }) {
                _ = try rocks.run(tree: tree, ["remove", "--force", name, old])
            }
        }
        Output.out("installed \(name) \(version) in \(tree) (\(provides))\n")
    }

    static func list() throws(PluginError) {
        let lua = try PluginLua()
        let lines = try lua.eval(
            """
            local rows = {}
            for _, p in ipairs(P.list()) do
              rows[#rows + 1] = { p.name, p.version, p.error and ('invalid: ' .. p.error) or P.describe(p.provides), p.tree }
            end
            if #rows == 0 then return 'no plugins installed (trees: ' .. table.concat(P.trees(), ', ') .. ')' end
            local w = { 4, 7, 8 }
            for _, r in ipairs(rows) do for i = 1, 3 do w[i] = math.max(w[i], #r[i]) end end
            local fmt = ('%%-%ds  %%-%ds  %%-%ds  %%s'):format(w[1], w[2], w[3])
            local out = { fmt:format('name', 'version', 'provides', 'where') }
            for _, r in ipairs(rows) do out[#out + 1] = fmt:format(r[1], r[2], r[3], r[4]) end
            return table.concat(out, '\\n')
            """)
        Output.out(lines[0] + "\n")
    }

    static func remove(_ name: String, _ a: Args) throws(PluginError) {
        let tree = try targetTree(a)
        let lua = try PluginLua()
        let versions = try lua.eval(
            """
            local out = {}
            for _, r in ipairs(P.rocks(\(PluginLua.quote(tree)))) do
              if r.name == \(PluginLua.quote(name)) then out[#out + 1] = r.version end
            end
            return table.concat(out, ' ')
            """)[0]
        guard !versions.isEmpty else { throw PluginError(message: "'\(name)' is not installed in \(tree)") }
        let rocks = try RocksSession()
        try rocks.check(tree: tree, ["remove", name], what: "removing \(name)")
        Output.out("removed \(name) \(versions) from \(tree)\n")
    }
}
