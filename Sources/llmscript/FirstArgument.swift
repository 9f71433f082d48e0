// FirstArgument: the rule that tells a script from a subcommand by llmscript's first argument, so that
// new subcommands never change what an existing command line does:
//   1. it starts with `-` (an option, `-` or `--`): the interpreter command line (Options.swift);
//   2. it names an existing file, ends in `.lua` or contains a `/`: that script always runs;
//   3. it is a known subcommand (`commands`): the subcommand runs (Subcommands in PluginCommand.swift);
//   4. anything else is a usage error that names both choices (and the closest command, if any).
#if canImport(Glibc)
    import Glibc
#endif

enum FirstArgument {
    /// Subcommands dispatched by `Subcommands.run`; a name added there is added here too.
    static let commands = ["plugin", "test", "export", "import", "tune", "plot", "serve", "generate", "eval"]

    enum Kind: Equatable {
        /// Options and/or a script: parse like the `lua` interpreter.
        case interpreter
        /// argv[1] is a subcommand.
        case command
        /// Neither a script nor a command: the message explains both.
        case unknown(String)
    }

    static func classify(_ argv: [String]) -> Kind {
        guard argv.count >= 2 else { return .interpreter }
        let first = argv[1]
        if first.hasPrefix("-") || isScript(first) { return .interpreter }
        if commands.contains(first) { return .command }
        var message = "'\(first)' is neither a script nor a command"
        if let near = closest(to: first, among: commands) { message += " (did you mean '\(near)'?)" }
        message += "\n  a script: an existing file, a name ending in .lua or a path with a '/' (./\(first))"
        message += "\n  commands: " + commands.joined(separator: ", ")
        return .unknown(message)
    }

    /// True when `arg` is run as a script: an existing file (not a folder), `*.lua`, or a path with `/`.
    static func isScript(_ arg: String) -> Bool {
        if arg.hasSuffix(".lua") || arg.contains("/") { return true }
        var st = stat()
        return stat(arg, &st) == 0 && (st.st_mode & S_IFMT) != S_IFDIR
    }

    /// The candidate within edit distance 2 of `word` (and closer than the word's length), if any.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(Array(word), Array($0))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2, best.1 < word.count else { return nil }
        return best.0
    }

    /// Optimal string alignment distance (Levenshtein plus adjacent transpositions: "tset" -> "test" is 1).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
