// JSONLReader: JSON Lines files and folders (gzip or not), one document per line. The text comes from
// `textField` (then `fallbackFields`, then the `fill` rule); other members go to meta (strings as is,
// other values as their JSON text; a `meta` object is flattened, so our own output reads back as it
// was written). Counted rejections, with `path:line` ids: a line that is not JSON or not an object,
// a missing/empty/non-string text, invalid UTF-8 under `reject`, a line longer than `maxLineBytes`.
import LLMFormats

/// Reads JSON Lines documents.
///
/// ```swift
/// var o = JSONLReader.Options(); o.textField = "content"
/// let r = try JSONLReader(paths: ["data.jsonl.gz"], options: o)
/// ```
public final class JSONLReader: DocumentReader {
    /// Options of a JSONL reader.
    public struct Options {
        /// The member holding the text.
        public var textField = "text"
        /// The member holding the id (a string or number); `path:line` when absent.
        public var idField = "id"
        /// Members tried in order when `textField` is missing, empty or not a string.
        public var fallbackFields: [String] = []
        /// A last rule for records without text: gets the record as a document (meta = members,
        /// text empty) and returns the text, or nil to reject it. Runs on the reading thread.
        public var fill: ((Document) throws -> String?)? = nil
        public var invalidUTF8: InvalidUTF8Policy = .repair
        /// Longest line accepted (default 256 MiB); longer lines are rejected without being held.
        public var maxLineBytes = 256 << 20
        public init() {}
    }

    public let name = "read jsonl"
    public private(set) var notes: [String: Int] = [:]
    public var bytesRead: Int { cursor.bytesRead }
    let options: Options
    private let cursor: FileCursor
    private var lines: LineReader?

    /// - Throws: ``DataError/corpus(_:)`` for no paths, a missing path or a bad option.
    public init(paths: [String], options: Options = Options()) throws {
        guard options.maxLineBytes > 0 else {
            throw DataError.corpus("Invalid 'maxLineBytes': expected a positive integer, got \(options.maxLineBytes)")
        }
        guard !options.textField.isEmpty else { throw DataError.corpus("Invalid 'textField': expected a non-empty string, got ''") }
        self.options = options
        cursor = try FileCursor(paths: paths)
    }

    public func next() throws -> ReadItem? {
        while true {
            if !cursor.pending.isEmpty { return cursor.pending.removeFirst() }
            if lines == nil {
                guard let input = try cursor.openNext() else {
                    if !cursor.pending.isEmpty { continue }
                    return nil
                }
                lines = LineReader(input, maxLineBytes: options.maxLineBytes)
            }
            guard let lr = lines, let path = cursor.current?.path else { lines = nil; continue }
            let line: LineReader.Line?
            do { line = try lr.next() } catch let e as DataError {
                cursor.close(); lines = nil
                return .rejected(Document(text: "", id: "\(path):\(lr.lineNumber + 1)", meta: ["source": path]), reason: "unreadable: " + e.description)
            }
            guard let line else { cursor.close(); lines = nil; continue }
            let id = "\(path):\(lr.lineNumber)"
            switch line {
            case .tooLong(let n):
                return .rejected(
                    Document(text: "", id: id, meta: ["source": path]),
                    reason: "line longer than maxLineBytes (\(n) > \(options.maxLineBytes))")
            case .bytes(let b):
                if b.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { notes["blank line", default: 0] += 1; continue }
                return try record(b, id: id, path: path)
            }
        }
    }

    /// Turns one line into a document or a rejection.
    private func record(_ raw: [UInt8], id: String, path: String) throws -> ReadItem {
        var bytes = raw
        let (text, repaired) = decodeUTF8(raw)
        if repaired {
            if options.invalidUTF8 == .reject {
                return .rejected(Document(text: text, id: id, meta: ["source": path]), reason: "invalid UTF-8")
            }
            notes["invalid UTF-8 repaired", default: 0] += 1
            bytes = Array(text.utf8)
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes, maxDepth: 64) } catch {
            return .rejected(Document(text: text, id: id, meta: ["source": path]), reason: "not JSON: \(error)")
        }
        guard let members = value.members else {
            return .rejected(Document(text: text, id: id, meta: ["source": path]), reason: "not a JSON object (\(value.kindName))")
        }
        var meta: [String: String] = [:]
        var docId = id
        var body: JSONValue? = nil
        for m in members {
            if m.key == options.textField { body = m.value; continue }
            if m.key == options.idField, let s = m.value.string ?? m.value.int.map({ String($0) }) { docId = s; continue }
            if m.key == "meta", let inner = m.value.members {
                for im in inner { meta[im.key] = Self.metaText(im.value) }
                continue
            }
            meta[m.key] = Self.metaText(m.value)
        }
        if let s = body?.string, !s.isEmpty { return .document(Document(text: s, id: docId, meta: meta)) }
        let problem: String
        switch body {
        case nil: problem = "missing field '\(options.textField)'"
        case .string?: problem = "empty field '\(options.textField)'"
        case let v?: problem = "field '\(options.textField)' is \(v.kindName), expected a string"
        }
        for f in options.fallbackFields {
            if let s = value[f]?.string, !s.isEmpty {
                notes["text from '\(f)'", default: 0] += 1
                return .document(Document(text: s, id: docId, meta: meta))
            }
        }
        if let fill = options.fill, let s = try fill(Document(text: "", id: docId, meta: meta)), !s.isEmpty {
            notes["text filled by rule", default: 0] += 1
            return .document(Document(text: s, id: docId, meta: meta))
        }
        return .rejected(Document(text: text, id: docId, meta: meta), reason: problem)
    }

    /// A meta value: strings as they are, anything else as its compact JSON text.
    static func metaText(_ v: JSONValue) -> String {
        if let s = v.string { return s }
        return (try? JSONWriter.string(v)) ?? "null"
    }
}
