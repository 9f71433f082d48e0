// ShardLoader: (x, y) batches of B windows of T+1 tokens from memory-mapped shards. Each shard is cut
// into non-overlapping windows (stride T); every epoch visits all windows in a permutation seeded by
// (seed, epoch); rank r of W takes every W-th window of it (data parallelism: disjoint, equal counts).
// Batches are computed ahead on a background serial queue (`prefetch` of them); the position
// (epoch, batch) counts only consumed batches, so save/restore resumes exactly.
import Dispatch
import LLMCore

/// Shuffled, rank-sharded, prefetching batches over a shard split.
public final class ShardLoader: @unchecked Sendable {
    /// Where the next batch comes from.
    public struct Position: Equatable, Sendable {
        public var epoch: Int
        public var batch: Int
        public init(epoch: Int, batch: Int) { self.epoch = epoch; self.batch = batch }
    }

    public let batchSize: Int, blockSize: Int, rank: Int, worldSize: Int
    public let seed: UInt64
    /// Batches per epoch for this rank.
    public let batchesPerEpoch: Int
    public private(set) var position = Position(epoch: 0, batch: 0)

    private let split: ShardSplit
    private let windowEnds: [Int]  // prefix sums of windows per shard
    private let prefetch: Int
    private let queue = DispatchQueue(label: "llmscript.shardloader")
    /// The memory budget current when the loader was made: batches built on `queue` are charged to it.
    private let account: (any MemoryAccount)? = MemoryAccounts.current
    private var inflight: [(Position, DispatchSemaphore, Box)] = []
    private var permutationEpoch = -1  // touched only on `queue`
    private var permutation: [Int32] = []

    final class Box: @unchecked Sendable { var batch: Batch?; var error: Error? }

    public init(split: ShardSplit, batchSize: Int, blockSize: Int, seed: UInt64, rank: Int = 0, worldSize: Int = 1, prefetch: Int = 2) throws {
        guard batchSize > 0, blockSize > 0 else { throw DataError.batch("ShardLoader: batchSize and blockSize must be positive") }
        guard batchSize <= Int(Int32.max), blockSize <= Int(Int32.max) else {  // windows are counted in Int32; blockSize + 1 must not overflow
            throw DataError.batch("ShardLoader: batchSize and blockSize must be at most \(Int32.max), got \(batchSize) and \(blockSize)")
        }
        guard worldSize > 0, rank >= 0, rank < worldSize else { throw DataError.batch("ShardLoader: rank \(rank) is not in 0..<\(worldSize)") }
        guard prefetch >= 0, prefetch <= 64 else { throw DataError.batch("ShardLoader: prefetch must be in 0...64, got \(prefetch)") }
        var ends: [Int] = [], total = 0
        for s in split.shards { total += Swift.max(0, (s.tokenCount - 1) / blockSize); ends.append(total) }
        guard total <= Int(Int32.max) else { throw DataError.batch("ShardLoader: too many windows (\(total))") }
        let perRank = total / worldSize
        guard perRank >= batchSize else {
            throw DataError.batch("ShardLoader: \(total) windows of \(blockSize + 1) tokens are too few for \(worldSize) rank(s) × batchSize \(batchSize)")
        }
        self.split = split; self.batchSize = batchSize; self.blockSize = blockSize
        self.seed = seed; self.rank = rank; self.worldSize = worldSize; self.prefetch = prefetch
        windowEnds = ends
        batchesPerEpoch = perRank / batchSize
    }

    deinit { drain() }

    func advanced(_ p: Position) -> Position {
        p.batch + 1 < batchesPerEpoch ? Position(epoch: p.epoch, batch: p.batch + 1) : Position(epoch: p.epoch + 1, batch: 0)
    }

    /// The next batch (x, y) — (batchSize, blockSize) int64 each.
    public func next() throws -> Batch {
        fill()
        let (_, sem, box) = inflight.removeFirst()
        sem.wait()
        position = advanced(position)
        fill()
        if let e = box.error { throw e }
        return box.batch!
    }

    /// Batch `i` (0-based) of epoch 0, computed now: a fixed evaluation set (does not move the position).
    public func batch(at i: Int) throws -> Batch {
        guard i >= 0, i < batchesPerEpoch else { throw DataError.batch("ShardLoader: batch \(i + 1) is out of range 1..\(batchesPerEpoch)") }
        return try queue.sync { try compute(Position(epoch: 0, batch: i)) }
    }

    /// Continues from a saved position (prefetched batches are discarded).
    public func restore(_ p: Position) throws {
        guard p.epoch >= 0, p.batch >= 0, p.batch < batchesPerEpoch else {
            throw DataError.batch("ShardLoader: position (epoch \(p.epoch), batch \(p.batch)) is out of range (\(batchesPerEpoch) batches per epoch)")
        }
        drain()
        position = p
    }

    private func drain() {
        for (_, sem, _) in inflight { sem.wait() }
        inflight.removeAll()
    }

    /// Keeps `max(1, prefetch)` batches scheduled after the current position.
    private func fill() {
        var p = inflight.last.map { advanced($0.0) } ?? position
        while inflight.count < Swift.max(1, prefetch) {
            let sem = DispatchSemaphore(value: 0), box = Box(), at = p
            queue.async { [self] in
                do { box.batch = try MemoryAccounts.withCurrent(self.account) { try self.compute(at) } } catch { box.error = error }
                sem.signal()
            }
            inflight.append((at, sem, box))
            p = advanced(p)
        }
    }

    /// Runs on `queue` only.
    private func compute(_ p: Position) throws -> Batch {
        if permutationEpoch != p.epoch {
            let total = windowEnds.last ?? 0
            var perm = (0..<total).map { Int32($0) }
            let g = Generator(seed: seed ^ (UInt64(p.epoch) &* 0x9E37_79B9_7F4A_7C15))
            if total > 1 { for i in stride(from: total - 1, to: 0, by: -1) { perm.swapAt(i, Int(g.integer(below: UInt64(i + 1)))) } }
            permutation = perm
            permutationEpoch = p.epoch
        }
        let t = blockSize
        let x = try Tensor(shape: [batchSize, t], dtype: .int64, zeroed: false)
        let y = try Tensor(shape: [batchSize, t], dtype: .int64, zeroed: false)
        let px = x.storage.bytes.assumingMemoryBound(to: Int64.self), py = y.storage.bytes.assumingMemoryBound(to: Int64.self)
        for b in 0..<batchSize {
            let window = Int(permutation[rank + worldSize * (p.batch * batchSize + b)])
            var s = 0, lo = 0, hi = windowEnds.count - 1
            while lo <= hi { let mid = (lo + hi) / 2; if windowEnds[mid] > window { s = mid; hi = mid - 1 } else { lo = mid + 1 } }
            let first = s == 0 ? 0 : windowEnds[s - 1]
            let start = (window - first) * t
            split.shards[s].copy(from: start, count: t, into: px + b * t)
            split.shards[s].copy(from: start + 1, count: t, into: py + b * t)
        }
        return Batch(x: x, y: y)
    }
}
