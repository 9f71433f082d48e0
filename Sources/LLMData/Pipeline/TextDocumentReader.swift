// TextDocumentReader: plain-text files and folders (gzip or not) as documents, one per file, per line
// or per separator line (the `%` lines of fortune files; same cut as `Fortunes.split`). Folders expand
// like `TextCorpus` (sorted, hidden and `.dat` files skipped). Lines stream with bounded memory; blank
// documents are skipped (counted as notes); NUL bytes, too-long lines or files and invalid UTF-8 (under
// the `reject` policy) become counted rejections. Ids: `path` (file), `path:line` (line, separator).

/// How text files are cut into documents.
public enum TextSplit: String, CaseIterable, Sendable {
    /// Each file is one document.
    case file
    /// Each non-blank line is one document.
    case line
    /// Lines up to a line equal to the separator form one document (fortune files: `%`).
    case separator

    /// Parses a Lua-facing name; the error lists the choices.
    public static func parse(_ name: String) throws -> TextSplit {
        if let s = TextSplit(rawValue: name) { return s }
        throw DataError.corpus("Invalid 'split': expected one of 'file', 'line', 'separator', got '\(name)'")
    }
}

/// Reads plain-text files as documents.
///
/// ```swift
/// let r = try TextDocumentReader(paths: ["/usr/share/games/fortunes"], split: .separator)
/// while let item = try r.next() { ... }
/// ```
public final class TextDocumentReader: DocumentReader {
    /// Options of a text reader.
    public struct Options: Sendable {
        public var split: TextSplit = .file
        /// The separator line for `.separator` (matched after dropping a trailing '\r').
        public var separator = "%"
        public var invalidUTF8: InvalidUTF8Policy = .repair
        /// Longest line (and, for `.file`, longest file) accepted; longer ones are rejected.
        public var maxBytes = 256 << 20
        public init() {}
    }

    public let name: String
    public private(set) var notes: [String: Int] = [:]
    public var bytesRead: Int { cursor.bytesRead }
    let options: Options
    private let cursor: FileCursor
    private var lines: LineReader?
    private let sepBytes: [UInt8]

    /// - Throws: ``DataError/corpus(_:)`` for no paths, a missing path or a bad option.
    public init(paths: [String], options: Options = Options()) throws {
        guard options.maxBytes > 0 else { throw DataError.corpus("Invalid 'maxBytes': expected a positive integer, got \(options.maxBytes)") }
        guard !options.separator.isEmpty, !options.separator.contains("\n") else {
            throw DataError.corpus("Invalid 'separator': expected a non-empty line without line breaks, got '\(options.separator)'")
        }
        self.options = options
        sepBytes = Array(options.separator.utf8)
        cursor = try FileCursor(paths: paths)
        name = "read text (\(options.split.rawValue))"
    }

    /// Convenience: split by `split`.
    public convenience init(paths: [String], split: TextSplit) throws {
        var o = Options(); o.split = split
        try self.init(paths: paths, options: o)
    }

    public func next() throws -> ReadItem? {
        while true {
            if !cursor.pending.isEmpty { return cursor.pending.removeFirst() }
            if cursor.current == nil {
                guard let input = try cursor.openNext() else {
                    if !cursor.pending.isEmpty { continue }
                    return nil
                }
                if options.split == .file {
                    if let item = readFile(input) { cursor.close(); return item }
                    cursor.close()
                    continue
                }
                lines = LineReader(input, maxLineBytes: options.maxBytes)
            }
            guard let lr = lines, let path = cursor.current?.path else { continue }
            do {
                if let item = try (options.split == .line ? nextLine(lr, path) : nextSection(lr, path)) { return item }
            } catch let e as DataError {
                cursor.close(); lines = nil
                return .rejected(Document(text: "", id: "\(path):\(lr.lineNumber + 1)", meta: ["source": path]), reason: "unreadable: " + e.description)
            }
            cursor.close(); lines = nil
        }
    }

    private func note(_ what: String) { notes[what, default: 0] += 1 }

    /// Builds a document from bytes, applying the UTF-8 policy.
    private func make<C: Collection>(_ bytes: C, id: String, path: String) -> ReadItem where C.Element == UInt8 {
        let (text, repaired) = decodeUTF8(bytes)
        let doc = Document(text: text, id: id, meta: ["source": path])
        if repaired {
            if options.invalidUTF8 == .reject { return .rejected(doc, reason: "invalid UTF-8") }
            note("invalid UTF-8 repaired")
        }
        return .document(doc)
    }

    private func readFile(_ input: DocumentInput) -> ReadItem? {
        let path = input.path
        let bytes: [UInt8]
        do {
            guard let b = try input.readAll(limit: options.maxBytes) else {
                return .rejected(Document(text: "", id: path, meta: ["source": path]), reason: "file larger than maxBytes (\(options.maxBytes))")
            }
            bytes = b
        } catch let e as DataError {
            return .rejected(Document(text: "", id: path, meta: ["source": path]), reason: "unreadable: " + e.description)
        } catch { return .rejected(Document(text: "", id: path, meta: ["source": path]), reason: "unreadable: \(error)") }
        if bytes.contains(0) {
            return .rejected(Document(text: "", id: path, meta: ["source": path]), reason: "binary file (contains NUL bytes)")
        }
        guard TextCorpus.hasText(String(decoding: bytes, as: UTF8.self)) else { note("empty file"); return nil }
        return make(bytes, id: path, path: path)
    }

    /// The rejection of a line over maxBytes (reported with its line number).
    private func tooLong(_ lr: LineReader, _ path: String, _ n: Int) -> ReadItem {
        .rejected(
            Document(text: "", id: "\(path):\(lr.lineNumber)", meta: ["source": path]),
            reason: "line longer than maxBytes (\(n) > \(options.maxBytes))")
    }

    private func nextLine(_ lr: LineReader, _ path: String) throws -> ReadItem? {
        while let line = try lr.next() {
            switch line {
            case .tooLong(let n):
                return tooLong(lr, path, n)
            case .bytes(let b):
                guard b.contains(where: { !isSpace($0) }) else { note("blank line"); continue }
                return make(b, id: "\(path):\(lr.lineNumber)", path: path)
            }
        }
        return nil
    }

    private func nextSection(_ lr: LineReader, _ path: String) throws -> ReadItem? {
        var doc: [UInt8] = []
        var firstLine = 0
        func finish() -> ReadItem? {
            while let last = doc.last, last == 0x0A || last == 0x0D { doc.removeLast() }
            defer { doc = [] }
            guard doc.contains(where: { !isSpace($0) }) else { if firstLine > 0 { note("blank document") }; return nil }
            return make(doc, id: "\(path):\(firstLine)", path: path)
        }
        while let line = try lr.next() {
            switch line {
            case .tooLong(let n):
                return tooLong(lr, path, n)
            case .bytes(let b):
                if b == sepBytes {
                    if let item = finish() { return item }
                    firstLine = 0
                    continue
                }
                if firstLine == 0 { firstLine = lr.lineNumber } else { doc.append(0x0A) }
                doc.append(contentsOf: b)
                guard doc.count <= options.maxBytes else {
                    doc = []; firstLine = 0
                    return .rejected(
                        Document(text: "", id: "\(path):\(lr.lineNumber)", meta: ["source": path]),
                        reason: "document longer than maxBytes (\(options.maxBytes))")
                }
            }
        }
        return finish()
    }

    private func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C }
}
