// DocumentInput: byte-level input for the document readers. `DocumentInput` reads a file through
// zlib's gzread, so gzip-compressed files (detected by their magic bytes, any name) and plain files
// read the same way; corrupt or truncated gzip data is a thrown DataError naming the file. `LineReader`
// splits the stream at '\n' (a trailing '\r' is dropped) with bounded memory: a line longer than
// `maxLineBytes` is skipped to its end and reported as `.tooLong(bytes)`.
import CZlib
import Foundation
import LLMIO

/// A file opened for reading, decompressed when it holds gzip data.
final class DocumentInput {
    let path: String
    private var file: gzFile?
    /// Bytes delivered so far (after decompression).
    private(set) var bytesRead = 0

    /// Opens `path`. - Throws: ``DataError/corpus(_:)`` when it cannot be opened.
    init(path: String) throws {
        self.path = path
        guard CorpusFiles.kind(of: path) != .directory else { throw DataError.corpus("read: \(path) is a directory") }
        let fd: Int32
        do { fd = try Files.open(path, O_RDONLY, what: "read") } catch let e as FileError {
            throw DataError.corpus(e.denied ? e.message : "read: cannot read \(path): \(String(cString: strerror(e.code)))")
        }
        guard let f = gzdopen(fd, "rb") else { close(fd); throw DataError.corpus("read: cannot read \(path): cannot open") }
        file = f
        _ = gzbuffer(f, 256 << 10)
    }

    deinit { if let f = file { gzclose_r(f) } }

    /// Reads up to `buffer.count` bytes; 0 at the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let f = file, let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let n = gzread(f, base, UInt32(min(buffer.count, 1 << 30)))
        var code: Int32 = 0
        let msg = gzerror(f, &code)
        if n < 0 || (code != Z_OK && code != Z_STREAM_END) {
            let text = msg.map { String(cString: $0) } ?? "error \(code)"
            throw DataError.corpus("read: \(path): \(code == Z_ERRNO ? String(cString: strerror(errno)) : "corrupt gzip data (\(text))") after \(bytesRead) bytes")
        }
        bytesRead += Int(n)
        return Int(n)
    }

    /// Reads the whole (decompressed) file, at most `limit` bytes; nil when it is longer.
    func readAll(limit: Int) throws -> [UInt8]? {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return out }
            guard out.count + n <= limit else { return nil }
            out.append(contentsOf: chunk[0..<n])
        }
    }
}

/// Splits a ``DocumentInput`` into lines.
final class LineReader {
    enum Line {
        /// The bytes of one line, without its '\n' (and '\r').
        case bytes([UInt8])
        /// A line of `count` bytes, over the limit: skipped.
        case tooLong(Int)
    }

    let input: DocumentInput
    let maxLineBytes: Int
    private var buffer: [UInt8]
    private var start = 0, end = 0, eof = false
    /// 1-based number of the line last returned.
    private(set) var lineNumber = 0

    init(_ input: DocumentInput, maxLineBytes: Int, chunkBytes: Int = 1 << 20) {
        self.input = input
        self.maxLineBytes = max(maxLineBytes, 1)
        buffer = [UInt8](repeating: 0, count: max(chunkBytes, 16))
    }

    /// The next line; nil at the end of the input (a final line without '\n' is returned too).
    func next() throws -> Line? {
        var long: [UInt8] = []  // pieces of a line longer than the buffer
        var longCount = 0  // its length so far (counted even when over the limit)
        while true {
            if let nl = findNewline() {
                let piece = nl - start
                defer { start = nl + 1 }
                lineNumber += 1
                longCount += piece
                if longCount > maxLineBytes { return .tooLong(longCount) }
                long.append(contentsOf: buffer[start..<nl])
                if long.last == 0x0D { long.removeLast() }
                return .bytes(long)
            }
            // no newline in the buffered bytes: keep them (if under the limit) and refill
            let piece = end - start
            if piece > 0 {
                longCount += piece
                if longCount <= maxLineBytes { long.append(contentsOf: buffer[start..<end]) } else { long = [] }
            }
            start = 0; end = 0
            let filled = eof ? 0 : try fill()
            if filled == 0 {
                eof = true
                guard longCount > 0 else { return nil }
                lineNumber += 1
                if longCount > maxLineBytes { return .tooLong(longCount) }
                if long.last == 0x0D { long.removeLast() }
                return .bytes(long)
            }
        }
    }

    private func findNewline() -> Int? {
        guard start < end else { return nil }
        return buffer.withUnsafeBytes { b -> Int? in
            guard let p = memchr(b.baseAddress! + start, 0x0A, end - start) else { return nil }
            return UnsafeRawPointer(p) - b.baseAddress!
        }
    }

    private func fill() throws -> Int {
        let n = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
        end = n
        return n
    }
}
