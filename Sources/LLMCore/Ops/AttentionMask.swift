// AttentionMask: the one position/mask interface of the fused attention, shared by training, generation
// (KV cache), serving (batched decoding of sequences of different lengths) and fine-tuning (packed examples).
// Every query and every key has an absolute position; a key is visible to a query iff all of:
//   - keyMask[b, j] ≠ 0                                   (padding keys are 0)
//   - causal:  keyPos ≤ queryPos
//   - window W: queryPos − keyPos < W (and, without causal, keyPos − queryPos < W: a symmetric band)
//   - segments: querySegment == keySegment                (packed examples never see each other)
// and ALiBi adds −slope_h·(queryPos − keyPos) to the logit (after the q·kᵀ scale).
// Defaults: positions (B,T) = S−T+i for every row (the last T of S keys, the KV-cache convention);
// keyPositions (B,S) = 0..S−1; querySegments (B,T) = the last T columns of segments. Positions and segment
// ids are integers within ±2^30 (the kernels compare them as int32).
// A query that sees no key returns 0 and passes no gradient (never NaN).
// `AttentionLayout` is the resolved form (plain arrays) the kernels and the VJP read: per batch row, the
// query rows in blocks of 64 and the key range each block needs, so the masked triangle of causal attention
// and the keys left of a sliding window are never multiplied. With no positions/window/segments/ALiBi the
// layout is "simple": the original fast path (causal limit i + S − T, optional keyMask) without per-key tests.
// reference: Press et al. 2022 (ALiBi; slopes as HF transformers' build_alibi_tensor); Beltagy et al. 2020
// and Mistral 7B (sliding window); Krell et al. 2021 (packing with segment masks).
import CKernels
import Foundation

/// Which keys each query of a fused attention sees, and the ALiBi bias.
///
/// Positions and segment ids are int tensors (any integer dtype, or floats holding integers); a per-row
/// tensor may also be given as one row (T) or (S) shared by the whole batch.
public struct AttentionMask {
    /// ALiBi slopes: the paper's geometric sequence for H heads, or one slope per head.
    public enum ALiBi {
        case standard
        case slopes(Tensor)
    }

    /// key visible only when keyPos ≤ queryPos.
    public var causal: Bool
    /// (B,T): absolute position of each query; default S−T+i.
    public var positions: Tensor?
    /// (B,S): absolute position of each key; default 0..S−1.
    public var keyPositions: Tensor?
    /// Sliding window: only keys with queryPos − keyPos < window (symmetric band without `causal`).
    public var window: Int?
    /// (B,S): 0 marks a padding key.
    public var keyMask: Tensor?
    /// (B,S): segment id of each key (packed examples).
    public var segments: Tensor?
    /// (B,T): segment id of each query; default the last T columns of `segments`.
    public var querySegments: Tensor?
    /// Linear position bias −slope_h·(queryPos − keyPos).
    public var alibi: ALiBi?

    public init(
        causal: Bool = false, positions: Tensor? = nil, keyPositions: Tensor? = nil, window: Int? = nil,
        keyMask: Tensor? = nil, segments: Tensor? = nil, querySegments: Tensor? = nil, alibi: ALiBi? = nil
    ) {
        self.causal = causal
        self.positions = positions
        self.keyPositions = keyPositions
        self.window = window
        self.keyMask = keyMask
        self.segments = segments
        self.querySegments = querySegments
        self.alibi = alibi
    }

    /// The standard ALiBi slopes for `heads` heads (HF `build_alibi_tensor`): 2^(−8i/n) for the largest power of
    /// two n ≤ heads, then every other slope of the 2n sequence for the remaining heads.
    public static func alibiSlopes(heads: Int) -> [Double] {
        guard heads > 0 else { return [] }
        var p = 1
        while p * 2 <= heads { p *= 2 }
        let base = Foundation.pow(2.0, -8.0 / Double(p)), extra = Foundation.pow(2.0, -4.0 / Double(p))
        var slopes = (1...p).map { Foundation.pow(base, Double($0)) }
        let rest = Swift.min(p, heads - p)
        if rest > 0 { slopes += (0..<rest).map { Foundation.pow(extra, Double(2 * $0 + 1)) } }
        return slopes
    }
}

/// One block of query rows and the key range it multiplies.
struct AttentionBlock {
    let rows: Range<Int>
    let keys: Range<Int>
}

/// The resolved form of an ``AttentionMask`` for given (B, H, T, S): what the kernels and the VJP read.
/// Opaque outside LLMCore; recorded with the attention primitive.
public final class AttentionLayout: @unchecked Sendable {
    let b: Int, h: Int, t: Int, s: Int
    let causal: Bool
    /// True when only `causal` and `keyMask` are set (the fast path: no per-key position tests).
    let simple: Bool
    let keyLive: [Bool]?  // (B,S); the simple path's padding mask
    // General layouts: int32 positions (B,T), (B,S); segment ids (0 when absent); live keys (1 when no keyMask);
    // key j visible to query i iff dlo ≤ qpos − kpos ≤ dhi, the segments match and the key is live.
    private let qpos: UnsafeMutablePointer<Int32>, kpos: UnsafeMutablePointer<Int32>
    private let qseg: UnsafeMutablePointer<Int32>, kseg: UnsafeMutablePointer<Int32>
    private let live: UnsafeMutablePointer<UInt8>
    private let dlo: Int32, dhi: Int32
    private let slopes: [Float]  // (H), 0 without ALiBi
    /// Per batch row (one shared entry when simple).
    private(set) var blockTable: [[AttentionBlock]] = []

    /// Positions are kept within ±2^30 so that their differences fit the kernels' int32.
    static let positionLimit = 1 << 30

    init(_ m: AttentionMask, b: Int, h: Int, t: Int, s: Int) throws {
        (self.b, self.h, self.t, self.s) = (b, h, t, s)
        causal = m.causal
        let general =
            !(m.positions == nil && m.keyPositions == nil && m.window == nil && m.segments == nil
            && m.querySegments == nil && m.alibi == nil)
        simple = !general
        func buffer<T: FixedWidthInteger>(_ n: Int, _ v: [Int]?, _ fill: T) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(n, 1))
            if let v { for i in 0..<n { p[i] = T(truncatingIfNeeded: v[i]) } } else { p.initialize(repeating: fill, count: Swift.max(n, 1)) }
            return p
        }
        // everything that can throw is read first, then the buffers are allocated
        if let w = m.window, w < 1 { throw TensorError.invalid("Invalid 'window': expected a positive integer, got \(w)") }
        if m.causal && m.positions == nil && s < t {
            throw TensorError.shape("attention: causal attention needs at least as many keys (\(s)) as queries (\(t)), or explicit positions")
        }
        let liveValues = try m.keyMask.map { km -> [Bool] in
            guard km.shape == [b, s] else { throw TensorError.shape("attention: keyMask has shape \(shapeString(km.shape)), expected [\(b), \(s)]") }
            return km.toDoubles().map { $0 != 0 }
        }
        keyLive = liveValues
        let lim = AttentionLayout.positionLimit
        let qp =
            general
            ? try m.positions.map { try AttentionLayout.perRow($0, "positions", b: b, n: t, limit: lim) }
                ?? (0..<(b * t)).map { s - t + $0 % Swift.max(t, 1) } : nil
        let kp =
            general
            ? try m.keyPositions.map { try AttentionLayout.perRow($0, "keyPositions", b: b, n: s, limit: lim) }
                ?? (0..<(b * s)).map { $0 % Swift.max(s, 1) } : nil
        if m.querySegments != nil && m.segments == nil {
            throw TensorError.invalid("Invalid 'querySegments': expected it together with 'segments' (the key segment ids)")
        }
        let ks = try m.segments.map { try AttentionLayout.perRow($0, "segments", b: b, n: s, limit: lim) }
        var qs: [Int]?
        if let q = m.querySegments {
            qs = try AttentionLayout.perRow(q, "querySegments", b: b, n: t, limit: lim)
        } else if let ks {
            guard s >= t else {
                throw TensorError.shape("attention: querySegments defaults to the last T of segments, but there are fewer keys (\(s)) than queries (\(t)); pass querySegments")
            }
            qs = (0..<(b * t)).map { ks[($0 / t) * s + s - t + $0 % t] }
        }
        switch m.alibi {
        case nil: slopes = [Float](repeating: 0, count: h)
        case .standard?: slopes = AttentionMask.alibiSlopes(heads: h).map(Float.init)
        case .slopes(let sl)?:
            guard sl.count == h, sl.rank == 1 else { throw TensorError.shape("attention: alibi slopes have shape \(shapeString(sl.shape)), expected [\(h)] (one per query head)") }
            slopes = sl.toDoubles().map(Float.init)
        }
        let w = m.window.map { Int32(clamping: $0 - 1) } ?? Int32.max
        dhi = w
        dlo = m.causal ? 0 : (m.window == nil ? Int32.min : -w)
        let n = general ? 1 : 0  // the simple path reads none of the buffers
        qpos = buffer(n * b * t, qp, Int32(0)); kpos = buffer(n * b * s, kp, Int32(0))
        qseg = buffer(n * b * t, qs, Int32(0)); kseg = buffer(n * b * s, ks, Int32(0))
        live = buffer(n * b * s, liveValues.map { $0.map { $0 ? 1 : 0 } }, UInt8(1))
        blockTable = general ? (0..<b).map { generalBlocks(bi: $0) } : [AttentionLayout.causalBlocks(t: t, s: s, causal: causal)]
    }

    deinit {
        qpos.deallocate(); kpos.deallocate(); qseg.deallocate(); kseg.deallocate(); live.deallocate()
    }

    /// Integer values of a (B,N) or (N) position/segment tensor as B·N Ints, each within ±limit.
    static func perRow(_ x: Tensor, _ name: String, b: Int, n: Int, limit: Int = 1 << 52) throws -> [Int] {
        guard x.shape == [b, n] || x.shape == [n] else {
            throw TensorError.shape("attention: \(name) has shape \(shapeString(x.shape)), expected [\(b), \(n)] or [\(n)]")
        }
        let vals = x.toDoubles()
        if let bad = vals.first(where: { $0 != $0.rounded() || Swift.abs($0) > Double(limit) }) {
            throw TensorError.invalid("Invalid '\(name)': expected integers within ±\(limit), got \(bad)")
        }
        let ints = vals.map { Int($0) }
        return x.rank == 1 ? (0..<b).flatMap { _ in ints } : ints
    }

    func blocks(_ bi: Int) -> [AttentionBlock] { blockTable.count == 1 ? blockTable[0] : blockTable[bi] }

    /// Causal fast path: rows [i0, i1) see keys [0, i1 + S − T), 64 rows a block; one block without causal.
    static func causalBlocks(t: Int, s: Int, causal: Bool) -> [AttentionBlock] {
        guard causal, t > 64 else { return t == 0 ? [] : [AttentionBlock(rows: 0..<t, keys: 0..<s)] }
        return stride(from: 0, to: t, by: 64).map { i0 in
            let i1 = Swift.min(t, i0 + 64)
            return AttentionBlock(rows: i0..<i1, keys: 0..<Swift.min(s, i1 + s - t))
        }
    }

    /// General layouts: blocks of 64 rows, each with a key range holding every visible key. When the keys are in
    /// increasing (segment, position) order (unpacked rows with increasing positions, or packed examples one
    /// after the other with positions restarting) a row's range is found by binary search: its visible keys
    /// have that order between (qseg, qp − dhi) and (qseg, qp − dlo), O(T log S). Otherwise each row is scanned
    /// for its first and last visible key.
    private func generalBlocks(bi: Int) -> [AttentionBlock] {
        let kp = kpos + bi * s, ks = kseg + bi * s
        @inline(__always) func above(_ j: Int, _ seg: Int, _ pos: Int) -> Bool {  // (ks, kp)[j] > (seg, pos)
            Int(ks[j]) > seg || (Int(ks[j]) == seg && Int(kp[j]) > pos)
        }
        let sorted = s < 2 || (1..<s).allSatisfy { !above($0 - 1, Int(ks[$0]), Int(kp[$0])) }
        /// First key index in [0, s) whose (segment, position) is above (seg, pos).
        func firstAbove(_ seg: Int, _ pos: Int) -> Int {
            var (lo, hi) = (0, s)
            while lo < hi { let mid = (lo + hi) / 2; if above(mid, seg, pos) { hi = mid } else { lo = mid + 1 } }
            return lo
        }
        return stride(from: 0, to: t, by: 64).map { i0 in
            let rows = i0..<Swift.min(t, i0 + 64)
            var lo = s, hi = 0
            for i in rows {
                let qp = Int(qpos[bi * t + i]), qs = Int(qseg[bi * t + i])
                if sorted {
                    let a = firstAbove(qs, qp - Int(dhi) - 1), z = firstAbove(qs, qp - Int(dlo))
                    if a < z { lo = Swift.min(lo, a); hi = Swift.max(hi, z) }
                    continue
                }
                guard let first = (0..<s).first(where: { visible(bi, i, $0) }) else { continue }
                lo = Swift.min(lo, first)
                hi = Swift.max(hi, ((first..<s).last(where: { visible(bi, i, $0) }) ?? first) + 1)
            }
            return AttentionBlock(rows: rows, keys: lo < hi ? lo..<hi : 0..<0)
        }
    }

    /// True when key j is visible to query i of batch row bi (general layouts; the kernels' rule).
    @inline(__always) func visible(_ bi: Int, _ i: Int, _ j: Int) -> Bool {
        let d = Int(qpos[bi * t + i]) - Int(kpos[bi * s + j])
        return d >= Int(dlo) && d <= Int(dhi) && qseg[bi * t + i] == kseg[bi * s + j] && live[bi * s + j] != 0
    }

    /// Softmax of score row i (batch bi, head hd) over the block's keys in place (hidden keys 0); returns the
    /// row's logsumexp (+∞ when no key is visible: the row is all 0).
    func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ bi: Int, _ hd: Int, _ i: Int, _ keys: Range<Int>) -> Float {
        if simple {
            let limit = causal ? Swift.min(keys.upperBound, i + s - t + 1) : keys.upperBound
            return Tensor.softmaxRow(row, s: keys.upperBound, limit: limit, keyLive: keyLive.map { ($0, bi * s) })
        }
        let k0 = bi * s + keys.lowerBound
        return llmk_attn_softmax_row(
            row + keys.lowerBound, keys.count, kpos + k0, qpos[bi * t + i], dlo, dhi,
            kseg + k0, qseg[bi * t + i], live + k0, slopes[hd])
    }

    /// Recomputes probability row i from its scores and the saved logsumexp (same masking as softmaxRow).
    func probsRow(_ row: UnsafeMutablePointer<Float>, _ bi: Int, _ hd: Int, _ i: Int, _ keys: Range<Int>, lse: Float) {
        if lse == .infinity { for j in keys { row[j] = 0 }; return }
        if simple {
            let limit = causal ? Swift.min(keys.upperBound, i + s - t + 1) : keys.upperBound
            Tensor.probsRow(row, s: keys.upperBound, limit: limit, lse: lse, keyLive: keyLive.map { ($0, bi * s) })
            return
        }
        let k0 = bi * s + keys.lowerBound
        llmk_attn_probs_row(
            row + keys.lowerBound, keys.count, kpos + k0, qpos[bi * t + i], dlo, dhi,
            kseg + k0, qseg[bi * t + i], live + k0, slopes[hd], lse)
    }
}
