// Fused scaled dot-product attention with its own backward (BLAS per batch-head, batch×head pairs split
// across threads with single-threaded BLAS inside; q/k/v are read in place through their row strides).
// Shapes: q (B,H,T,D), k and v (B,H,S,D) -> out (B,H,T,D). S ≥ T; with `causal`, query i (the last T of
// S positions, as with a KV cache) sees keys j ≤ i + (S − T). Optional keyMask (B,S): 0 = padding.
// Saved: q, k, v (views when rows are unit-stride), the row logsumexp (B,H,T) and the key mask; P is
// recomputed in backward (FlashAttention-style), not stored. out and the gradients are stored
// (B,T,H,D) and returned as (B,H,T,D) views, so merging heads back to (B,T,H·D) costs no copy.
// Forward: P = softmax(q·kᵀ·scale + mask); out = P·v.
// Backward: dv = Pᵀ·dout; dP = dout·vᵀ; dS = P ⊙ (dP − rowsum(dP ⊙ P)); dq = dS·k·scale; dk = dSᵀ·q·scale.
// Causal rows run in blocks of 64 queries whose GEMMs stop at the block's last visible key (the masked
// upper triangle is skipped); the row kernels (softmax, P recompute, dS) are CKernels' SIMD loops.
// reference: Vaswani et al. 2017; llm.c attention_backward.
import CBLAS
import CKernels
import Foundation

extension Tensor {
    /// Attention over (B, H, T, D) queries and (B, H, S, D) keys/values.
    public static func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool, scale: Double? = nil,
                                 keyMask: Tensor? = nil) throws -> Tensor {
        guard q.rank == 4, k.rank == 4, v.rank == 4 else {
            throw TensorError.shape("attention: q, k, v must be 4-D (batch, heads, time, headDim), got \(shapeString(q.shape)), \(shapeString(k.shape)), \(shapeString(v.shape))")
        }
        let (b, h, t, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3]), s = k.shape[2]
        guard k.shape == [b, h, s, d], v.shape == [b, h, s, d] else {
            throw TensorError.shape("attention: k \(shapeString(k.shape)) and v \(shapeString(v.shape)) must be [\(b), \(h), S, \(d)] to match q \(shapeString(q.shape))")
        }
        guard !causal || s >= t else { throw TensorError.shape("attention: causal attention needs at least as many keys (\(s)) as queries (\(t))") }
        if let m = keyMask, m.shape != [b, s] {
            throw TensorError.shape("attention: keyMask has shape \(shapeString(m.shape)), expected [\(b), \(s)]")
        }
        guard [t, s, d].allSatisfy({ Int32(exactly: $0) != nil }) else { throw TensorError.shape("attention: sizes exceed BLAS's 32-bit limit") }
        let sc = Float(scale ?? 1 / Double(d).squareRoot())
        let (qc, kc, vc) = try GradMode.withoutGrad { (try q.asFloat().rowMatrices(), try k.asFloat().rowMatrices(), try v.asFloat().rowMatrices()) }
        let mask = try GradMode.withoutGrad { try keyMask?.asFloat().contiguous() }
        // out is stored (B,T,H,D) and returned as a (B,H,T,D) view, so out.transpose(2,3).reshape(B,T,H·D) is free
        let outStore = try Tensor(shape: [b, t, h, d], zeroed: false)
        let out = outStore.view(shape: [b, h, t, d], strides: [t * h * d, d, h * d, 1], offset: 0)
        let lse = try Tensor(shape: [b, h, t], zeroed: false)
        if out.count > 0 && s > 0 {
            let pm = mask?.f32, pl = lse.f32
            let scratch = try Tensor(shape: [Parallel.workers(b * h), t, s], zeroed: false)
            Parallel.forEachChunk(b * h, blasInside: true) { worker, range in
                let pp = scratch.f32 + worker * t * s
                for bh in range {
                    let bi = bh / h, hi = bh % h
                    let pq = qc.matrix(bi, hi), pk = kc.matrix(bi, hi), pv = vc.matrix(bi, hi)
                    let po = outStore.f32 + bi * t * h * d + hi * d
                    for blk in Tensor.attentionBlocks(t: t, s: s, causal: causal) {
                        let (i0, rows, keys) = (blk.rows.lowerBound, blk.rows.count, blk.keys)
                        // scores (rows,keys) = q (rows,D) · kᵀ (D,keys) · scale
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(keys), Int32(d), sc,
                                    pq + i0 * Int(qc.ld), qc.ld, pk, kc.ld, 0, pp + i0 * s, Int32(s))
                        for i in blk.rows {
                            pl[bh * t + i] = Tensor.softmaxRow(pp + i * s, s: keys, limit: causal ? Swift.min(s, i + s - t + 1) : s,
                                                               keyMask: pm.map { $0 + bi * s })
                        }
                        // out (rows,D) = P (rows,keys) · v (keys,D), rows H·D apart
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(d), Int32(keys), 1,
                                    pp + i0 * s, Int32(s), pv, vc.ld, 0, po + i0 * h * d, Int32(h * d))
                    }
                }
            }
        }
        let saved = [qc.tensor, kc.tensor, vc.tensor, lse] + (mask.map { [$0] } ?? [])
        return out.record(.attention(scale: Double(sc), causal: causal), [q, k, v], saved: saved)
    }

    /// Softmax of one score row in place over the keys [0, limit) not masked out (0 elsewhere); returns the
    /// row's logsumexp (+∞ for a fully masked row, whose probabilities are all 0).
    @inline(__always) static func softmaxRow(_ row: UnsafeMutablePointer<Float>, s: Int, limit: Int, keyMask: UnsafeMutablePointer<Float>?) -> Float {
        guard let km = keyMask else { return llmk_softmax_row(row, limit, s) }
        var live = false
        for j in 0..<limit { if km[j] == 0 { row[j] = -.infinity } else { live = true } }
        if !live { for j in 0..<s { row[j] = 0 }; return .infinity }
        let lse = llmk_softmax_row(row, limit, s)   // masked keys: e^(−∞ − max) clamps to ~1e-38 of the total
        for j in 0..<limit where km[j] == 0 { row[j] = 0 }
        return lse
    }

    /// Recomputes one probability row from its scores and saved logsumexp (same masking as softmaxRow).
    @inline(__always) static func probsRow(_ row: UnsafeMutablePointer<Float>, s: Int, limit: Int, lse: Float, keyMask: UnsafeMutablePointer<Float>?) {
        if lse == .infinity { for j in 0..<s { row[j] = 0 }; return }
        llmk_probs_row(row, limit, s, lse)
        if let km = keyMask { for j in 0..<limit where km[j] == 0 { row[j] = 0 } }
    }

    // g: (B,H,T,D) -> dq (B,H,T,D), dk, dv (B,H,S,D); the gradients are stored (B,T,H,D) like the
    // projections they flow back into, and returned as (B,H,T,D) views.
    // P is not saved: it is recomputed per batch-head from q·kᵀ and the saved row logsumexp (as in
    // FlashAttention's backward), which keeps B·H·T·S floats per layer out of the activation memory.
    static func attentionVJP(_ g: Tensor, saved: [Tensor], scale: Double, causal: Bool) throws -> [Tensor?] {
        let q = try saved[0].rowMatrices(), k = try saved[1].rowMatrices(), v = try saved[2].rowMatrices(), lse = saved[3]
        let pm = saved.count > 4 ? saved[4].f32 : nil
        let (b, h, t, d) = (saved[0].shape[0], saved[0].shape[1], saved[0].shape[2], saved[0].shape[3]), s = saved[1].shape[2]
        let gm = try g.rowMatrices()
        func grad(_ n: Int) throws -> (Tensor, Tensor) {
            let store = try Tensor(shape: [b, n, h, d], zeroed: n == 0 || s == 0 || t == 0)
            return (store, store.view(shape: [b, h, n, d], strides: [n * h * d, d, h * d, 1], offset: 0))
        }
        let (dqs, dq) = try grad(t), (dks, dk) = try grad(s), (dvs, dv) = try grad(s)
        if g.count == 0 || s == 0 { return [dq, dk, dv] }
        let sc = Float(scale)
        let scratch = try Tensor(shape: [Parallel.workers(b * h), 2, t, s], zeroed: false)
        let pl = lse.f32
        Parallel.forEachChunk(b * h, blasInside: true) { worker, range in
            let pp = scratch.f32 + worker * 2 * t * s, ds = pp + t * s
            for bh in range {
                let bi = bh / h, hi = bh % h
                let pq = q.matrix(bi, hi), pk = k.matrix(bi, hi), pv = v.matrix(bi, hi), pg = gm.matrix(bi, hi)
                let pdq = dqs.f32 + bi * t * h * d + hi * d, pdk = dks.f32 + bi * s * h * d + hi * d
                let pdv = dvs.f32 + bi * s * h * d + hi * d
                let ldo = Int32(h * d)
                // row blocks from the last (which sees every key: beta 0 initializes dk, dv) to the first
                for (n, blk) in Tensor.attentionBlocks(t: t, s: s, causal: causal).reversed().enumerated() {
                    let (i0, rows, keys) = (blk.rows.lowerBound, Int32(blk.rows.count), Int32(blk.keys))
                    let p = pp + i0 * s, dsb = ds + i0 * s, qb = pq + i0 * Int(q.ld), gb = pg + i0 * Int(gm.ld)
                    let beta: Float = n == 0 ? 0 : 1
                    // P (rows,keys) = exp(q·kᵀ·scale − lse), masked as in the forward pass
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, Int32(d), sc, qb, q.ld, pk, k.ld, 0, p, Int32(s))
                    for i in blk.rows {
                        Tensor.probsRow(pp + i * s, s: blk.keys, limit: causal ? Swift.min(s, i + s - t + 1) : s, lse: pl[bh * t + i],
                                        keyMask: pm.map { $0 + bi * s })
                    }
                    // dv (keys,D) += Pᵀ (keys,rows) · dout (rows,D)
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, Int32(d), rows, 1, p, Int32(s), gb, gm.ld, beta, pdv, ldo)
                    // dP (rows,keys) = dout (rows,D) · vᵀ (D,keys); dS = P ⊙ (dP − rowsum(dP ⊙ P))
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, Int32(d), 1, gb, gm.ld, pv, v.ld, 0, dsb, Int32(s))
                    for i in blk.rows { llmk_softmax_backward_row(pp + i * s, ds + i * s, blk.keys) }
                    // dq (rows,D) = dS (rows,keys) · k (keys,D) · scale ; dk (keys,D) += dSᵀ (keys,rows) · q (rows,D) · scale
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, Int32(d), keys, sc, dsb, Int32(s), pk, k.ld, 0,
                                pdq + i0 * h * d, ldo)
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, Int32(d), rows, sc, dsb, Int32(s), qb, q.ld, beta, pdk, ldo)
                }
            }
        }
        return [dq, dk, dv]
    }

    /// Query row blocks of one (batch, head) and the keys each block needs: with `causal`, rows [i0, i1) see keys
    /// [0, i1 + S − T), so the masked upper triangle of the T×S scores is skipped in blocks of 64 rows.
    static func attentionBlocks(t: Int, s: Int, causal: Bool) -> [(rows: Range<Int>, keys: Int)] {
        guard causal, t > 64 else { return [(0..<t, s)] }
        return stride(from: 0, to: t, by: 64).map { i0 in
            let i1 = Swift.min(t, i0 + 64)
            return (i0..<i1, Swift.min(s, i1 + s - t))
        }
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
