// BPETrainer: learns a byte-level BPE vocabulary, step for step the algorithm of HF tokenizers'
// BpeTrainer (so the same corpus and settings give the same merges): count pre-tokens (the GPT-2 split;
// added tokens are not cut out of training text, as in HF), give ids to the special tokens, then the
// 256 byte characters by scalar value; count adjacent pairs once; then repeatedly pop the most frequent
// pair (ties: smallest id pair) from a max-heap with lazy invalidation (a popped entry whose count is
// stale is re-pushed with the current count), merge it in the words that contain it, and apply the
// resulting pair-count changes incrementally. Stops at `vocabSize` tokens or below `minFrequency`.

/// Accumulates pre-token counts from texts, then trains a ``BPETokenizer``.
///
/// ```swift
/// var trainer = BPETrainer()
/// trainer.add("the cat sat on the mat")
/// let tok = try trainer.train(vocabSize: 300, minFrequency: 2, specialTokens: ["<|endoftext|>"])
/// ```
public struct BPETrainer: Sendable {
    private var words = ByteStringTable(capacity: 1 << 14)
    private var counts: [Int64] = []

    public init() {}

    /// Number of distinct pre-tokens counted so far.
    public var distinctWords: Int { words.count }

    /// Counts the pre-tokens of `text`.
    public mutating func add(_ text: String) {
        var s = text
        s.withUTF8 { add(utf8: $0) }
    }

    /// Counts the pre-tokens of UTF-8 bytes (invalid sequences are replaced by U+FFFD first).
    public mutating func add(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            var s = String(decoding: bytes, as: UTF8.self)
            s.withUTF8 { addValid($0) }
            return
        }
        addValid(bytes)
    }

    private mutating func addValid(_ buf: UnsafeBufferPointer<UInt8>) {
        guard let p = buf.baseAddress else { return }
        GPT2PreTokenizer.split(p, from: 0, to: buf.count) { a, b in
            let (e, inserted) = words.findOrInsert(p + a, b - a)
            if inserted { counts.append(1) } else { counts[e] += 1 }
        }
    }

    /// Trains a tokenizer with at most `vocabSize` tokens (special tokens and the 256 byte tokens
    /// included); merges stop early when the best pair occurs fewer than `minFrequency` times.
    /// - Throws: ``DataError/tokenizer(_:)`` for a vocabulary size below the base tokens, a negative
    ///   minimum frequency, or empty/repeated special tokens.
    public func train(vocabSize: Int, minFrequency: Int = 2, specialTokens: [String] = []) throws -> BPETokenizer {
        var seen = Set<String>()
        for s in specialTokens {
            guard !s.isEmpty else { throw DataError.tokenizer("Invalid 'specialTokens': expected non-empty strings, got an empty string") }
            guard seen.insert(s).inserted else { throw DataError.tokenizer("Invalid 'specialTokens': '\(s)' appears twice") }
        }
        let base = 256 + specialTokens.count
        guard vocabSize >= base && vocabSize <= 1 << 24 else {
            throw DataError.tokenizer(
                "Invalid 'vocabSize': expected an integer in \(base)..\(1 << 24) (256 byte tokens + \(specialTokens.count) special tokens at least), got \(vocabSize)")
        }
        guard minFrequency >= 0 else { throw DataError.tokenizer("Invalid 'minFrequency': expected a non-negative integer, got \(minFrequency)") }

        // 1-2. Special tokens, then the byte alphabet sorted by scalar value.
        var tokens: [String] = [], ids: [String: Int32] = [:]
        for t in specialTokens + GPT2ByteLevel.sortedAlphabet where ids[t] == nil {
            ids[t] = Int32(tokens.count); tokens.append(t)
        }
        let byteID = (0..<256).map { ids[String(Unicode.Scalar(GPT2ByteLevel.byteToScalar[$0])!)]! }

        // 3. Words as symbol ids: sym[start[w] ..< start[w] + len[w]].
        var sym: [Int32] = [], start: [Int] = [], len: [Int] = []
        sym.reserveCapacity(words.bytes.count)
        for w in 0..<words.count {
            start.append(sym.count)
            words.withKey(w) { for b in $0 { sym.append(byteID[Int(b)]) } }
            len.append(sym.count - start[w])
        }

        // 4. Pair counts and, per pair, the words that hold it.
        var pairCounts = PairTable(capacity: 1 << 16)
        var pending = PairPositions()
        for w in 0..<words.count where len[w] > 1 {
            for i in start[w]..<(start[w] + len[w] - 1) {
                let pair = packPair(sym[i], sym[i + 1])
                pairCounts.add(pair, counts[w])
                pending.add(pair, Int32(w))
            }
        }
        var heap = MergeHeap()
        pending.drain { pair, pos in
            let c = pairCounts.get(pair) ?? 0
            if c > 0 { heap.push(.init(count: c, pair: pair, pos: pos)) }
        }

        // 5. Merges.
        var merges: [(Int32, Int32)] = []
        while tokens.count < vocabSize, var top = heap.pop() {
            let current = pairCounts.get(top.pair) ?? 0
            if top.count != current { top.count = current; heap.push(top); continue }
            if top.count < 1 || Int64(minFrequency) > top.count { break }
            let a = Int32(truncatingIfNeeded: top.pair >> 32), b = Int32(truncatingIfNeeded: top.pair & 0xFFFF_FFFF)
            let merged = tokens[Int(a)] + tokens[Int(b)]
            let newID: Int32
            if let id = ids[merged] { newID = id } else { newID = Int32(tokens.count); ids[merged] = newID; tokens.append(merged) }
            merges.append((a, b))
            sym.withUnsafeMutableBufferPointer { s in
                for w32 in top.pos {
                    let w = Int(w32), base = start[w], n = len[w], wc = counts[w]
                    guard n > 1 else { continue }
                    var r = 0, o = 0
                    while r < n {
                        if s[base + r] == a && r + 1 < n && s[base + r + 1] == b {
                            if o > 0 {
                                let prev = s[base + o - 1]
                                pairCounts.add(packPair(prev, a), -wc)
                                pairCounts.add(packPair(prev, newID), wc); pending.add(packPair(prev, newID), w32)
                            }
                            if r + 2 < n {
                                let nxt = s[base + r + 2]
                                pairCounts.add(packPair(b, nxt), -wc)
                                pairCounts.add(packPair(newID, nxt), wc); pending.add(packPair(newID, nxt), w32)
                            }
                            s[base + o] = newID; o += 1; r += 2
                        } else {
                            s[base + o] = s[base + r]; o += 1; r += 1
                        }
                    }
                    len[w] = o
                }
            }
            pending.drain { pair, pos in
                let c = pairCounts.get(pair) ?? 0
                if c > 0 { heap.push(.init(count: c, pair: pair, pos: pos)) }
            }
        }
        let added = specialTokens.map { BPEAddedToken(id: Int(ids[$0]!), content: $0, special: true, normalized: false) }
        return try BPETokenizer(tokens: tokens, merges: merges, addedTokens: added)
    }
}

/// Pair -> words gained this step (each word once), drained in first-seen order.
private struct PairPositions {
    var index = PairTable(capacity: 1024)
    var pairs: [UInt64] = []
    var lists: [[Int32]] = []

    mutating func add(_ pair: UInt64, _ w: Int32) {
        let (s, inserted) = index.slot(pair)
        if inserted {
            index.set(pair, Int64(lists.count))
            pairs.append(pair); lists.append([w])
        } else {
            let k = Int(index.values[s])
            if lists[k].last != w { lists[k].append(w) }
        }
    }

    mutating func drain(_ body: (UInt64, [Int32]) -> Void) {
        for (k, p) in pairs.enumerated() { body(p, lists[k]) }
        pairs.removeAll(keepingCapacity: true)
        lists.removeAll(keepingCapacity: true)
        index.removeAll()
    }
}

/// Max-heap of merge candidates: highest count first, then the smallest pair.
private struct MergeHeap {
    struct Entry { var count: Int64; var pair: UInt64; var pos: [Int32] }
    private var items: [Entry] = []

    @inline(__always) private static func above(_ x: Entry, _ y: Entry) -> Bool {
        x.count != y.count ? x.count > y.count : x.pair < y.pair
    }

    mutating func push(_ e: Entry) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.above(items[i], items[parent]) else { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && Self.above(items[l], items[m]) { m = l }
                if r < items.count && Self.above(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(m, i)
                i = m
            }
        }
        return top
    }
}

extension BPETokenizer {
    /// Trains a tokenizer on `texts` (see ``BPETrainer``).
    public static func train(
        _ texts: [String], vocabSize: Int, minFrequency: Int = 2,
        specialTokens: [String] = []
    ) throws -> BPETokenizer {
        var trainer = BPETrainer()
        for t in texts { trainer.add(t) }
        return try trainer.train(vocabSize: vocabSize, minFrequency: minFrequency, specialTokens: specialTokens)
    }
}
