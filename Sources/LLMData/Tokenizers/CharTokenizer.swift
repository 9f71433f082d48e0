// CharTokenizer: a character-level tokenizer whose vocabulary is the sorted set of Unicode scalars of
// its training text (id = position in that list). Encoding is one pass over validated UTF-8 through a
// dense scalar -> id table; an unknown character is an error naming it, unless an `unk` id is given.
// Serializes as {type="char", vocab={one-scalar strings...}, unk=id?}.
import LLMCore

/// Character-level tokenizer over Unicode scalars.
///
/// ```swift
/// let tok = try CharTokenizer(training: "héllo, 世界 👋")
/// let ids = try tok.encode("世界")
/// try tok.decode(ids) == "世界"
/// ```
public final class CharTokenizer: Tokenizer {
    public static let kind = "char"
    /// The characters, in id order.
    public let vocabulary: [Unicode.Scalar]
    /// The id unknown characters map to, or nil to make them an error.
    public let unk: Int?
    /// scalar value -> id, -1 when absent.
    private let lookup: [Int32]
    /// UTF-8 of each id: bytes utf8Bytes[utf8Start[id]..<utf8Start[id + 1]].
    private let utf8Bytes: [UInt8]
    private let utf8Start: [Int]

    public var vocabSize: Int { vocabulary.count }

    /// A tokenizer whose vocabulary is the sorted unique scalars of `text`.
    /// - Throws: ``DataError/tokenizer(_:)`` when `text` is empty or `unk` is out of range.
    public convenience init(training text: String, unk: Int? = nil) throws {
        var present = [UInt64](repeating: 0, count: 0x110000 / 64)
        for s in text.unicodeScalars { present[Int(s.value >> 6)] |= 1 << UInt64(s.value & 63) }
        var vocab: [Unicode.Scalar] = []
        for (w, bits) in present.enumerated() where bits != 0 {
            for b in 0..<64 where bits & (1 << UInt64(b)) != 0 {
                if let s = Unicode.Scalar(UInt32(w * 64 + b)) { vocab.append(s) }
            }
        }
        guard !vocab.isEmpty else { throw DataError.tokenizer("CharTokenizer: the training text is empty") }
        try self.init(vocabulary: vocab, unk: unk)
    }

    /// A tokenizer with the given vocabulary (ids follow the list order).
    /// - Throws: ``DataError/tokenizer(_:)`` for an empty list, a repeated character or `unk` out of range.
    public init(vocabulary: [Unicode.Scalar], unk: Int? = nil) throws {
        guard !vocabulary.isEmpty else { throw DataError.tokenizer("CharTokenizer: the vocabulary is empty") }
        guard vocabulary.count < Int32.max else { throw DataError.tokenizer("CharTokenizer: the vocabulary is too large") }
        if let u = unk, u < 0 || u >= vocabulary.count {
            throw DataError.tokenizer("Invalid 'unk': expected an id in 0..\(vocabulary.count - 1), got \(u)")
        }
        let top = Int(vocabulary.map(\.value).max()!)
        var table = [Int32](repeating: -1, count: top + 1)
        for (i, s) in vocabulary.enumerated() {
            guard table[Int(s.value)] < 0 else {
                throw DataError.tokenizer("CharTokenizer: character \(Self.describe(s)) appears twice in the vocabulary")
            }
            table[Int(s.value)] = Int32(i)
        }
        var bytes: [UInt8] = [], starts = [0]
        for s in vocabulary { bytes.append(contentsOf: String(s).utf8); starts.append(bytes.count) }
        self.vocabulary = vocabulary
        self.unk = unk
        self.lookup = table
        self.utf8Bytes = bytes
        self.utf8Start = starts
    }

    /// Rebuilds a tokenizer from ``toJSONObject()``'s dictionary.
    public convenience init(jsonObject o: [String: any Sendable]) throws {
        guard let list = o["vocab"] as? [any Sendable] else {
            throw DataError.tokenizer("tokenizerFromTable: a 'char' tokenizer needs 'vocab', a list of characters")
        }
        var vocab: [Unicode.Scalar] = []
        vocab.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            guard let s = item as? String, s.unicodeScalars.count == 1, let c = s.unicodeScalars.first else {
                throw DataError.tokenizer("tokenizerFromTable: vocab entry \(i + 1) must be a string of one character")
            }
            vocab.append(c)
        }
        var unk: Int? = nil
        if let u = o["unk"] {
            guard let v = u as? Int else { throw DataError.tokenizer("tokenizerFromTable: 'unk' must be an integer id") }
            unk = v
        }
        try self.init(vocabulary: vocab, unk: unk)
    }

    public func encode(utf8 bytes: UnsafeBufferPointer<UInt8>) throws -> Tensor {
        var count = 0
        for b in bytes where b & 0xC0 != 0x80 { count += 1 }
        return try Self.int64Tensor(count: count) { out in
            var it = bytes.makeIterator()
            var parser = Unicode.UTF8.ForwardParser()
            var k = 0
            let table = lookup, n = table.count, unkID = Int64(unk ?? -1)
            while true {
                switch parser.parseScalar(from: &it) {
                case .valid(let enc):
                    let v = Int(Unicode.UTF8.decode(enc).value)
                    var id = v < n ? Int64(table[v]) : -1
                    if id < 0 {
                        guard unkID >= 0 else { throw unknown(Unicode.UTF8.decode(enc), at: k) }
                        id = unkID
                    }
                    guard k < count else { throw invalidUTF8() }
                    out[k] = id
                    k += 1
                case .emptyInput:
                    guard k == count else { throw invalidUTF8() }
                    return
                case .error:
                    throw invalidUTF8()
                }
            }
        }
    }

    public func decode(_ ids: [Int]) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count)
        try utf8Bytes.withUnsafeBufferPointer { bytes in
            try utf8Start.withUnsafeBufferPointer { start in
                let n = vocabulary.count
                for (i, id) in ids.enumerated() {
                    try Self.checkRange(id, at: i, vocab: n)
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start[id]..<start[id + 1]]))
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public func toJSONObject() -> [String: any Sendable] {
        var o: [String: any Sendable] = ["type": Self.kind, "vocab": vocabulary.map { String($0) }]
        if let unk { o["unk"] = unk }
        return o
    }

    private func unknown(_ s: Unicode.Scalar, at k: Int) -> DataError {
        .tokenizer(
            "CharTokenizer.encode: character \(Self.describe(s)) at position \(k + 1) is not in the vocabulary "
                + "(\(vocabulary.count) characters); build the tokenizer from text that contains it, or pass unk")
    }

    private func invalidUTF8() -> DataError { .tokenizer("CharTokenizer.encode: the text is not valid UTF-8") }

    /// `'é' (U+00E9)`, with control characters escaped.
    static func describe(_ s: Unicode.Scalar) -> String {
        let hex = String(s.value, radix: 16, uppercase: true)
        return "'\(s.escaped(asASCII: false))' (U+\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex))"
    }
}
