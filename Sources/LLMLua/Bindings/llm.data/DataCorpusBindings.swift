// Corpus bindings: llm.data.readText (files, lists of files, directories; plain or fortune format) and
// llm.data.fortunes (the Debian `fortunes` package by default). Both return one Lua string, documents
// joined by `separator` (default "\n\n"); errors name the path (`corpus: no such file or directory: /x`).
import CLua
import CLuaShim
import LLMData

enum DataCorpusBindings {
    static let functions: [LuaBinding] = [
        LuaBinding(
            "readText",
            "llm.data.readText(path: string | {string}, [{format='plain'|'fortunes', separator, maxBytes}]) -> string",
            "Reads text files or folders (recursively, sorted; binary files skipped) into one string."
        ) { a in
            let paths: [String] = a.type(1) == LUA_TTABLE ? try DataLib.stringList(a, 1) : [try a.string(1)]
            for p in paths { try a.checkPath(p, .readTree) }
            let o = try a.options(2, allowed: ["format", "separator", "maxBytes"])
            let format = try CorpusFormat.parse(try o.string("format") ?? "plain")
            let separator = try o.string("separator") ?? TextCorpus.defaultSeparator
            try pushCorpus(a, maxBytes: try maxBytes(o)) { try TextCorpus.read(paths, format: format, separator: separator, maxBytes: $0) }
            return 1
        },
        LuaBinding(
            "fortunes", "llm.data.fortunes([dir: string], [{separator, maxBytes}]) -> string",
            "The quotes of the fortune files in dir (default /usr/share/games/fortunes) joined into one string."
        ) { a in
            let optIndex: Int32 = a.type(1) == LUA_TTABLE ? 1 : 2
            let dir = optIndex == 2 ? try a.optString(1) ?? Fortunes.defaultDirectory : Fortunes.defaultDirectory
            try a.checkPath(dir, .readTree)
            let o = try a.options(optIndex, allowed: ["separator", "maxBytes"])
            let separator = try o.string("separator") ?? TextCorpus.defaultSeparator
            try pushCorpus(a, maxBytes: try maxBytes(o)) { try Fortunes.corpus(directory: dir, maxBytes: $0).text(separator: separator) }
            return 1
        }
    ]

    /// Reads a corpus with `read(maxBytes)` and pushes its text. Sandboxed, it reads at most what the memory
    /// budget can hold three times (the file bytes, the joined text, the Lua string); a corpus larger than
    /// that is the memory-limit error.
    static func pushCorpus(_ a: LuaArgs, maxBytes requested: Int, _ read: (Int) throws -> String) throws {
        let cap = a.memoryLeft.map { Swift.max($0 / 3, 1) } ?? Int.max
        let text: String
        do { text = try read(Swift.min(requested, cap)) } catch let e as DataError where cap < requested && "\(e)".contains("too large") {
            throw LuaError.runtime("sandbox: memory limit of \(a.memoryLimit) bytes exceeded (\(a.name): the text is larger than the \(cap) bytes the budget can hold)")
        }
        try a.reserve(lua: LuaSize.string(text.utf8.count), native: text.utf8.count)
        DataLib.pushString(a.L, text)
    }

    static func maxBytes(_ o: LuaOptions) throws -> Int {
        guard let m = try o.integer("maxBytes") else { return TextCorpus.defaultMaxBytes }
        guard m > 0 else { throw LuaError.runtime("Invalid 'maxBytes': expected a positive integer, got \(m)") }
        return m
    }
}
