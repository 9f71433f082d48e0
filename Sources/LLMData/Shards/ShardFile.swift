// ShardFile: one binary token shard. Layout (little-endian):
//   header (64 bytes): magic "LLMSHARD", version u32 = 1, token width u32 (2 = u16, 4 = u32),
//   token count u64, document count u64, vocab size u64, reserved (zeros)
//   tokens: count × width bytes
//   index: (documents + 1) × u64 token offsets (0 ... count), document i = tokens[off[i] ..< off[i+1]]
// Writing is atomic (temp file + fsync + rename). Reading memory-maps the file and treats it as hostile:
// every size and offset is checked before use, with errors that name the file.
import Foundation
import LLMCore
import LLMIO

#if canImport(Glibc)
    import Glibc
#endif

/// A memory-mapped, validated token shard.
public final class ShardFile: @unchecked Sendable {
    static let magic: [UInt8] = Array("LLMSHARD".utf8)
    static let headerSize = 64

    public let path: String
    /// Bytes per token: 2 (u16) or 4 (u32).
    public let width: Int
    public let tokenCount: Int
    public let documentCount: Int
    public let vocabSize: Int
    private let base: UnsafeRawPointer
    private let map: MappedFile

    /// Maps and validates the shard at `path`.
    public init(path: String) throws {
        func bad(_ m: String) -> DataError { .batch("shard '\(path)': \(m)") }
        let map: MappedFile
        do { map = try MappedFile(path, what: "shard") } catch let e as FileError {
            if e.denied { throw DataError.batch(e.message) }
            throw bad(e.code != 0 ? "cannot open: \(String(cString: strerror(e.code)))" : "not a regular file")
        }
        let size = map.bytes.count
        guard size >= ShardFile.headerSize, let raw = map.bytes.baseAddress else {
            throw bad("truncated: \(size) bytes is shorter than the 64-byte header")
        }
        func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        do {  // the map is released with `map` when a check fails
            guard (0..<8).allSatisfy({ raw.load(fromByteOffset: $0, as: UInt8.self) == ShardFile.magic[$0] }) else {
                throw bad("not a token shard (bad magic)")
            }
            guard u32(8) == 1 else { throw bad("unsupported version \(u32(8)) (this llmscript reads version 1)") }
            let w = Int(u32(12))
            guard w == 2 || w == 4 else { throw bad("unsupported token width \(w) bytes (expected 2 or 4)") }
            let count = u64(16), docs = u64(24), vocab = u64(32)
            guard count <= UInt64(maxElementCount), docs <= count + 1, vocab <= UInt64(UInt32.max) + 1 else {
                throw bad("implausible header (tokens \(count), documents \(docs), vocab \(vocab))")
            }
            let dataEnd = ShardFile.headerSize + Int(count) * w
            let (indexBytes, o1) = (Int(docs) + 1).multipliedReportingOverflow(by: 8)
            guard !o1, dataEnd + indexBytes == size else {
                throw bad("size \(size) bytes does not match its header (\(count) tokens of \(w) bytes and \(docs) documents need \(dataEnd + indexBytes))")
            }
            var previous: UInt64 = 0
            for i in 0...Int(docs) {
                let off = u64(dataEnd + i * 8)
                guard off >= previous, off <= count, (i > 0 || off == 0), (i < Int(docs) || off == count) else {
                    throw bad("corrupt document index at entry \(i)")
                }
                previous = off
            }
            width = w; tokenCount = Int(count); documentCount = Int(docs); vocabSize = Int(vocab)
        }
        self.path = path
        base = raw
        self.map = map
    }

    /// The token at position `i` (0 ≤ i < tokenCount, checked by callers).
    @inline(__always) public func token(_ i: Int) -> Int64 {
        let o = ShardFile.headerSize + i * width
        return width == 2
            ? Int64(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: o, as: UInt16.self)))
            : Int64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
    }

    /// Copies tokens [start, start + n) into `out` as int64.
    func copy(from start: Int, count n: Int, into out: UnsafeMutablePointer<Int64>) {
        for k in 0..<n { out[k] = token(start + k) }
    }

    /// Writes a shard atomically. `documents` are token arrays; ids must be < vocabSize.
    public static func write(path: String, documents: [[Int]], vocabSize: Int) throws {
        func bad(_ m: String) -> DataError { .batch("shard '\(path)': \(m)") }
        guard vocabSize > 0, vocabSize <= Int(UInt32.max) + 1 else { throw bad("vocabSize must be in 1...2^32, got \(vocabSize)") }
        let w = vocabSize <= 65536 ? 2 : 4
        let count = documents.reduce(0) { $0 + $1.count }
        var data = Data(capacity: headerSize + count * w + (documents.count + 1) * 8)
        data.append(contentsOf: magic)
        func put32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        func put64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        put32(1); put32(UInt32(w)); put64(UInt64(count)); put64(UInt64(documents.count)); put64(UInt64(vocabSize))
        data.append(contentsOf: [UInt8](repeating: 0, count: headerSize - data.count))
        for doc in documents {
            for t in doc {
                guard t >= 0, t < vocabSize else { throw bad("token id \(t) is out of range for vocabSize \(vocabSize)") }
                if w == 2 { withUnsafeBytes(of: UInt16(t).littleEndian) { data.append(contentsOf: $0) } } else { put32(UInt32(t)) }
            }
        }
        var off: UInt64 = 0
        put64(0)
        for doc in documents { off += UInt64(doc.count); put64(off) }
        try writeAtomically(data, to: path)
    }

    /// Writes `data` atomically (LLMIO.AtomicFile: temp file in the same folder, fsync, rename, folder fsync).
    static func writeAtomically(_ data: Data, to path: String) throws {
        do { try Files.writeAtomically(path, what: "shard '\(path)'") { w in try data.withUnsafeBytes { try w.write($0) } } } catch let e as FileError {
            throw DataError.batch(e.message)
        }
    }
}
