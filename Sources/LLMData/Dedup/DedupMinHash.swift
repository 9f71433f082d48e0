// DedupMinHash: near-duplicate dedup with MinHash + LSH banding (Leskovec, Rajaraman & Ullman, Mining of
// Massive Datasets, ch. 3.4). Each document's signature is cut into `bands` bands of `rows` values; a
// band hash seen before makes the document a near duplicate of that band's first document (transitively
// the cluster's first), so the first of each cluster is kept. With `verify`, a candidate is confirmed
// only when the estimated Jaccard with the cluster's first reaches `threshold` (stores kept signatures).
// Memory: one 12-byte slot per (kept doc, band) in HashIndex64 + ids; deterministic given the seed.
import LLMCore

/// MinHash-LSH dedup options.
public struct MinHashDedupOptions: Sendable {
    public var minhash = MinHashOptions()
    /// Jaccard threshold; picks bands × rows when they are not given (default 0.8).
    public var threshold = 0.8
    /// LSH bands and rows (nil: optimal for `threshold`, as datasketch).
    public var bands: Int? = nil, rows: Int? = nil
    /// Confirm candidates by estimated Jaccard >= threshold (keeps signatures of kept documents).
    public var verify = false
    public init() {}
}

/// Near-duplicate dedup stage.
///
/// ```swift
/// let dd = MinHashDedup(MinHashDedupOptions())
/// _ = try dd.process(doc1); _ = try dd.process(doc2)   // doc2 dropped when near doc1
/// dd.clusters   // clusters with at least one dropped duplicate
/// ```
public final class MinHashDedup: OrderedDocumentStage {
    public let name: String
    public let options: MinHashDedupOptions
    public let hasher: MinHasher
    public let bands: Int, rows: Int
    var index = HashIndex64(capacity: 4096)
    var ids = IdStore()
    var signatures: [UInt32] = []
    var clusterSizes: [UInt32: UInt32] = [:]
    /// The index's bytes, charged to the memory budget current when the stage was made.
    let held = MemoryCharge()
    /// Documents seen and dropped so far.
    public private(set) var seen = 0, duplicates = 0

    /// Creates the stage; bands × rows must not exceed the number of permutations.
    /// - Throws: ``DataError/batch(_:)`` for bad sizes.
    public init(_ options: MinHashDedupOptions, name: String = "minhashDedup") throws {
        let p = options.minhash.numPerm
        guard (1...4096).contains(p) else { throw DataError.batch("minhash: numPerm must be in 1...4096, got \(p)") }
        guard options.minhash.shingleSize >= 1 else { throw DataError.batch("minhash: shingleSize must be positive, got \(options.minhash.shingleSize)") }
        guard options.threshold > 0 && options.threshold < 1 else { throw DataError.batch("minhash: threshold must be in (0, 1), got \(options.threshold)") }
        var b = options.bands, r = options.rows
        if let x = b, x < 1 { throw DataError.batch("minhash: bands must be positive, got \(x)") }
        if let x = r, x < 1 { throw DataError.batch("minhash: rows must be positive, got \(x)") }
        if b == nil || r == nil {
            let opt = MinHashLSH.optimalBands(threshold: options.threshold, numPerm: p)
            if b == nil && r == nil { b = opt.bands; r = opt.rows } else if b == nil { b = max(1, p / r!) } else { r = max(1, p / b!) }
        }
        guard let bb = b, let rr = r, bb >= 1, rr >= 1, bb <= p, rr <= p, bb * rr <= p else {  // each <= p first: the product cannot overflow
            throw DataError.batch("minhash: bands × rows must be at most numPerm (\(p)), got \(b ?? 0) × \(r ?? 0)")
        }
        self.bands = bb; self.rows = rr; self.options = options; self.name = name
        self.hasher = MinHasher(options.minhash)
    }

    /// Clusters found: kept documents with at least one near duplicate dropped.
    public var clusters: Int { clusterSizes.count }
    /// Approximate memory of the index, ids and stored signatures, in bytes.
    public var memoryBytes: Int { index.bytes + ids.bytes.count + ids.ends.count * 4 + signatures.count * 4 }

    /// The band keys of a signature (band index mixed in).
    func bandKeys(_ sig: [UInt32]) -> [UInt64] {
        sig.withUnsafeBytes { raw in
            (0..<bands).map { k in
                let slice = UnsafeRawBufferPointer(rebasing: raw[(k * rows * 4)..<((k + 1) * rows * 4)])
                return DedupHash.xxh64(slice, seed: UInt64(k) &* 0x9E37_79B9_7F4A_7C15)
            }
        }
    }

    public func process(_ doc: Document) throws -> StageOutcome {
        seen += 1
        let sig = hasher.signature(doc.text)
        let keys = bandKeys(sig)
        var root: UInt32? = nil
        for k in keys {
            guard let r = index.get(k) else { continue }
            if options.verify {
                let p = hasher.options.numPerm, base = Int(r) * p
                let est = MinHasher.estimate(sig, Array(signatures[base..<(base + p)]))
                if est < options.threshold { continue }
            }
            root = r; break
        }
        if let r = root {
            for k in keys { index.insertIfAbsent(k, r) }
            duplicates += 1
            clusterSizes[r, default: 1] += 1
            return .drop(reason: "\(name): near duplicate of \(ids[Int(r)])")
        }
        let ord = UInt32(truncatingIfNeeded: ids.count)
        for k in keys { index.insertIfAbsent(k, ord) }
        ids.append(doc.id)
        if options.verify { signatures.append(contentsOf: sig) }
        if ids.count & 1023 == 0 { try held.set(memoryBytes) }  // the index counts against the memory budget
        return .keep(doc)
    }
}
