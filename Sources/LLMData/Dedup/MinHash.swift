// MinHash: signatures of a text's shingle set (Broder 1997, "On the resemblance and containment of
// documents"). Shingles are word n-grams (CJK characters are words) or character n-grams of the text
// lowercased and whitespace-collapsed; each shingle is hashed to 64 bits and permuted by num_perm seeded
// multiply-shift hashes h_i(x) = (a_i*x + b_i) >> 32 (a_i odd), keeping the minimum as a UInt32.
// Deterministic given the seed. Estimated Jaccard = fraction of equal signature positions.

/// MinHash parameters.
public struct MinHashOptions: Sendable {
    /// Shingle unit: words (CJK characters are words) or characters.
    public enum Unit: String, CaseIterable, Sendable { case word, char }
    public var unit: Unit = .word
    /// Shingle size in units (default 5, as datatrove's `n_grams`).
    public var shingleSize = 5
    /// Number of permutations (signature length).
    public var numPerm = 128
    /// Seed of the permutations.
    public var seed: UInt64 = 1
    public init() {}
}

/// A MinHash signer for fixed options.
///
/// ```swift
/// let mh = MinHasher(MinHashOptions())
/// mh.similarity("the quick brown fox jumps", "the quick brown fox leaps")
/// ```
public struct MinHasher: Sendable {
    public let options: MinHashOptions
    let a: [UInt64], b: [UInt64]

    public init(_ options: MinHashOptions) {
        self.options = options
        var g = SplitMix64(seed: options.seed)
        var a: [UInt64] = [], b: [UInt64] = []
        for _ in 0..<max(1, options.numPerm) { a.append(g.next() | 1); b.append(g.next()) }
        self.a = a; self.b = b
    }

    /// The 64-bit hashes of the text's shingles (duplicates possible; empty for empty text).
    public func shingles(_ text: String) -> [UInt64] {
        let n = max(1, options.shingleSize)
        var units: [UInt64] = []
        switch options.unit {
        case .word:
            let w = WordSplit(text)
            units.reserveCapacity(w.words.count)
            for r in w.words {
                var lo = r.lowerBound, hi = r.upperBound
                while lo < hi, Scalars.isPunctuation(w.scalars[lo]) { lo += 1 }
                while hi > lo, Scalars.isPunctuation(w.scalars[hi - 1]) { hi -= 1 }
                if hi > lo { units.append(w.hash(lo..<hi, folding: true)) }
            }
        case .char:
            var space = false
            for c in text.unicodeScalars {
                if Scalars.isSpace(c) || c == "\n" { space = !units.isEmpty; continue }
                if space { units.append(0x20); space = false }
                var v = c.value
                if v >= 0x41 && v <= 0x5A {
                    v |= 0x20
                } else if v >= 0x80, c.properties.isUppercase,
                    let l = c.properties.lowercaseMapping.unicodeScalars.first
                {
                    v = l.value
                }
                units.append(UInt64(v))
            }
        }
        guard !units.isEmpty else { return [] }
        if units.count <= n { return [combine(units[...])] }
        var out: [UInt64] = []
        out.reserveCapacity(units.count - n + 1)
        for i in 0...(units.count - n) { out.append(combine(units[i..<(i + n)])) }
        return out
    }

    @inline(__always) func combine(_ u: ArraySlice<UInt64>) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3
        for x in u { h = DedupHash.mix64(h ^ x) }
        return h
    }

    /// The signature (numPerm values); all `UInt32.max` for a text without shingles.
    public func signature(_ text: String) -> [UInt32] { signature(shingles: shingles(text)) }

    /// The signature of precomputed shingle hashes.
    public func signature(shingles: [UInt64]) -> [UInt32] {
        let p = a.count
        var sig = [UInt32](repeating: .max, count: p)
        sig.withUnsafeMutableBufferPointer { s in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    guard let sp = s.baseAddress, let ap = a.baseAddress, let bp = b.baseAddress else { return }
                    for x in shingles {
                        for i in 0..<p {
                            sp[i] = min(sp[i], UInt32(truncatingIfNeeded: (ap[i] &* x &+ bp[i]) >> 32))
                        }
                    }
                }
            }
        }
        return sig
    }

    /// Estimated Jaccard similarity of two signatures (fraction of equal positions).
    public static func estimate(_ x: [UInt32], _ y: [UInt32]) -> Double {
        let n = min(x.count, y.count)
        guard n > 0 else { return 0 }
        var eq = 0
        for i in 0..<n where x[i] == y[i] { eq += 1 }
        return Double(eq) / Double(n)
    }

    /// Estimated Jaccard similarity of two texts' shingle sets.
    public func similarity(_ x: String, _ y: String) -> Double {
        MinHasher.estimate(signature(x), signature(y))
    }

    /// The exact Jaccard similarity of two texts' shingle sets (for tests and checks).
    public func jaccard(_ x: String, _ y: String) -> Double {
        let sx = Set(shingles(x)), sy = Set(shingles(y))
        let u = sx.union(sy).count
        return u == 0 ? 1 : Double(sx.intersection(sy).count) / Double(u)
    }
}

/// LSH banding parameters.
public enum MinHashLSH {
    /// Bands and rows minimizing the equally weighted false-positive and false-negative areas for
    /// `threshold` with at most `numPerm` hashes (datasketch `MinHashLSH._optimal_param`).
    ///
    /// ```swift
    /// MinHashLSH.optimalBands(threshold: 0.8, numPerm: 128)   // (bands: 9, rows: 13)
    /// ```
    public static func optimalBands(threshold t: Double, numPerm: Int) -> (bands: Int, rows: Int) {
        func integrate(_ f: (Double) -> Double, _ lo: Double, _ hi: Double) -> Double {
            let n = 64, h = (hi - lo) / Double(n)  // composite Simpson
            var s = f(lo) + f(hi)
            for k in 1..<n { s += f(lo + Double(k) * h) * (k % 2 == 1 ? 4 : 2) }
            return s * h / 3
        }
        var best = (bands: 1, rows: max(1, numPerm)), bestErr = Double.infinity
        for b in 1...max(1, numPerm) {
            for r in 1...max(1, numPerm / b) {
                let p = { (s: Double) in 1 - pow1(1 - pow1(s, r), b) }
                let fp = integrate(p, 0, t), fn = integrate({ 1 - p($0) }, t, 1)
                let err = 0.5 * fp + 0.5 * fn
                if err < bestErr { bestErr = err; best = (b, r) }
            }
        }
        return best
    }

    @inline(__always) static func pow1(_ x: Double, _ n: Int) -> Double {
        var r = 1.0, base = x, e = n
        while e > 0 { if e & 1 == 1 { r *= base }; base *= base; e >>= 1 }
        return r
    }
}
