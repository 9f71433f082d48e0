// JSONLWriter: the sink end of a `Pipeline`, and the rejects file. Output is atomic: records go to a
// temporary file next to the destination (`.name.tmp-PID-N`), which `finish()` flushes, fsyncs and
// renames over the destination; `abort()` (or deinit without finish) removes it, so a failed run leaves
// the destination as it was. A path ending in `.gz` is gzip-compressed. Record: {"id","text","meta"}
// (+ "stage","reason" for rejects); meta values are strings, read back unchanged by `JSONLReader`.
import CZlib
import Foundation
import LLMIO
import LLMFormats
import Synchronization

/// A sink for documents.
public protocol DocumentWriter: AnyObject {
    /// A short name for the report (`"write jsonl"`).
    var name: String { get }
    /// Writes one document.
    func write(_ doc: Document) throws
    /// Completes the output (atomically publishes it).
    func finish() throws
    /// Discards the output; the destination is left as it was.
    func abort()
    /// Bytes written so far (before compression).
    var bytesWritten: Int { get }
}

/// Writes documents as JSON Lines, atomically.
///
/// ```swift
/// let w = try JSONLWriter(path: "out.jsonl")
/// try w.write(Document(text: "hi", id: "1")); try w.finish()
/// ```
public final class JSONLWriter: DocumentWriter {
    public let name: String
    /// The destination path.
    public let path: String
    /// The member name used for the text.
    public let textField: String
    /// The temporary sibling being written (LLMIO.AtomicFile: fsync, rename and folder fsync on finish).
    private let file: AtomicFile
    private var fd: Int32 = -1
    private var gz: gzFile?
    private var buffer: [UInt8] = []
    private var done = false
    public private(set) var bytesWritten = 0
    /// Documents written so far.
    public private(set) var count = 0

    /// Creates the temporary file next to `path`.
    /// - Throws: ``DataError/corpus(_:)`` when the folder does not exist or is not writable.
    public init(path: String, textField: String = "text", name: String = "write jsonl") throws {
        guard !path.isEmpty else { throw DataError.corpus("write: empty output path") }
        guard !textField.isEmpty else { throw DataError.corpus("Invalid 'textField': expected a non-empty string, got ''") }
        if CorpusFiles.kind(of: path) == .directory { throw DataError.corpus("write: \(path) is a directory") }
        self.path = path
        self.textField = textField
        self.name = name
        do { file = try AtomicFile(path, what: "write") } catch let e as FileError { throw DataError.corpus(e.message) }
        fd = file.writer.fd
        if path.hasSuffix(".gz") {
            guard let g = gzdopen(dup(fd), "wb6") else {
                abort()
                throw DataError.corpus("write: cannot start gzip output for \(path)")
            }
            gz = g
        }
        buffer.reserveCapacity(1 << 20)
    }

    deinit { if !done { abort() } }

    public func write(_ doc: Document) throws {
        try writeRecord(doc, extra: [])
    }

    /// Writes `doc` with extra string members after the standard ones (the rejects file's stage, reason).
    public func writeRecord(_ doc: Document, extra: [(String, String)]) throws {
        guard !done else { throw DataError.corpus("write: \(path) is already finished") }
        buffer.append(UInt8(ascii: "{"))
        JSONWriter.escape("id", &buffer); buffer.append(UInt8(ascii: ":")); JSONWriter.escape(doc.id, &buffer)
        buffer.append(UInt8(ascii: ","))
        JSONWriter.escape(textField, &buffer); buffer.append(UInt8(ascii: ":")); JSONWriter.escape(doc.text, &buffer)
        if !doc.meta.isEmpty {
            buffer.append(contentsOf: Array(#","meta":{"#.utf8))
            for (k, key) in doc.meta.keys.sorted().enumerated() {
                if k > 0 { buffer.append(UInt8(ascii: ",")) }
                JSONWriter.escape(key, &buffer); buffer.append(UInt8(ascii: ":")); JSONWriter.escape(doc.meta[key] ?? "", &buffer)
            }
            buffer.append(UInt8(ascii: "}"))
        }
        for (k, v) in extra {
            buffer.append(UInt8(ascii: ","))
            JSONWriter.escape(k, &buffer); buffer.append(UInt8(ascii: ":")); JSONWriter.escape(v, &buffer)
        }
        buffer.append(contentsOf: [UInt8(ascii: "}"), 0x0A])
        count += 1
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        defer { buffer.removeAll(keepingCapacity: true) }
        bytesWritten += buffer.count
        try buffer.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n: Int
                if let g = gz {
                    n = Int(gzwrite(g, b.baseAddress! + off, UInt32(min(b.count - off, 1 << 30))))
                    if n <= 0 { throw DataError.corpus("write: \(path): gzip write failed") }
                } else {
                    n = Foundation.write(fd, b.baseAddress! + off, b.count - off)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw DataError.corpus("write: \(path): \(String(cString: strerror(errno)))")
                    }
                }
                off += n
            }
        }
    }

    public func finish() throws {
        guard !done else { return }
        do {
            try flush()
            if let g = gz {
                gz = nil
                guard gzclose_w(g) == Z_OK else { throw DataError.corpus("write: \(path): gzip close failed") }
            }
            fd = -1
            do { try file.commit() } catch let e as FileError { throw DataError.corpus(e.message) }
            done = true
        } catch { abort(); throw error }
    }

    public func abort() {
        if let g = gz { gzclose_w(g); gz = nil }
        fd = -1
        if !done { file.abort() }
        done = true
    }
}

/// The rejects file: every dropped document with the stage that dropped it and the reason.
public final class RejectsWriter {
    let writer: JSONLWriter
    /// Documents written so far.
    public var count: Int { writer.count }
    /// The destination path.
    public var path: String { writer.path }

    /// - Throws: like ``JSONLWriter/init(path:textField:name:)``.
    public init(path: String) throws { writer = try JSONLWriter(path: path, name: "rejects") }

    /// Records `doc` as dropped by `stage` for `reason`.
    public func write(_ doc: Document, stage: String, reason: String) throws {
        try writer.writeRecord(doc, extra: [("stage", stage), ("reason", reason)])
    }
    public func finish() throws { try writer.finish() }
    public func abort() { writer.abort() }
}
