// BPEEncode: BPETokenizer's encoder. Invalid UTF-8 is first repaired (U+FFFD, as Python's
// errors='replace'); added tokens are cut out of the text (leftmost, longest); each segment is split by
// the GPT-2 pre-tokenizer and each piece is merged by rank exactly as HF tokenizers' Word::merge_all
// (lowest rank first, leftmost on ties), with a per-tokenizer cache of piece -> ids.
import LLMCore

/// Piece bytes -> ids; cleared when it grows past its limits.
struct PieceCache {
    var table = ByteStringTable(capacity: 4096)
    var idStart: [Int32] = [0]
    var ids: [Int32] = []
    static let maxEntries = 1 << 18, maxPieceBytes = 256
}

extension BPETokenizer {
    /// Token ids of `text` as Swift integers.
    public func encodeIDs(_ text: String) throws -> [Int] {
        var s = text
        return try s.withUTF8 { try encodeInt32(utf8: $0) }.map(Int.init)
    }

    public func encode(utf8 bytes: UnsafeBufferPointer<UInt8>) throws -> Tensor {
        let ids = try encodeInt32(utf8: bytes)
        return try Self.int64Tensor(count: ids.count) { out in
            for (i, id) in ids.enumerated() { out[i] = Int64(id) }
        }
    }

    /// Token ids of UTF-8 bytes (invalid sequences are replaced by U+FFFD first).
    public func encodeInt32(utf8 bytes: UnsafeBufferPointer<UInt8>) throws -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(bytes.count / 3 + 8)
        var cache = cacheBox.withLock { $0.take() } ?? PieceCache()
        defer {
            if cache.table.count > PieceCache.maxEntries || cache.ids.count > PieceCache.maxEntries * 8 { cache = PieceCache() }
            cacheBox.withLock { $0 = cache }
        }
        if String(validating: bytes, as: UTF8.self) != nil || bytes.isEmpty {
            try encodeValid(bytes, &cache, &out)
        } else {
            var repaired = String(decoding: bytes, as: UTF8.self)
            try repaired.withUTF8 { try encodeValid($0, &cache, &out) }
        }
        return out
    }

    private func encodeValid(_ buf: UnsafeBufferPointer<UInt8>, _ cache: inout PieceCache, _ out: inout [Int32]) throws {
        guard let p = buf.baseAddress, buf.count > 0 else { return }
        let n = buf.count
        var segStart = 0, i = 0
        if !addedUTF8.isEmpty {
            while i < n {
                guard addedFirstBytes[Int(p[i])], let (len, id) = addedMatch(p, i, n) else { i += 1; continue }
                try encodeSegment(p, segStart, i, &cache, &out)
                out.append(id)
                i += len
                segStart = i
            }
        }
        try encodeSegment(p, segStart, n, &cache, &out)
    }

    /// The longest added token starting at `i`.
    private func addedMatch(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> (Int, Int32)? {
        for t in addedUTF8 where t.bytes.count <= n - i {  // sorted longest first
            if t.bytes.withUnsafeBufferPointer({ memcmpBytes($0.baseAddress!, p + i, t.bytes.count) }) { return (t.bytes.count, t.id) }
        }
        return nil
    }

    private func encodeSegment(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ cache: inout PieceCache, _ out: inout [Int32]) throws {
        guard start < end else { return }
        if options.addPrefixSpace && p[start] != 0x20 {
            var copy = [UInt8](repeating: 0x20, count: end - start + 1)
            copy.withUnsafeMutableBufferPointer { c in (c.baseAddress! + 1).update(from: p + start, count: end - start) }
            try copy.withUnsafeBufferPointer { c in try encodeSplit(c.baseAddress!, 0, c.count, &cache, &out) }
        } else {
            try encodeSplit(p, start, end, &cache, &out)
        }
    }

    private func encodeSplit(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ cache: inout PieceCache, _ out: inout [Int32]) throws {
        if options.useRegex {
            try GPT2PreTokenizer.split(p, from: start, to: end) { a, b in try encodePiece(p + a, b - a, &cache, &out) }
        } else {
            try encodePiece(p + start, end - start, &cache, &out)
        }
    }

    /// Appends the ids of one pre-token.
    @inline(__always)
    private func encodePiece(_ p: UnsafePointer<UInt8>, _ n: Int, _ cache: inout PieceCache, _ out: inout [Int32]) throws {
        if n == 1, case let id = byteIDs[Int(p[0])], id >= 0 { out.append(id); return }
        guard n <= PieceCache.maxPieceBytes else { try mergePiece(p, n, &out); return }
        let (e, inserted) = cache.table.findOrInsert(p, n)
        if inserted {
            let before = out.count
            do { try mergePiece(p, n, &out) } catch { cache = PieceCache(); throw error }
            cache.ids.append(contentsOf: out[before...])
            cache.idStart.append(Int32(cache.ids.count))
        } else {
            out.append(contentsOf: cache.ids[Int(cache.idStart[e])..<Int(cache.idStart[e + 1])])
        }
    }

    /// Merges the bytes of one piece and appends the resulting ids.
    private func mergePiece(_ p: UnsafePointer<UInt8>, _ n: Int, _ out: inout [Int32]) throws {
        if options.ignoreMerges, let id = tokenByBytes[Array(UnsafeBufferPointer(start: p, count: n))] { out.append(id); return }
        var sym = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let id = byteIDs[Int(p[i])]
            guard id >= 0 else {
                throw DataError.tokenizer("BPETokenizer.encode: byte 0x\(String(p[i], radix: 16, uppercase: true)) has no token in the vocabulary")
            }
            sym[i] = id
        }
        if n <= 48 { mergeSmall(&sym, &out) } else { mergeHeap(&sym, &out) }
    }

    /// Quadratic merge for short pieces: repeatedly apply the lowest-rank pair (leftmost on ties).
    private func mergeSmall(_ sym: inout [Int32], _ out: inout [Int32]) {
        var n = sym.count
        sym.withUnsafeMutableBufferPointer { s in
            while n > 1 {
                var best = Int64.max, at = -1
                for i in 0..<(n - 1) {
                    if let v = mergeTable.get(packPair(s[i], s[i + 1])), v < best { best = v; at = i }
                }
                if at < 0 { break }
                s[at] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
                for j in (at + 1)..<(n - 1) { s[j] = s[j + 1] }
                n -= 1
            }
            out.append(contentsOf: s[0..<n])
        }
    }

    /// Heap merge for long pieces (HF's Word::merge_all): a min-heap of (rank, position) with stale
    /// entries skipped, over a doubly linked list of symbols.
    private func mergeHeap(_ sym: inout [Int32], _ out: inout [Int32]) {
        let n = sym.count
        var prev = (0..<n).map { $0 - 1 }, next = (0..<n).map { $0 + 1 }
        var alive = [Bool](repeating: true, count: n)
        var heap = MinHeap()
        for i in 0..<(n - 1) {
            if let v = mergeTable.get(packPair(sym[i], sym[i + 1])) { heap.push(UInt64(v >> 32) << 32 | UInt64(i), Int32(truncatingIfNeeded: v)) }
        }
        while let (key, newID) = heap.pop() {
            let pos = Int(key & 0xFFFF_FFFF)
            guard alive[pos], next[pos] < n else { continue }
            let r = next[pos]
            guard let v = mergeTable.get(packPair(sym[pos], sym[r])), Int32(truncatingIfNeeded: v) == newID else { continue }
            sym[pos] = newID
            alive[r] = false
            next[pos] = next[r]
            if next[r] < n { prev[next[r]] = pos }
            if prev[pos] >= 0, let w = mergeTable.get(packPair(sym[prev[pos]], sym[pos])) {
                heap.push(UInt64(w >> 32) << 32 | UInt64(prev[pos]), Int32(truncatingIfNeeded: w))
            }
            if next[pos] < n, let w = mergeTable.get(packPair(sym[pos], sym[next[pos]])) {
                heap.push(UInt64(w >> 32) << 32 | UInt64(pos), Int32(truncatingIfNeeded: w))
            }
        }
        for i in 0..<n where alive[i] { out.append(sym[i]) }
    }
}

/// A binary min-heap of (key, payload).
struct MinHeap {
    private var keys: [UInt64] = [], vals: [Int32] = []

    mutating func push(_ k: UInt64, _ v: Int32) {
        keys.append(k); vals.append(v)
        var i = keys.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if keys[parent] <= keys[i] { break }
            keys.swapAt(parent, i); vals.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> (UInt64, Int32)? {
        guard let top = keys.first else { return nil }
        let v = vals[0]
        let lastK = keys.removeLast(), lastV = vals.removeLast()
        if !keys.isEmpty {
            keys[0] = lastK; vals[0] = lastV
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < keys.count && keys[l] < keys[m] { m = l }
                if r < keys.count && keys[r] < keys[m] { m = r }
                if m == i { break }
                keys.swapAt(m, i); vals.swapAt(m, i)
                i = m
            }
        }
        return (top, v)
    }
}
