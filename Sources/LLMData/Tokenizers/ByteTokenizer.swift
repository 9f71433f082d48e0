// ByteTokenizer: 256 ids, one per UTF-8 byte. Encoding never fails (any byte string is valid input);
// decoding turns the bytes back into text, replacing invalid or truncated UTF-8 (a window that cuts a
// character in half) with U+FFFD instead of failing. Serializes as {type="byte"}.
import LLMCore

/// Byte-level tokenizer: id = byte value.
///
/// ```swift
/// let tok = ByteTokenizer()
/// let ids = try tok.encode("é")        // [195, 169]
/// try tok.decode([195])                // "\u{FFFD}" (a partial character)
/// ```
public final class ByteTokenizer: Tokenizer {
    public static let kind = "byte"
    public var vocabSize: Int { 256 }

    public init() {}

    /// Rebuilds a tokenizer from ``toJSONObject()``'s dictionary.
    public convenience init(jsonObject o: [String: any Sendable]) throws { self.init() }

    public func encode(utf8 bytes: UnsafeBufferPointer<UInt8>) throws -> Tensor {
        try Self.int64Tensor(count: bytes.count) { out in
            for (i, b) in bytes.enumerated() { out[i] = Int64(b) }
        }
    }

    public func decode(_ ids: [Int]) throws -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() {
            try Self.checkRange(id, at: i, vocab: 256)
            bytes.append(UInt8(id))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func toJSONObject() -> [String: any Sendable] { ["type": Self.kind] }
}
