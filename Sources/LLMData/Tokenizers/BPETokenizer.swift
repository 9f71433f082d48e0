// BPETokenizer: a byte-level BPE tokenizer (GPT-2 scheme). Tokens are strings over GPT-2's byte alphabet
// (see GPT2ByteLevel); merges are id pairs in rank order; added tokens (e.g. `<|endoftext|>`) are matched
// in the raw text first and never split. Encoding/training live in BPEEncode.swift/BPETrainer.swift,
// tokenizer.json in TokenizerJSON*.swift. Serializes as {type="bpe", vocab, merges={"a b"}, added, ...}.
import LLMCore
import Synchronization

/// A token added on top of the BPE model (special tokens such as `<|endoftext|>`).
public struct BPEAddedToken: Sendable, Equatable {
    public var id: Int
    public var content: String
    /// Special tokens are control tokens (HF `special`); both kinds are matched whole in the text.
    public var special: Bool
    /// HF's `normalized` flag, kept for export (this tokenizer has no normalizer).
    public var normalized: Bool

    public init(id: Int, content: String, special: Bool = true, normalized: Bool = false) {
        self.id = id; self.content = content; self.special = special; self.normalized = normalized
    }
}

/// Pre-tokenization options of HF's ByteLevel pre-tokenizer and BPE model.
public struct BPEOptions: Sendable, Equatable {
    /// Prepend a space to each text segment that does not start with one.
    public var addPrefixSpace = false
    /// Split with the GPT-2 regex (false: each segment between added tokens is one piece).
    public var useRegex = true
    /// Use a piece's own token when the vocabulary has it, before any merge (HF `ignore_merges`).
    public var ignoreMerges = false
    public init(addPrefixSpace: Bool = false, useRegex: Bool = true, ignoreMerges: Bool = false) {
        self.addPrefixSpace = addPrefixSpace; self.useRegex = useRegex; self.ignoreMerges = ignoreMerges
    }
}

/// Byte-level BPE tokenizer.
///
/// ```swift
/// let tok = try BPETokenizer.train(["low lower lowest"], vocabSize: 300, minFrequency: 1,
///                                  specialTokens: ["<|endoftext|>"])
/// let ids = try tok.encodeIDs("lowest<|endoftext|>")
/// try tok.decode(ids)   // "lowest<|endoftext|>"
/// ```
public final class BPETokenizer: Tokenizer {
    public static let kind = "bpe"
    /// Token strings in id order (byte-alphabet form; added tokens as written).
    public let tokens: [String]
    /// Merges in rank order, as (left id, right id).
    public let merges: [(Int32, Int32)]
    public let addedTokens: [BPEAddedToken]
    /// Added-token ids that are not part of the BPE model's own vocabulary (tokenizer.json export).
    public let addedOutsideModel: Set<Int>
    public let options: BPEOptions

    let tokenIDs: [String: Int]
    /// byte -> id of its one-character token, -1 when missing.
    let byteIDs: [Int32]
    /// pair -> rank << 32 | merged id.
    let mergeTable: PairTable
    /// Decoded bytes of id i: decodeBytes[decodeStart[i]..<decodeStart[i + 1]].
    let decodeBytes: [UInt8]
    let decodeStart: [Int]
    /// Added tokens by their UTF-8, longest first; `addedFirstBytes[b]` when some token starts with b.
    let addedUTF8: [(bytes: [UInt8], id: Int32)]
    let addedFirstBytes: [Bool]
    /// Byte strings of whole tokens, only with `options.ignoreMerges`.
    let tokenByBytes: [[UInt8]: Int32]
    /// Piece -> ids cache, taken out for the duration of one encode call (others then use a fresh one).
    let cacheBox = Mutex<PieceCache?>(PieceCache())

    public var vocabSize: Int { tokens.count }

    /// A tokenizer from its parts. `tokens` covers ids `0..<tokens.count`; `merges` are id pairs whose
    /// concatenated token must be in `tokens`; every added token's content must equal `tokens[id]`.
    /// - Throws: ``DataError/tokenizer(_:)`` naming the first inconsistency.
    public init(
        tokens: [String], merges: [(Int32, Int32)], addedTokens: [BPEAddedToken] = [],
        addedOutsideModel: Set<Int> = [], options: BPEOptions = BPEOptions()
    ) throws {
        func fail(_ m: String) -> DataError { .tokenizer("BPETokenizer: \(m)") }
        guard !tokens.isEmpty else { throw fail("the vocabulary is empty") }
        guard tokens.count < Int(Int32.max) else { throw fail("the vocabulary is too large (\(tokens.count) tokens)") }
        var ids = [String: Int](minimumCapacity: tokens.count)
        for (i, t) in tokens.enumerated() {
            guard !t.isEmpty else { throw fail("token \(i) is empty") }
            if let j = ids.updateValue(i, forKey: t) { throw fail("token '\(t)' appears twice (ids \(j) and \(i))") }
        }
        var bytes = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = ids[String(Unicode.Scalar(GPT2ByteLevel.byteToScalar[b])!)], !addedOutsideModel.contains(id) { bytes[b] = Int32(id) }
        }
        var table = PairTable(capacity: merges.count)
        for (r, (a, b)) in merges.enumerated() {
            guard a >= 0, Int(a) < tokens.count, b >= 0, Int(b) < tokens.count else {
                throw fail("merge \(r + 1) refers to an id outside 0..\(tokens.count - 1)")
            }
            let merged = tokens[Int(a)] + tokens[Int(b)]
            guard let m = ids[merged] else {
                throw fail("merge \(r + 1) ('\(tokens[Int(a)])' '\(tokens[Int(b)])'): the merged token '\(merged)' is not in the vocabulary")
            }
            table.set(packPair(a, b), Int64(r) << 32 | Int64(m))  // a repeated pair keeps its last rank, as HF does
        }
        var added: [(bytes: [UInt8], id: Int32)] = []
        var first = [Bool](repeating: false, count: 256)
        for t in addedTokens {
            guard t.id >= 0 && t.id < tokens.count else { throw fail("added token '\(t.content)' has id \(t.id) outside 0..\(tokens.count - 1)") }
            guard tokens[t.id] == t.content else {
                throw fail("added token '\(t.content)' has id \(t.id), which is the token '\(tokens[t.id])'")
            }
            added.append((Array(t.content.utf8), Int32(t.id)))
            first[Int(t.content.utf8.first!)] = true
        }
        added.sort { $0.bytes.count > $1.bytes.count }
        var dec: [UInt8] = [], starts = [0]
        for t in tokens {  // HF's ByteLevel decoder: alphabet characters -> bytes, else the token's UTF-8
            dec.append(contentsOf: GPT2ByteLevel.bytes(ofToken: t) ?? Array(t.utf8))
            starts.append(dec.count)
        }
        var whole: [[UInt8]: Int32] = [:]
        if options.ignoreMerges {
            for (i, t) in tokens.enumerated() where !addedOutsideModel.contains(i) {
                if let b = GPT2ByteLevel.bytes(ofToken: t) { whole[b] = Int32(i) }
            }
        }
        self.tokens = tokens
        self.merges = merges
        self.addedTokens = addedTokens
        self.addedOutsideModel = addedOutsideModel
        self.options = options
        self.tokenIDs = ids
        self.byteIDs = bytes
        self.mergeTable = table
        self.decodeBytes = dec
        self.decodeStart = starts
        self.addedUTF8 = added
        self.addedFirstBytes = first
        self.tokenByBytes = whole
    }

    /// The id of token string `token` (byte-alphabet form, e.g. `"Ġthe"`), or nil.
    public func tokenToID(_ token: String) -> Int? { tokenIDs[token] }

    /// The token string of `id`, or nil when out of range.
    public func idToToken(_ id: Int) -> String? { id >= 0 && id < tokens.count ? tokens[id] : nil }

    /// The raw bytes of ids (no UTF-8 repair), for streaming decoders.
    public func decodeToBytes(_ ids: [Int]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        try decodeBytes.withUnsafeBufferPointer { bytes in
            for (i, id) in ids.enumerated() {
                try Self.checkRange(id, at: i, vocab: tokens.count)
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[decodeStart[id]..<decodeStart[id + 1]]))
            }
        }
        return out
    }

    /// Text of ids; bytes that are not valid UTF-8 (a cut multi-byte character) become U+FFFD.
    public func decode(_ ids: [Int]) throws -> String {
        String(decoding: try decodeToBytes(ids), as: UTF8.self)
    }

    public func toJSONObject() -> [String: any Sendable] {
        var o: [String: any Sendable] = [
            "type": Self.kind,
            "vocab": tokens,
            "merges": merges.map { "\(tokens[Int($0.0)]) \(tokens[Int($0.1)])" },
            "added": addedTokens.map { t -> [String: any Sendable] in
                [
                    "id": t.id, "content": t.content, "special": t.special, "normalized": t.normalized,
                    "model": !addedOutsideModel.contains(t.id)
                ]
            }
        ]
        if options.addPrefixSpace { o["addPrefixSpace"] = true }
        if !options.useRegex { o["useRegex"] = false }
        if options.ignoreMerges { o["ignoreMerges"] = true }
        return o
    }

    /// Rebuilds a tokenizer from ``toJSONObject()``'s dictionary.
    public convenience init(jsonObject o: [String: any Sendable]) throws {
        func fail(_ m: String) -> DataError { .tokenizer("tokenizerFromTable: a 'bpe' tokenizer \(m)") }
        func list(_ key: String) -> [any Sendable]? {  // an empty Lua table arrives as an empty dictionary
            if let l = o[key] as? [any Sendable] { return l }
            if let d = o[key] as? [String: any Sendable], d.isEmpty { return [] }
            return nil
        }
        guard let vocab = list("vocab") as? [String] else { throw fail("needs 'vocab', a list of token strings") }
        guard let mergeStrings = list("merges") as? [String] else { throw fail("needs 'merges', a list of \"a b\" strings") }
        var ids = [String: Int32](minimumCapacity: vocab.count)
        for (i, t) in vocab.enumerated() { ids[t] = Int32(i) }
        var merges: [(Int32, Int32)] = []
        merges.reserveCapacity(mergeStrings.count)
        for (k, m) in mergeStrings.enumerated() {
            let parts = m.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, let a = ids[String(parts[0])], let b = ids[String(parts[1])] else {
                throw fail("has a bad merge \(k + 1) '\(m)': expected two vocabulary tokens separated by one space")
            }
            merges.append((a, b))
        }
        var added: [BPEAddedToken] = [], outside: Set<Int> = []
        for (k, item) in (list("added") ?? []).enumerated() {
            guard let d = item as? [String: any Sendable], let id = d["id"] as? Int, let content = d["content"] as? String else {
                throw fail("has a bad added token \(k + 1): expected {id=..., content=...}")
            }
            added.append(
                BPEAddedToken(
                    id: id, content: content, special: d["special"] as? Bool ?? true,
                    normalized: d["normalized"] as? Bool ?? false))
            if d["model"] as? Bool == false { outside.insert(id) }
        }
        let opts = BPEOptions(
            addPrefixSpace: o["addPrefixSpace"] as? Bool ?? false, useRegex: o["useRegex"] as? Bool ?? true,
            ignoreMerges: o["ignoreMerges"] as? Bool ?? false)
        try self.init(tokens: vocab, merges: merges, addedTokens: added, addedOutsideModel: outside, options: opts)
    }
}
