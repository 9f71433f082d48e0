// Fused scaled dot-product attention with its own backward (BLAS per batch-head, batch×head pairs split
// across threads with single-threaded BLAS inside; q/k/v are read in place through their row strides).
// Shapes: q (B,H,T,D), k and v (B,Hkv,S,D) with H % Hkv == 0 -> out (B,H,T,D). Grouped-query attention
// (Hkv < H; multi-query: Hkv = 1): query head h reads kv head h / (H/Hkv) in place, never a repeated copy;
// the backward accumulates dk, dv over the H/Hkv query heads of each group (work split by batch × kv head).
// Which keys a query sees (causal, positions and cache offsets, sliding window, padding, packed segments,
// ALiBi) is one ``AttentionMask`` (AttentionMask.swift), resolved once into an ``AttentionLayout``.
// RoPE is not an option here: it is applied to q and k before the KV cache (Rope.swift), like HF and
// llama.cpp, so cached keys are stored rotated and never rotated again.
// Saved: q, k, v (views when rows are unit-stride) and the row logsumexp (B,H,T); P is recomputed in
// backward (FlashAttention-style), not stored. out and the gradients are stored (B,T,H,D) and returned as
// (B,H,T,D) views, so merging heads back to (B,T,H·D) costs no copy.
// Forward: P = softmax(q·kᵀ·scale + bias + mask); out = P·v. A query that sees no key gets 0.
// Backward: dv = Pᵀ·dout; dP = dout·vᵀ; dS = P ⊙ (dP − rowsum(dP ⊙ P)); dq = dS·k·scale; dk = dSᵀ·q·scale.
// Rows run in blocks of 64 queries whose GEMMs span only the keys the block can see (the masked triangle of
// causal attention and the keys left of a sliding window are skipped); the row kernels (softmax, P
// recompute, dS) are CKernels' SIMD loops.
// reference: Vaswani et al. 2017; Ainslie et al. 2023 (GQA); llm.c attention_backward.
import CBLAS
import CKernels
import Foundation

extension Tensor {
    /// Attention over (B, H, T, D) queries and (B, H, S, D) keys/values (the original signature).
    public static func attention(
        _ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool, scale: Double? = nil,
        keyMask: Tensor? = nil
    ) throws -> Tensor {
        try attention(q, k, v, mask: AttentionMask(causal: causal, keyMask: keyMask), scale: scale)
    }

    /// Attention over (B, H, T, D) queries and (B, Hkv, S, D) keys/values (H a multiple of Hkv), with the
    /// visibility and bias described by `mask`; `scale` defaults to 1/√D.
    public static func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: AttentionMask, scale: Double? = nil) throws -> Tensor {
        guard q.rank == 4, k.rank == 4, v.rank == 4 else {
            throw TensorError.shape("attention: q, k, v must be 4-D (batch, heads, time, headDim), got \(shapeString(q.shape)), \(shapeString(k.shape)), \(shapeString(v.shape))")
        }
        let (b, h, t, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3]), (hkv, s) = (k.shape[1], k.shape[2])
        guard k.shape == [b, hkv, s, d], v.shape == [b, hkv, s, d], hkv > 0 || h == 0, hkv == 0 || h % hkv == 0 else {
            throw TensorError.shape(
                "attention: k \(shapeString(k.shape)) and v \(shapeString(v.shape)) must be [\(b), Hkv, S, \(d)] with \(h) query heads a multiple of Hkv, to match q \(shapeString(q.shape))"
            )
        }
        guard [t, s, d].allSatisfy({ Int32(exactly: $0) != nil }) else { throw TensorError.shape("attention: sizes exceed BLAS's 32-bit limit") }
        let layout = try AttentionLayout(mask, b: b, h: h, t: t, s: s)
        let sc = Float(scale ?? 1 / Double(d).squareRoot())
        let (qc, kc, vc) = try GradMode.withoutGrad { (try q.asFloat().rowMatrices(), try k.asFloat().rowMatrices(), try v.asFloat().rowMatrices()) }
        let group = Swift.max(1, h / Swift.max(hkv, 1))
        // out is stored (B,T,H,D) and returned as a (B,H,T,D) view, so out.transpose(2,3).reshape(B,T,H·D) is free
        let outStore = try Tensor(shape: [b, t, h, d], zeroed: !layout.simple || s == 0)
        let out = outStore.view(shape: [b, h, t, d], strides: [t * h * d, d, h * d, 1], offset: 0)
        let lse = try Tensor(shape: [b, h, t], zeroed: false)
        if out.count > 0 && s > 0 {
            let pl = lse.f32
            Parallel.forEachChunk(b * h, blasInside: true) { _, range in
                // per-chunk scratch: the worker count is read again inside forEachChunk, and a concurrent
                // caller may change the BLAS thread budget in between, so no buffer is sized by it beforehand
                let pp = UnsafeMutablePointer<Float>.allocate(capacity: t * s)
                defer { pp.deallocate() }
                for bh in range {
                    let bi = bh / h, hi = bh % h
                    let pq = qc.matrix(bi, hi), pk = kc.matrix(bi, hi / group), pv = vc.matrix(bi, hi / group)
                    let po = outStore.f32 + bi * t * h * d + hi * d
                    for blk in layout.blocks(bi) {
                        let (i0, rows, k0, keys) = (blk.rows.lowerBound, blk.rows.count, blk.keys.lowerBound, blk.keys.count)
                        if keys == 0 { for i in blk.rows { pl[bh * t + i] = .infinity }; continue }  // out rows stay 0
                        // scores (rows,keys) = q (rows,D) · kᵀ (D,keys) · scale
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(keys), Int32(d), sc,
                            pq + i0 * Int(qc.ld), qc.ld, pk + k0 * Int(kc.ld), kc.ld, 0, pp + i0 * s + k0, Int32(s))
                        for i in blk.rows { pl[bh * t + i] = layout.softmaxRow(pp + i * s, bi, hi, i, blk.keys) }
                        // out (rows,D) = P (rows,keys) · v (keys,D), rows H·D apart
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(d), Int32(keys), 1,
                            pp + i0 * s + k0, Int32(s), pv + k0 * Int(vc.ld), vc.ld, 0, po + i0 * h * d, Int32(h * d))
                    }
                }
            }
        }
        return out.record(.attention(scale: Double(sc), layout: layout), [q, k, v], saved: [qc.tensor, kc.tensor, vc.tensor, lse])
    }

    /// Softmax of one score row in place over the keys [0, limit) not masked out (0 elsewhere); returns the
    /// row's logsumexp (+∞ for a fully masked row, whose probabilities are all 0).
    @inline(__always) static func softmaxRow(_ row: UnsafeMutablePointer<Float>, s: Int, limit: Int, keyLive: ([Bool], Int)?) -> Float {
        guard let (km, o) = keyLive else { return llmk_softmax_row(row, limit, s) }
        var live = false
        for j in 0..<limit { if !km[o + j] { row[j] = -.infinity } else { live = true } }
        if !live { for j in 0..<s { row[j] = 0 }; return .infinity }
        let lse = llmk_softmax_row(row, limit, s)  // masked keys: e^(−∞ − max) clamps to ~1e-38 of the total
        for j in 0..<limit where !km[o + j] { row[j] = 0 }
        return lse
    }

    /// Recomputes one probability row from its scores and saved logsumexp (same masking as softmaxRow).
    @inline(__always) static func probsRow(_ row: UnsafeMutablePointer<Float>, s: Int, limit: Int, lse: Float, keyLive: ([Bool], Int)?) {
        if lse == .infinity { for j in 0..<s { row[j] = 0 }; return }
        llmk_probs_row(row, limit, s, lse)
        if let (km, o) = keyLive { for j in 0..<limit where !km[o + j] { row[j] = 0 } }
    }

    // g: (B,H,T,D) -> dq (B,H,T,D), dk, dv (B,Hkv,S,D); the gradients are stored (B,T,H,D) like the
    // projections they flow back into, and returned as (B,H,T,D) views.
    // P is not saved: it is recomputed per batch-head from q·kᵀ and the saved row logsumexp (as in
    // FlashAttention's backward), which keeps B·H·T·S floats per layer out of the activation memory.
    // Work is split by (batch, kv head): each worker owns dk, dv of its groups and runs their query heads in turn.
    static func attentionVJP(_ g: Tensor, saved: [Tensor], scale: Double, layout: AttentionLayout) throws -> [Tensor?] {
        let q = try saved[0].rowMatrices(), k = try saved[1].rowMatrices(), v = try saved[2].rowMatrices(), lse = saved[3]
        let (b, h, t, d) = (saved[0].shape[0], saved[0].shape[1], saved[0].shape[2], saved[0].shape[3])
        let (hkv, s) = (saved[1].shape[1], saved[1].shape[2])
        let group = Swift.max(1, h / Swift.max(hkv, 1))
        let gm = try g.rowMatrices()
        // simple layouts: the last block sees every key, so beta 0 there initializes dk, dv; otherwise zero first
        let zeroFirst = !layout.simple || s == 0 || t == 0
        func grad(_ n: Int, _ heads: Int, zero: Bool) throws -> (Tensor, Tensor) {
            let store = try Tensor(shape: [b, n, heads, d], zeroed: zero || n == 0)
            return (store, store.view(shape: [b, heads, n, d], strides: [n * heads * d, d, heads * d, 1], offset: 0))
        }
        let (dqs, dq) = try grad(t, h, zero: zeroFirst), (dks, dk) = try grad(s, hkv, zero: zeroFirst), (dvs, dv) = try grad(s, hkv, zero: zeroFirst)
        if g.count == 0 || s == 0 { return [dq, dk, dv] }
        let sc = Float(scale)
        let pl = lse.f32
        Parallel.forEachChunk(b * hkv, blasInside: true) { _, range in
            let pp = UnsafeMutablePointer<Float>.allocate(capacity: 2 * t * s), ds = pp + t * s  // per chunk, as in the forward
            defer { pp.deallocate() }
            for bg in range {
                let bi = bg / hkv, kh = bg % hkv
                let pk = k.matrix(bi, kh), pv = v.matrix(bi, kh)
                let pdk = dks.f32 + bi * s * hkv * d + kh * d, pdv = dvs.f32 + bi * s * hkv * d + kh * d
                let ldkv = Int32(hkv * d), ldq = Int32(h * d)
                var first = !zeroFirst
                for hi in (kh * group)..<((kh + 1) * group) {
                    let bh = bi * h + hi
                    let pq = q.matrix(bi, hi), pg = gm.matrix(bi, hi), pdq = dqs.f32 + bi * t * h * d + hi * d
                    // row blocks from the last (which, on the simple path, sees every key) to the first
                    for blk in layout.blocks(bi).reversed() {
                        let (i0, rows, k0, keys) = (blk.rows.lowerBound, Int32(blk.rows.count), blk.keys.lowerBound, Int32(blk.keys.count))
                        if keys == 0 { continue }  // dq rows stay 0
                        let p = pp + i0 * s + k0, dsb = ds + i0 * s + k0, qb = pq + i0 * Int(q.ld), gb = pg + i0 * Int(gm.ld)
                        let kb = pk + k0 * Int(k.ld), vb = pv + k0 * Int(v.ld), dkb = pdk + k0 * Int(ldkv), dvb = pdv + k0 * Int(ldkv)
                        let beta: Float = first ? 0 : 1
                        first = false
                        // P (rows,keys) = exp(q·kᵀ·scale + bias − lse), masked as in the forward pass
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, Int32(d), sc, qb, q.ld, kb, k.ld, 0, p, Int32(s))
                        for i in blk.rows { layout.probsRow(pp + i * s, bi, hi, i, blk.keys, lse: pl[bh * t + i]) }
                        // dv (keys,D) += Pᵀ (keys,rows) · dout (rows,D)
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, Int32(d), rows, 1, p, Int32(s), gb, gm.ld, beta, dvb, ldkv)
                        // dP (rows,keys) = dout (rows,D) · vᵀ (D,keys); dS = P ⊙ (dP − rowsum(dP ⊙ P))
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, Int32(d), 1, gb, gm.ld, vb, v.ld, 0, dsb, Int32(s))
                        for i in blk.rows { llmk_softmax_backward_row(pp + i * s + k0, ds + i * s + k0, Int(keys)) }
                        // dq (rows,D) = dS (rows,keys) · k (keys,D) · scale ; dk (keys,D) += dSᵀ (keys,rows) · q (rows,D) · scale
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, Int32(d), keys, sc, dsb, Int32(s), kb, k.ld, 0,
                            pdq + i0 * Int(ldq), ldq)
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, Int32(d), rows, sc, dsb, Int32(s), qb, q.ld, beta, dkb, ldkv)
                    }
                }
            }
        }
        return [dq, dk, dv]
    }

    /// A (B,H,N,D) float32 tensor as B·H row-major (N,D) matrices for BLAS: a view when the last dim is
    /// unit-stride (any batch/head/row strides, e.g. heads split out of a fused qkv projection), else a copy.
    func rowMatrices() throws -> RowMatrices {
        let x = try asFloat()
        let ok = x.strides[3] == 1 || x.shape[3] <= 1
        let m = ok && x.strides[2] >= x.shape[3] && Int32(exactly: x.strides[2]) != nil ? x : try x.detach().contiguous()
        return RowMatrices(tensor: m, ld: Int32(Swift.max(m.shape[2] <= 1 ? m.shape[3] : m.strides[2], m.shape[3], 1)))
    }
}

/// B·H matrices inside a (B,H,N,D) tensor (see ``Tensor/rowMatrices()``).
struct RowMatrices: @unchecked Sendable {
    let tensor: Tensor
    /// Leading dimension (row stride) of each matrix.
    let ld: Int32
    @inline(__always) func matrix(_ b: Int, _ h: Int) -> UnsafeMutablePointer<Float> {
        tensor.f32 + b * tensor.strides[0] + h * tensor.strides[1]
    }
}
