// TextCorpus: a corpus of text documents read from files, lists of files or directories, as plain text
// (one document per file) or in the fortune format (one document per `%`-separated quote). Joined into
// one training string with a separator. Errors: missing path, unreadable file, binary file named
// explicitly, empty corpus, corpus larger than `maxBytes` (a guard against reading a disk by mistake).

/// How the files of a corpus are cut into documents.
public enum CorpusFormat: String, CaseIterable, Sendable {
    /// Each file is one document, verbatim.
    case plain
    /// Each `%`-separated quote of a fortune file is one document (see ``Fortunes/split(_:)``).
    case fortunes

    /// Parses a Lua-facing name; the error lists the choices.
    public static func parse(_ name: String) throws -> CorpusFormat {
        if let f = CorpusFormat(rawValue: name) { return f }
        let choices = allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        throw DataError.corpus("Invalid 'format': expected one of \(choices), got '\(name)'")
    }
}

/// Documents read from text files.
///
/// ```swift
/// let corpus = try TextCorpus(paths: ["/usr/share/games/fortunes"], format: .fortunes)
/// let text = corpus.text()          // quotes joined by "\n\n"
/// ```
public struct TextCorpus: Sendable {
    /// Default limit on the total bytes read (256 MiB).
    public static let defaultMaxBytes = 256 << 20
    /// Default separator placed between documents by ``text(separator:)``.
    public static let defaultSeparator = "\n\n"

    /// The documents, in file order and then in order within each file.
    public let documents: [String]
    /// The files read, in order.
    public let files: [String]
    /// Files found in directories but left out (binary, empty, fortune indexes), with reasons.
    public let skipped: [CorpusFiles.Skipped]

    /// Reads the corpus at `paths` (files and directories, see ``CorpusFiles/expand(_:)``).
    /// - Throws: ``DataError/corpus(_:)`` for a missing path, an unreadable or binary file named explicitly,
    ///   a corpus past `maxBytes`, or a corpus without any text.
    public init(paths: [String], format: CorpusFormat = .plain, maxBytes: Int = TextCorpus.defaultMaxBytes) throws {
        guard !paths.isEmpty else { throw DataError.corpus("corpus: no paths given") }
        guard maxBytes > 0 else { throw DataError.corpus("Invalid 'maxBytes': expected a positive number, got \(maxBytes)") }
        let named = Set(paths)
        let (candidates, found) = try CorpusFiles.expand(paths)
        var skipped = found
        var docs: [String] = [], files: [String] = []
        var total = 0
        for path in candidates {
            let read: Result<String, CorpusFiles.Skipped>
            do {
                read = try CorpusFiles.readText(path, limit: maxBytes - total)
            } catch DataError.corpus(let m) where m.hasPrefix("corpus: too large") {
                throw DataError.corpus("corpus: too large: more than maxBytes = \(maxBytes) bytes (reached at \(path)); raise maxBytes")
            }
            switch read {
            case .failure(let why):
                if named.contains(path) { throw DataError.corpus("corpus: not a text file: \(path) (\(why.reason))") }
                skipped.append(why)
            case .success(let text):
                total += text.utf8.count
                let parts = format == .fortunes ? Fortunes.split(text) : (Self.hasText(text) ? [text] : [])
                if parts.isEmpty {
                    if named.contains(path) { throw DataError.corpus("corpus: empty file: \(path)") }
                    skipped.append(CorpusFiles.Skipped(path: path, reason: "no text"))
                    continue
                }
                files.append(path)
                docs.append(contentsOf: parts)
            }
        }
        guard !docs.isEmpty else {
            throw DataError.corpus("corpus: empty: no text found in \(paths.joined(separator: ", "))")
        }
        self.documents = docs
        self.files = files
        self.skipped = skipped
    }

    /// The documents joined by `separator`.
    public func text(separator: String = TextCorpus.defaultSeparator) -> String {
        documents.joined(separator: separator)
    }

    /// Reads `paths` and returns the joined text (a shortcut for `TextCorpus(...).text(separator:)`).
    public static func read(
        _ paths: [String], format: CorpusFormat = .plain, separator: String = defaultSeparator,
        maxBytes: Int = defaultMaxBytes
    ) throws -> String {
        try TextCorpus(paths: paths, format: format, maxBytes: maxBytes).text(separator: separator)
    }

    /// True when `s` has a byte other than ASCII whitespace.
    static func hasText<S: StringProtocol>(_ s: S) -> Bool {
        s.utf8.contains { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D && $0 != 0x0B && $0 != 0x0C }
    }
}
