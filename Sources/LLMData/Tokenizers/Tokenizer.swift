// Tokenizer: the interface shared by the character-level, byte-level and BPE tokenizers.
// Ids are 0-based. encode returns a 1-D int64 Tensor; decode accepts ids as Ints or an integer Tensor of
// any shape (row-major). A tokenizer serializes to a JSON-compatible dictionary with a "type" key, so a
// checkpoint can store it; `TokenizerCoding.decode` rebuilds the right tokenizer from such a dictionary.
import LLMCore

/// A text <-> token-id mapping.
///
/// ```swift
/// let tok: any Tokenizer = try CharTokenizer(training: "hello")
/// let ids = try tok.encode("hell")          // int64 [1, 0, 2, 2] ... shape [4]
/// let text = try tok.decode(ids)            // "hell"
/// ```
public protocol Tokenizer: AnyObject, Sendable {
    /// The serialized `"type"` value (`"char"`, `"byte"`).
    static var kind: String { get }
    /// Number of ids; valid ids are `0..<vocabSize`.
    var vocabSize: Int { get }
    /// Encodes UTF-8 bytes (which need not be valid UTF-8 for every tokenizer) into a 1-D int64 tensor.
    func encode(utf8: UnsafeBufferPointer<UInt8>) throws -> Tensor
    /// Decodes ids into text.
    func decode(_ ids: [Int]) throws -> String
    /// A JSON-compatible dictionary (String, Int, Bool, arrays and dictionaries of them).
    func toJSONObject() -> [String: any Sendable]
}

extension Tokenizer {
    /// Encodes `text` into a 1-D int64 tensor.
    public func encode(_ text: String) throws -> Tensor {
        var s = text
        return try s.withUTF8 { try encode(utf8: $0) }
    }

    /// Decodes an integer tensor of ids (any shape, read row-major).
    /// - Throws: ``DataError/tokenizer(_:)`` on a floating-point tensor or an id out of range.
    public func decode(_ ids: Tensor) throws -> String {
        guard !ids.dtype.isFloatingPoint else {
            throw DataError.tokenizer("\(Self.typeName).decode: expected an integer tensor of ids, got \(ids.dtype.rawValue)")
        }
        if ids.dtype == .int64 && ids.isContiguous {  // fast path: the usual output of encode and batches
            let p = ids.rawPointer.assumingMemoryBound(to: Int64.self)
            return try decode((0..<ids.count).map { Int(p[$0]) })
        }
        var out: [Int] = []
        out.reserveCapacity(ids.count)
        ids.forEachOffset { out.append(Int(ids.loadInteger(at: $0))) }
        return try decode(out)
    }

    /// The Swift/Lua type name used in messages (`CharTokenizer`).
    public static var typeName: String { String(describing: Self.self) }

    /// Throws the standard out-of-range message for id `id` at position `i`.
    static func checkRange(_ id: Int, at i: Int, vocab: Int) throws {
        guard id >= 0 && id < vocab else {
            throw DataError.tokenizer("\(typeName).decode: id \(id) at position \(i + 1) is out of range (vocabulary ids are 0..\(vocab - 1))")
        }
    }

    /// A new contiguous 1-D int64 tensor of `count` elements filled by `fill`.
    static func int64Tensor(count: Int, _ fill: (UnsafeMutablePointer<Int64>) throws -> Void) throws -> Tensor {
        let t = try Tensor(shape: [count], dtype: .int64, zeroed: false)
        try fill(t.rawPointer.assumingMemoryBound(to: Int64.self))
        return t
    }
}

/// Rebuilds tokenizers from their serialized dictionaries.
public enum TokenizerCoding {
    /// The tokenizer described by `object` (as written by ``Tokenizer/toJSONObject()``).
    ///
    /// ```swift
    /// let copy = try TokenizerCoding.decode(tok.toJSONObject())
    /// ```
    /// - Throws: ``DataError/tokenizer(_:)`` for a missing or unknown `type`, or an invalid vocabulary.
    public static func decode(_ object: [String: any Sendable]) throws -> any Tokenizer {
        guard let type = object["type"] as? String else {
            throw DataError.tokenizer("tokenizerFromTable: missing 'type' (expected 'char', 'byte' or 'bpe')")
        }
        switch type {
        case CharTokenizer.kind: return try CharTokenizer(jsonObject: object)
        case ByteTokenizer.kind: return try ByteTokenizer(jsonObject: object)
        case BPETokenizer.kind: return try BPETokenizer(jsonObject: object)
        default: throw DataError.tokenizer("tokenizerFromTable: unknown tokenizer type '\(type)'; expected one of 'char', 'byte', 'bpe'")
        }
    }
}
