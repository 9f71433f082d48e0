// AttentionVariantsTests: the fused attention's position/mask interface and grouped-query heads against an
// unfused reference built here from plain loops (visibility and ALiBi bias per (b, h, i, j)) and composed ops
// (kv heads picked with indexSelect, softmax, matmul), forward and gradients; finite-difference checks of
// each variant; rope and the gated units against closed forms.
import CKernels
import Foundation
import Testing
@testable import LLMCore

/// The semantics of AttentionMask written out independently of the kernels.
struct ReferenceMask {
    var causal = false, window: Int? = nil
    var qpos: (Int, Int) -> Int  // (b, i)
    var kpos: (Int, Int) -> Int  // (b, j)
    var keyLive: (Int, Int) -> Bool = { _, _ in true }
    var sameSegment: (Int, Int, Int) -> Bool = { _, _, _ in true }  // (b, i, j)
    var slopes: [Double]? = nil

    func bias(b: Int, h: Int, t: Int, s: Int) -> [Double] {
        var out: [Double] = []
        for bi in 0..<b {
            for hi in 0..<h {
                for i in 0..<t {
                    for j in 0..<s {
                        let d = qpos(bi, i) - kpos(bi, j)
                        var ok = keyLive(bi, j) && sameSegment(bi, i, j)
                        if causal && d < 0 { ok = false }
                        if let w = window, d >= w || -d >= w { ok = false }
                        out.append(ok ? -(slopes?[hi] ?? 0) * Double(d) : -.infinity)
                    }
                }
            }
        }
        return out
    }
}

@Suite("Attention variants: GQA, positions, windows, segments, ALiBi")
struct AttentionVariantsTests {
    func leaf(_ shape: [Int], _ f: Double) throws -> Tensor {
        let n = shape.reduce(1, *)
        return try gradLeaf((0..<n).map { Float(sin(Double($0) * f + 0.3)) }, shape)
    }

    /// softmax(q·kᵀ·scale + bias)·v with kv head h / (H/Hkv), rows with no visible key set to 0.
    func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor, _ bias: [Double]) throws -> Tensor {
        let (b, h, t, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3]), (hkv, s) = (k.shape[1], k.shape[2])
        let heads = try indexTensor((0..<h).map { Double($0 / (h / hkv)) }, [h])
        let kk = try k.indexSelect(1, heads), vv = try v.indexSelect(1, heads)
        let live = (0..<(b * h * t)).map { r in (0..<s).contains { bias[r * s + $0] > -.infinity } ? 1.0 : 0.0 }
        let finite = try Tensor.from(bias.map { $0 == -.infinity ? -1e9 : $0 }, shape: [b, h, t, s])
        let p = try q.matmul(kk.transpose(2, 3)).mul(1 / Float(d).squareRoot()).add(finite).softmax(dim: 3)
        return try p.matmul(vv).mul(Tensor.from(live, shape: [b, h, t, 1]))
    }

    /// Compares the fused forward and gradients of q, k, v with the reference.
    func check(_ shapes: (q: [Int], kv: [Int]), _ mask: AttentionMask, _ ref: ReferenceMask, tol: Float = 2e-5) throws {
        let q = try leaf(shapes.q, 0.37), k = try leaf(shapes.kv, 0.23), v = try leaf(shapes.kv, 0.41)
        let g = try Tensor((0..<shapes.q.reduce(1, *)).map { Float(cos(Double($0) * 0.13)) }, shape: shapes.q)
        let fused = try Tensor.attention(q, k, v, mask: mask)
        try fused.mul(g).sum().backward()
        let fusedGrads = try [q, k, v].map { try #require($0.grad).toFloats() }
        for x in [q, k, v] { x.grad = nil }
        let bias = ref.bias(b: shapes.q[0], h: shapes.q[1], t: shapes.q[2], s: shapes.kv[2])
        let expected = try reference(q, k, v, bias)
        try expected.mul(g).sum().backward()
        let worst = zip(fused.toFloats(), expected.toFloats()).map { Swift.abs($0 - $1) }.max() ?? 0
        #expect(worst < tol, "forward differs by \(worst)")
        #expect(fused.toFloats().allSatisfy { $0.isFinite })
        for (name, (x, fg)) in zip(["dq", "dk", "dv"], zip([q, k, v], fusedGrads)) {
            let w = zip(fg, try #require(x.grad).toFloats()).map { Swift.abs($0 - $1) }.max() ?? 0
            #expect(w < tol, "\(name) differs by \(w)")
        }
    }

    @Test(
        "grouped-query and multi-query attention read kv head h / (H/Hkv) and accumulate dk, dv per group",
        arguments: [2, 1])
    func groupedQuery(_ hkv: Int) throws {
        try check(
            ([2, 4, 5, 3], [2, hkv, 5, 3]), AttentionMask(causal: true),
            ReferenceMask(causal: true, qpos: { $1 }, kpos: { $1 }))
        try check(
            ([1, 4, 3, 3], [1, hkv, 6, 3]), AttentionMask(causal: false),
            ReferenceMask(causal: false, qpos: { $1 + 3 }, kpos: { $1 }))
    }

    @Test("sliding window with 64-row blocks that skip the keys left of the window", arguments: [(70, 70, 5), (130, 140, 64)])
    func slidingWindow(_ sz: (Int, Int, Int)) throws {
        let (t, s, w) = sz
        try check(
            ([1, 2, t, 4], [1, 1, s, 4]), AttentionMask(causal: true, window: w),
            ReferenceMask(causal: true, window: w, qpos: { $1 + s - t }, kpos: { $1 }))
        let layout = try AttentionLayout(AttentionMask(causal: true, window: w), b: 1, h: 2, t: t, s: s)
        #expect(layout.blocks(0).allSatisfy { $0.keys.count <= $0.rows.count + w - 1 })
    }

    @Test("a window without causal is a symmetric band")
    func symmetricWindow() throws {
        try check(
            ([1, 2, 6, 3], [1, 2, 6, 3]), AttentionMask(causal: false, window: 2),
            ReferenceMask(causal: false, window: 2, qpos: { $1 }, kpos: { $1 }))
    }

    @Test("ALiBi: standard slopes for a non-power-of-2 head count, and custom slopes")
    func alibi() throws {
        #expect(AttentionMask.alibiSlopes(heads: 8) == (1...8).map { Foundation.pow(2, -Double($0)) })
        #expect(AttentionMask.alibiSlopes(heads: 3) == [0.0625, 0.00390625, 0.25])  // 2^(−8/2·i), then 2^(−8/4) of the 4-head sequence
        let std = AttentionMask.alibiSlopes(heads: 3)
        try check(
            ([2, 3, 4, 3], [2, 3, 4, 3]), AttentionMask(causal: true, alibi: .standard),
            ReferenceMask(causal: true, qpos: { $1 }, kpos: { $1 }, slopes: std))
        let custom = try Tensor([0.5, -0.2], shape: [2])
        try check(
            ([1, 2, 3, 3], [1, 1, 5, 3]), AttentionMask(causal: false, alibi: .slopes(custom)),
            ReferenceMask(causal: false, qpos: { $1 + 2 }, kpos: { $1 }, slopes: [0.5, -0.2]))
    }

    @Test("packed examples: a query sees only keys of its segment, positions restart per segment")
    func segments() throws {
        let seg: [[Double]] = [[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 2]]
        let pos: [[Double]] = [[0, 1, 2, 0, 1, 2], [0, 1, 0, 1, 2, 0]]
        let segT = try indexTensor(seg.flatMap { $0 }, [2, 6]), posT = try indexTensor(pos.flatMap { $0 }, [2, 6])
        let mask = AttentionMask(causal: true, positions: posT, keyPositions: posT, segments: segT, alibi: .standard)
        let ref = ReferenceMask(
            causal: true, qpos: { Int(pos[$0][$1]) }, kpos: { Int(pos[$0][$1]) },
            sameSegment: { seg[$0][$1] == seg[$0][$2] }, slopes: AttentionMask.alibiSlopes(heads: 2))
        try check(([2, 2, 6, 3], [2, 2, 6, 3]), mask, ref)
    }

    @Test("block key ranges: packed segments over several 64-row blocks (binary search) and unordered keys (scan)")
    func blockRanges() throws {
        let n = 100
        let starts = [0, 30, 75]  // three packed examples, positions restarting at each
        let seg: [Double] = (0..<n).map { j in Double(starts.lastIndex { $0 <= j } ?? 0) }
        let pos: [Double] = (0..<n).map { j in Double(j - (starts.last { $0 <= j } ?? 0)) }
        let segT = try indexTensor(seg, [1, n]), posT = try indexTensor(pos, [1, n])
        try check(
            ([1, 1, n, 4], [1, 1, n, 4]), AttentionMask(causal: true, positions: posT, keyPositions: posT, segments: segT),
            ReferenceMask(causal: true, qpos: { Int(pos[$1]) }, kpos: { Int(pos[$1]) }, sameSegment: { seg[$1] == seg[$2] }))
        let layout = try AttentionLayout(AttentionMask(causal: true, positions: posT, keyPositions: posT, segments: segT), b: 1, h: 1, t: n, s: n)
        #expect(layout.blocks(0).map { (b: AttentionBlock) in b.keys } == [0..<64, 30..<100])
        // interleaved segments and reversed key positions: not ordered, so every row is scanned
        let iseg: [Double] = (0..<70).map { Double($0 % 2) }, rpos: [Double] = (0..<70).map { Double(69 - $0) }
        let mask = AttentionMask(
            causal: true, positions: try indexTensor(rpos, [70]), keyPositions: try indexTensor(rpos, [70]),
            window: 20, segments: try indexTensor(iseg, [70]))
        try check(
            ([1, 2, 70, 4], [1, 1, 70, 4]), mask,
            ReferenceMask(causal: true, window: 20, qpos: { Int(rpos[$1]) }, kpos: { Int(rpos[$1]) }, sameSegment: { iseg[$1] == iseg[$2] }))
    }

    @Test("batched decoding: per-row query positions and left padding over a KV cache")
    func perRowPositions() throws {
        // row 0 holds 5 real keys (positions 0..4), row 1 three (left-padded: positions −, −, 0, 1, 2)
        let kp: [[Double]] = [[0, 1, 2, 3, 4], [0, 0, 0, 1, 2]], live: [[Double]] = [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]]
        let qp: [[Double]] = [[3, 4], [1, 2]]
        let mask = AttentionMask(
            causal: true, positions: try indexTensor(qp.flatMap { $0 }, [2, 2]),
            keyPositions: try indexTensor(kp.flatMap { $0 }, [2, 5]), keyMask: try Tensor.from(live.flatMap { $0 }, shape: [2, 5]))
        let ref = ReferenceMask(causal: true, qpos: { Int(qp[$0][$1]) }, kpos: { Int(kp[$0][$1]) }, keyLive: { live[$0][$1] != 0 })
        try check(([2, 2, 2, 3], [2, 1, 5, 3]), mask, ref)
    }

    @Test("one (T) or (S) row of positions is shared by the batch; explicit querySegments for decoding over packed keys")
    func sharedRowsAndQuerySegments() throws {
        let q = try leaf([2, 2, 2, 3], 0.5), k = try leaf([2, 1, 4, 3], 0.2)
        let row = try Tensor.attention(q, k, k, mask: AttentionMask(causal: true, positions: indexTensor([2, 3], [2]), alibi: .standard))
        let full = try Tensor.attention(q, k, k, mask: AttentionMask(causal: true, positions: indexTensor([2, 3, 2, 3], [2, 2]), alibi: .standard))
        #expect(row.toFloats() == full.toFloats())
        // the last query of each row decodes in segment 1 / 0 of its cache
        let seg: [[Double]] = [[0, 0, 1, 1], [0, 0, 0, 1]], qs: [[Double]] = [[1, 1], [0, 0]]
        try check(
            ([2, 2, 2, 3], [2, 1, 4, 3]),
            AttentionMask(
                causal: true, segments: try indexTensor(seg.flatMap { $0 }, [2, 4]),
                querySegments: try indexTensor(qs.flatMap { $0 }, [2, 2])),
            ReferenceMask(causal: true, qpos: { $1 + 2 }, kpos: { $1 }, sameSegment: { seg[$0][$2] == qs[$0][$1] }))
    }

    @Test("a query that sees no key returns 0 and passes no gradient, on both paths")
    func fullyMasked() throws {
        let live: [Double] = [1, 1, 1, 0, 0, 0]
        let km = try Tensor.from(live, shape: [2, 3])
        try check(
            ([2, 1, 3, 2], [2, 1, 3, 2]), AttentionMask(causal: true, keyMask: km),
            ReferenceMask(causal: true, qpos: { $1 }, kpos: { $1 }, keyLive: { live[$0 * 3 + $1] != 0 }))
        // window 1 with shifted key positions: query 0 sees nothing
        let kpos = try indexTensor([1, 2, 3], [3])
        try check(
            ([1, 1, 3, 2], [1, 1, 3, 2]), AttentionMask(causal: true, keyPositions: kpos, window: 1),
            ReferenceMask(causal: true, window: 1, qpos: { $1 }, kpos: { $1 + 1 }))
    }

    @Test("finite differences agree for every variant")
    func gradChecks() throws {
        let pos = try indexTensor([1, 3, 4], [1, 3]), seg = try indexTensor([0, 1, 1], [1, 3])
        let masks: [(String, AttentionMask, Int)] = [
            ("gqa", AttentionMask(causal: true), 1),
            ("window", AttentionMask(causal: true, window: 2), 2),
            ("alibi", AttentionMask(causal: false, alibi: .standard), 2),
            ("segments", AttentionMask(causal: true, segments: seg), 2),
            ("positions", AttentionMask(causal: true, positions: pos, keyPositions: pos), 1),
            ("masked row", AttentionMask(causal: true, keyMask: try Tensor([0, 1, 1], shape: [1, 3])), 2)
        ]
        for (name, mask, hkv) in masks {
            let q = try leaf([1, 2, 3, 2], 0.7), k = try leaf([1, hkv, 3, 2], 0.3), v = try leaf([1, hkv, 3, 2], 0.5)
            let r = try GradCheck.run(inputs: [q, k, v], eps: 1e-3, atol: 2e-3, rtol: 2e-3) { try Tensor.attention($0[0], $0[1], $0[2], mask: mask) }
            #expect(r.passed, "\(name): \(r.report)")
        }
    }

    @Test("bad masks are errors naming the option")
    func errors() throws {
        let q = try Tensor(shape: [1, 3, 2, 2]), k = try Tensor(shape: [1, 2, 2, 2])
        #expect(throws: TensorError.self) { try Tensor.attention(q, k, k, mask: AttentionMask()) }  // 3 % 2 ≠ 0
        let q2 = try Tensor(shape: [1, 2, 2, 2])
        #expect(throws: TensorError.self) { try Tensor.attention(q2, k, k, mask: AttentionMask(window: 0)) }
        #expect(throws: TensorError.self) { try Tensor.attention(q2, k, k, mask: AttentionMask(positions: Tensor(shape: [2, 2]))) }
        #expect(throws: TensorError.self) { try Tensor.attention(q2, k, k, mask: AttentionMask(positions: Tensor([0.5, 1], shape: [1, 2]))) }
        #expect(throws: TensorError.self) { try Tensor.attention(q2, k, k, mask: AttentionMask(alibi: .slopes(Tensor(shape: [3])))) }
        #expect(throws: TensorError.self) { try Tensor.attention(q2, k, k, mask: AttentionMask(querySegments: Tensor(shape: [1, 2]))) }
    }

    @Test("rope rotates pairs (k, k + D/2) by pos·base^(−2k/D); linear and NTK scaling; backward is the inverse rotation")
    func rope() throws {
        let x = try leaf([2, 1, 3, 4], 0.9), xs = x.toFloats()
        let pos: [Double] = [0, 2, 7, 1, 1, 5]
        let ntkBase: Double = 10000 * 4  // base · factor^(D/(D−2)) with factor 2, D 4
        let cases: [(RopeScaling?, Double, Double)] = [(nil, 1, 10000), (.linear(4), 0.25, 10000), (.ntk(2), 1, ntkBase)]
        for (scaling, posScale, base) in cases {
            let y = try x.rope(positions: indexTensor(pos, [2, 3]), scaling: scaling).toFloats()
            for r in 0..<6 {
                for kk in 0..<2 {
                    let a = pos[r] * posScale * Foundation.pow(base, -2 * Double(kk) / 4)
                    let x1 = Double(xs[r * 4 + kk]), x2 = Double(xs[r * 4 + kk + 2]), c: Double = cos(a), sn: Double = sin(a)
                    let e1: Double = x1 * c - x2 * sn, e2: Double = x2 * c + x1 * sn
                    #expect(Swift.abs(Double(y[r * 4 + kk]) - e1) < 1e-5)
                    #expect(Swift.abs(Double(y[r * 4 + kk + 2]) - e2) < 1e-5)
                }
            }
        }
        // offset n equals positions n..n+T−1 shared by the batch
        let a = try x.rope(offset: 5).toFloats(), b = try x.rope(positions: indexTensor([5, 6, 7], [3])).toFloats()
        #expect(a == b)
        let r = try GradCheck.run(inputs: [try leaf([1, 2, 2, 4], 0.4)]) { try $0[0].rope(offset: 3, scaling: .ntk(3)) }
        #expect(r.passed, "\(r.report)")
        // heads split out of a (B,T,H,D) projection: read in place, result stored (B,T,H,D) as a (B,H,T,D) view
        let proj = try leaf([2, 3, 2, 4], 0.6), heads = try proj.transpose(1, 2)
        let yv = try heads.rope(offset: 2)
        #expect(yv.strides == [24, 4, 8, 1])
        #expect(yv.toFloats() == (try heads.contiguous().rope(offset: 2).toFloats()))
        let rg = try GradCheck.run(inputs: [proj]) { try $0[0].transpose(1, 2).rope(offset: 2).mul(2) }
        #expect(rg.passed, "\(rg.report)")
        #expect(throws: TensorError.self) { try Tensor(shape: [1, 1, 2, 3]).rope() }
        #expect(throws: TensorError.self) { try x.rope(positions: Tensor(shape: [4])) }
    }

    @Test("swiglu and geglu equal act(gate)·up (exact erf GELU), with finite-difference gradients")
    func gatedUnits() throws {
        let vals = (0..<64).map { Float($0 - 32) / 5 }  // gates from −6.4 to 6.2
        let x = try gradLeaf(vals + vals.reversed(), [2, 64])
        let sw = try x.swiglu().toFloats(), ge = try x.geglu().toFloats()
        for r in 0..<2 {
            for i in 0..<32 {
                let a = Double((vals + vals.reversed())[r * 64 + i]), b = Double((vals + vals.reversed())[r * 64 + 32 + i])
                let silu = a / (1 + exp(-a)), gelu = 0.5 * a * (1 + erf(a / 2.0.squareRoot()))
                #expect(Swift.abs(Double(sw[r * 32 + i]) - silu * b) < 1e-5 * max(1, Swift.abs(silu * b)))
                #expect(Swift.abs(Double(ge[r * 32 + i]) - gelu * b) < 1e-5 * max(1, Swift.abs(gelu * b)))
            }
        }
        for f in [{ (t: Tensor) in try t.swiglu() }, { (t: Tensor) in try t.geglu() }] {
            let r = try GradCheck.run(inputs: [try leaf([3, 8], 1.3)]) { try f($0[0]) }
            #expect(r.passed, "\(r.report)")
        }
        #expect(throws: TensorError.self) { try Tensor(shape: [2, 3]).swiglu() }
    }

    @Test("the masked-row and gated-unit kernels give the same results in their AVX2+FMA and baseline versions")
    func kernelVersions() throws {
        let x = try leaf([2, 3, 70, 16], 0.19), kv = try leaf([2, 1, 70, 16], 0.27)
        let g = try leaf([5, 300], 0.31)
        func run() throws -> [[Float]] {
            let (xs, ks, gs) = (x.detach(), kv.detach(), g.detach())
            for t in [xs, ks, gs] { try t.setRequiresGrad(true) }
            let att = try Tensor.attention(xs, ks, ks, mask: AttentionMask(causal: true, window: 9, alibi: .standard))
            let sw = try gs.swiglu(), ge = try gs.geglu()
            try att.sum().add(sw.mul(sw).sum()).add(ge.mul(ge).sum()).backward()
            return [att.toFloats(), sw.toFloats(), ge.toFloats()] + (try [xs, ks, gs].map { try #require($0.grad).toFloats() })
        }
        guard llmk_kernels_avx2() == 1 else { return }  // this CPU runs the baseline versions only
        let fast = try run()
        llmk_kernels_allow_avx2(0)
        defer { llmk_kernels_allow_avx2(1) }
        let base = try run()
        for (a, b) in zip(fast, base) {
            let scale = b.map { Swift.abs($0) }.max() ?? 1
            #expect((zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0) <= 2e-6 * Swift.max(scale, 1))
        }
    }
}
