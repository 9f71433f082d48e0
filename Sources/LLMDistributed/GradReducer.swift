// GradReducer: data-parallel gradient averaging in buckets, overlapped with backward (PyTorch DDP's
// Reducer). The parameters, in reverse registration order (roughly the order backward finishes them),
// are grouped into buckets of at most `bucketCap` floats; each bucket owns a flat buffer of its gradients
// followed by one flag per parameter (1 when this rank has a gradient for it).
// Protocol per optimizer step: `arm()` before the backward of the last micro-batch; during that backward
// LLMCore's gradient-ready hooks copy each final gradient into its bucket, and a bucket whose gradients
// are all in is started as a non-blocking all-reduce (sum) — buckets start strictly in index order, so
// every rank starts the same sequence of collectives; `finish()` (after backward) fills the buckets still
// missing gradients with zeros, starts them, waits for all, divides by the rank count and copies the
// averages back into `p.grad`. Earlier micro-batches' backwards (gradient accumulation) find the reducer
// disarmed: no communication. Without overlap, or with compression, finish() does all the work.
// Parameters without a gradient (unused in the forward) count as zeros, like find_unused_parameters:
// after finish() such a parameter gets the average of the ranks that had one, or keeps grad = nil when
// no rank had one (the flags), so every rank applies the same update and a single process's behaviour
// (no gradient: the optimizer skips it) is kept.
// Compression: f16/bf16 wire formats (blocking, Communicator.allReduce(_:op:wire:)) and top-k
// sparsification with error feedback (GradReducer+TopK.swift); both run in finish().
// Call from the thread that runs backward (MPI is single-threaded): hooks run on backward's thread.
import CMPIShim
import Foundation
import LLMCore

/// How gradient buckets travel.
public enum GradCompression: Sendable, Equatable {
    /// float32 all-reduce (overlapped with backward when the reducer overlaps).
    case none
    /// 16-bit all-reduce (f16 or bf16 values and partial sums).
    case wire(WireFormat)
    /// Top-k sparsification with error feedback: each rank sends the `ratio` largest |g + residual|
    /// entries of each bucket as (index, value) pairs (an all-gather); what it did not send is kept in
    /// its residual and added to the next step's gradient.
    case topK(ratio: Double)

    /// How the option is written in Lua: 'none', 'f16', 'bf16', 'topk 0.01'.
    public var label: String {
        switch self {
        case .none: return "none"
        case .wire(let w): return w.rawValue
        case .topK(let r): return "topk \(r)"
        }
    }
}

/// Counters and times of a ``GradReducer`` (seconds of wall time on this rank).
public struct GradReducerStats: Sendable {
    /// Optimizer steps reduced (finish() calls that had work).
    public var steps = 0
    /// Collectives started (all-reduces, or all-gathers for top-k), one per bucket per step.
    public var collectives = 0
    /// Buckets started during backward, before finish() (overlap).
    public var startedInBackward = 0
    /// Time inside the gradient-ready hooks during backward (copies into buckets, starting collectives).
    public var hookSeconds = 0.0
    /// Time inside finish() blocked on communication (waits; blocking compressed collectives).
    public var waitSeconds = 0.0
    /// Total time inside finish().
    public var finishSeconds = 0.0
    /// Time from the first bucket started during backward to the start of finish(), summed over steps:
    /// the compute that in-flight all-reduces could hide behind if MPI progressed on its own (a spare
    /// core or a progress thread); without one, they progress only inside MPI calls (the hooks test them).
    public var overlapWindowSeconds = 0.0
}

/// Averages the gradients of a set of parameters across the ranks of a communicator (see the file header).
public final class GradReducer: @unchecked Sendable {
    final class Bucket {
        /// Indices into `params`, in bucket order.
        let members: [Int]
        /// Float offset of each member in `flat`.
        let offsets: [Int]
        /// Gradient floats (the flags follow them in `flat`).
        let floats: Int
        /// Gradients, then one flag per member.
        let flat: Tensor
        var missing = 0
        var request: Request?
        var started = false
        /// Top-k: what this rank has not sent yet (error feedback).
        var residual: Tensor?

        init(members: [Int], sizes: [Int]) throws {
            self.members = members
            var offs: [Int] = [], n = 0
            for s in sizes { offs.append(n); n += s }
            offsets = offs; floats = n
            flat = try Tensor(shape: [n + members.count])
        }
    }

    /// The communicator the gradients are averaged over.
    public let comm: Communicator
    /// The parameters (each tensor once, in registration order).
    public let params: [Tensor]
    /// True when buckets start during backward.
    public let overlap: Bool
    /// The compression of the buckets.
    public let compression: GradCompression
    let buckets: [Bucket]
    /// Per parameter: its bucket and position in it.
    private let slot: [(bucket: Int, member: Int)]
    private var hooks: [GradReadyHooks.Handle] = []
    private var ready: [Bool]
    private var armed = false
    private var nextStart = 0
    private var firstStartTime: Double?
    /// Counters and times since creation (or the last ``resetStats()``).
    public internal(set) var stats = GradReducerStats()

    /// Creates the buckets and registers the gradient-ready hooks (collective over `comm`: every rank
    /// must create its reducer with the same parameter shapes and options; this is checked).
    /// - Parameters:
    ///   - params: the parameters (a tensor given twice counts once).
    ///   - bucketCap: floats per bucket (a parameter larger than that is a bucket of its own).
    ///   - overlap: start buckets during backward (else all of them in finish()).
    public init(params: [Tensor], comm: Communicator, bucketCap: Int, overlap: Bool = true, compression: GradCompression = .none) throws {
        guard bucketCap >= 1 else { throw DistError("dist.GradReducer: bucketSize must be a positive number of floats, got \(bucketCap)") }
        if case .topK(let r) = compression, !(r > 0 && r <= 1) {
            throw DistError("dist.GradReducer: topk must be a ratio in (0, 1], got \(r)")
        }
        var seen = Set<ObjectIdentifier>(), unique: [Tensor] = []
        for p in params where seen.insert(ObjectIdentifier(p)).inserted {
            guard p.dtype == .float32 else { throw DistError("dist.GradReducer: parameter \(unique.count + 1) is \(p.dtype.rawValue), expected float32") }
            unique.append(p)
        }
        guard !unique.isEmpty else { throw DistError("dist.GradReducer: no parameters") }
        self.comm = comm; self.params = unique; self.overlap = overlap; self.compression = compression
        var groups: [[Int]] = [], cur: [Int] = [], n = 0
        for i in stride(from: unique.count - 1, through: 0, by: -1) {
            let k = unique[i].count
            if !cur.isEmpty && n + k > bucketCap { groups.append(cur); cur = []; n = 0 }
            cur.append(i); n += k
        }
        if !cur.isEmpty { groups.append(cur) }
        buckets = try groups.map { g in try Bucket(members: g, sizes: g.map { unique[$0].count }) }
        var slot = Array(repeating: (bucket: 0, member: 0), count: unique.count)
        for (b, bucket) in buckets.enumerated() { for (m, i) in bucket.members.enumerated() { slot[i] = (b, m) } }
        self.slot = slot
        ready = Array(repeating: false, count: unique.count)
        try checkSameLayout()
        guard comm.size > 1 else { return }
        for (i, p) in unique.enumerated() {
            hooks.append(GradReadyHooks.register(p) { [weak self] _ in try self?.gradientReady(i) })
        }
    }

    deinit { close() }

    /// Number of buckets.
    public var bucketCount: Int { buckets.count }
    /// Floats in each bucket (gradients only), in bucket order.
    public var bucketSizes: [Int] { buckets.map(\.floats) }

    /// Unregisters the hooks (the reducer stays usable without overlap).
    public func close() {
        hooks.forEach(GradReadyHooks.remove)
        hooks = []
    }

    /// Zeroes the counters and times.
    public func resetStats() { stats = GradReducerStats() }

    /// One all-reduce (max) of [layout, -layout]: every rank must hold the same buckets and options.
    private func checkSameLayout() throws {
        guard comm.size > 1 else { return }
        let code: Int = {
            switch compression {
            case .none: return 0
            case .wire(let w): return w == .f16 ? 1 : 2
            case .topK(let r): return 3 + Int(r * 1e6)
            }
        }()
        let total = buckets.reduce(0) { $0 + $1.floats }
        let sig = [params.count, buckets.count, total >> 24, total & 0xFF_FFFF, code, overlap ? 1 : 0].map(Float.init)
        let t = try Tensor(sig + sig.map { -$0 }, shape: [2 * sig.count])
        try comm.allReduce(t, op: .max)
        let v = t.toFloats()
        guard Array(v[0..<sig.count]) == sig && v[sig.count...].map({ -$0 }) == sig else {
            throw DistError(
                "dist.GradReducer: the ranks' models or options differ (rank \(comm.rank) of \(comm.size) has \(params.count) parameters, \(total) floats in \(buckets.count) buckets, compression \(compression.label), overlap \(overlap))"
            )
        }
    }

    /// The next backward is the step's last: its gradient-ready hooks fill and start the buckets.
    /// - Throws: when the previous armed step was not finished.
    public func arm() throws {
        guard !buckets.contains(where: { $0.request != nil }) else {
            throw DistError("dist.GradReducer: arm() before finish() of the previous step (its all-reduces are still in flight)")
        }
        reset()
        armed = overlap && compression == .none && comm.size > 1
    }

    private func reset() {
        for i in ready.indices { ready[i] = false }
        for b in buckets { b.missing = b.members.count; b.started = false; b.request = nil }
        nextStart = 0
        firstStartTime = nil
    }

    static func clockSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Hook: parameter i's gradient is final for this backward.
    private func gradientReady(_ i: Int) throws {
        guard armed else { return }
        let t0 = GradReducer.clockSeconds()
        defer { stats.hookSeconds += GradReducer.clockSeconds() - t0 }
        let (b, _) = slot[i]
        guard !buckets[b].started else {
            throw DistError("dist.GradReducer: a second backward after arm() reached parameter \(i + 1) (its bucket is already being reduced); call finish() first")
        }
        try fill(i)
        if buckets[b].missing == 0 { try startReadyBuckets() }
    }

    /// Copies parameter i's gradient (or zeros) into its bucket and sets its flag.
    private func fill(_ i: Int) throws {
        guard !ready[i] else { return }
        let (b, m) = slot[i]
        let bucket = buckets[b], n = params[i].count
        let dst = bucket.flat.f32 + bucket.offsets[m]
        if let g = params[i].grad {
            let c = try g.contiguous()
            guard c.count == n, c.dtype == .float32 else {
                throw DistError("dist.GradReducer: the gradient of parameter \(i + 1) has \(c.count) \(c.dtype.rawValue) values for \(n) weights")
            }
            dst.update(from: c.f32, count: n)
            bucket.flat.f32[bucket.floats + m] = 1
        } else {
            dst.update(repeating: 0, count: n)
            bucket.flat.f32[bucket.floats + m] = 0
        }
        ready[i] = true
        bucket.missing -= 1
    }

    /// Starts the complete buckets from `nextStart` on, in order (stops at the first incomplete one). When
    /// it started one during backward it then tests the oldest request in flight: MPI progresses only inside MPI calls (no
    /// progress thread), and one test per bucket start, rather than per gradient, keeps the calls (each may
    /// yield the core under mpi_yield_when_idle) few.
    private func startReadyBuckets() throws {
        let first = nextStart
        while nextStart < buckets.count, buckets[nextStart].missing == 0 {
            let bucket = buckets[nextStart]
            bucket.request = try comm.iallReduce(bucket.flat, op: .sum)
            bucket.started = true
            stats.collectives += 1
            if armed {
                stats.startedInBackward += 1
                if firstStartTime == nil { firstStartTime = GradReducer.clockSeconds() }
            }
            nextStart += 1
        }
        if armed && nextStart > first, let oldest = buckets[..<nextStart].first(where: { $0.request != nil }), try oldest.request!.test() {
            oldest.request = nil
        }
    }

    /// Completes the step: fills what backward did not, reduces every bucket, waits, averages and writes
    /// `p.grad`. Without an `arm()` since the last finish it reduces the gradients as they are now.
    public func finish() throws {
        let t0 = GradReducer.clockSeconds()
        defer { armed = false; stats.finishSeconds += GradReducer.clockSeconds() - t0 }
        guard comm.size > 1 else { return }
        if let first = firstStartTime { stats.overlapWindowSeconds += t0 - first }
        if !armed { reset() }
        armed = false
        for i in params.indices where !ready[i] { try fill(i) }
        switch compression {
        case .none:
            try startReadyBuckets()
            let w0 = GradReducer.clockSeconds()
            for b in buckets { try b.request?.wait(); b.request = nil }
            stats.waitSeconds += GradReducer.clockSeconds() - w0
        case .wire(let format):
            let w0 = GradReducer.clockSeconds()
            for b in buckets { try comm.allReduce(b.flat, op: .sum, wire: format); b.started = true }
            stats.collectives += buckets.count
            stats.waitSeconds += GradReducer.clockSeconds() - w0
        case .topK(let ratio):
            for b in buckets { try reduceTopK(b, ratio: ratio) }
            stats.collectives += buckets.count
        }
        stats.steps += 1
        for b in buckets { try writeBack(b) }
    }

    /// Divides the bucket's sums by the rank count and writes them into the gradients of its members.
    private func writeBack(_ b: Bucket) throws {
        let f = b.flat.f32, scale = 1 / Float(comm.size)
        for (m, i) in b.members.enumerated() {
            let p = params[i], n = p.count, src = f + b.offsets[m]
            if p.grad == nil && f[b.floats + m] == 0 { continue }  // no rank had a gradient
            let g: Tensor
            if let cur = p.grad, cur.isContiguous, cur.count == n, cur.dtype == .float32 {
                g = cur
            } else {
                g = try Tensor(shape: p.shape, zeroed: false)
                p.grad = g
            }
            let dst = g.f32
            for k in 0..<n { dst[k] = src[k] * scale }
        }
    }
}
