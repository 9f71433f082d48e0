// DocumentReader: the source end of a `Pipeline`. A reader yields documents and counted rejections
// (a bad line or file is never a crash and never silently lost: it goes to the rejects file with the
// reason). Readers run on the pipeline's calling thread, in order. Shared here: the invalid-UTF-8
// policy, the per-file loop with its error rule (a file named explicitly that cannot be opened is a
// thrown error; one found in a folder, or failing mid-way, becomes a rejection), and `ArrayReader`.

/// One item from a reader.
public enum ReadItem: Sendable {
    /// A document to process.
    case document(Document)
    /// A record the reader could not turn into a document: counted and written to the rejects file.
    /// `document` holds what was readable (the raw line, a path) for inspection.
    case rejected(Document, reason: String)
}

/// A source of documents for a ``Pipeline``.
public protocol DocumentReader: AnyObject {
    /// A short name for the report (`"read jsonl"`).
    var name: String { get }
    /// The next item; nil at the end. Throws only for errors that stop the whole run.
    func next() throws -> ReadItem?
    /// Bytes read from the inputs so far (after decompression).
    var bytesRead: Int { get }
    /// Counted events that are not drops (`"invalid UTF-8 repaired"`, `"empty file"`).
    var notes: [String: Int] { get }
}

/// What a reader does with bytes that are not valid UTF-8.
public enum InvalidUTF8Policy: String, CaseIterable, Sendable {
    /// Replace each bad sequence with U+FFFD and keep the document (counted as a note).
    case repair
    /// Reject the document (counted; its repaired text goes to the rejects file).
    case reject

    /// Parses a Lua-facing name; the error lists the choices.
    public static func parse(_ name: String) throws -> InvalidUTF8Policy {
        if let p = InvalidUTF8Policy(rawValue: name) { return p }
        throw DataError.corpus("Invalid 'invalidUTF8': expected one of 'repair', 'reject', got '\(name)'")
    }
}

/// Decodes `bytes` as UTF-8: the text and whether it had to be repaired.
func decodeUTF8<C: Collection>(_ bytes: C) -> (text: String, repaired: Bool) where C.Element == UInt8 {
    if let s = String(validating: bytes, as: UTF8.self) { return (s, false) }
    return (String(decoding: bytes, as: UTF8.self), true)
}

/// The file loop shared by the file-based readers: expands paths, opens each file in turn, and turns
/// failures into rejections or errors.
final class FileCursor {
    let files: [String]
    let named: Set<String>
    private var index = 0
    /// Items produced while expanding (unreadable folder entries), delivered first.
    var pending: [ReadItem] = []
    private(set) var closedBytes = 0
    var current: DocumentInput?

    init(paths: [String]) throws {
        guard !paths.isEmpty else { throw DataError.corpus("read: no paths given") }
        let (files, skipped) = try CorpusFiles.expand(paths)
        self.files = files
        named = Set(paths)
        for s in skipped where !s.reason.hasPrefix("fortune index") {
            pending.append(.rejected(Document(text: "", id: s.path, meta: ["source": s.path]), reason: s.reason))
        }
    }

    var bytesRead: Int { closedBytes + (current?.bytesRead ?? 0) }

    /// Opens the next file; nil when done. A file found in a folder that cannot be opened is queued
    /// in `pending` as a rejection and skipped.
    func openNext() throws -> DocumentInput? {
        close()
        while index < files.count {
            let path = files[index]
            index += 1
            do {
                current = try DocumentInput(path: path)
                return current
            } catch let e as DataError {
                if named.contains(path) { throw e }
                pending.append(.rejected(Document(text: "", id: path, meta: ["source": path]), reason: "unreadable: " + e.description))
            }
        }
        return nil
    }

    func close() {
        if let c = current { closedBytes += c.bytesRead }
        current = nil
    }
}

/// Documents from memory (tests, small lists from Lua).
///
/// ```swift
/// let reader = ArrayReader([Document(text: "a", id: "1")])
/// ```
public final class ArrayReader: DocumentReader {
    public let name: String
    private let items: [ReadItem]
    private var index = 0
    public private(set) var bytesRead = 0
    public let notes: [String: Int] = [:]

    /// A reader over `documents`, in order.
    public init(_ documents: [Document], name: String = "read list") {
        self.items = documents.map { .document($0) }
        self.name = name
    }

    /// A reader over prepared items (documents and rejections).
    public init(items: [ReadItem], name: String = "read list") {
        self.items = items
        self.name = name
    }

    public func next() throws -> ReadItem? {
        guard index < items.count else { return nil }
        defer { index += 1 }
        if case .document(let d) = items[index] { bytesRead += d.text.utf8.count }
        return items[index]
    }
}
