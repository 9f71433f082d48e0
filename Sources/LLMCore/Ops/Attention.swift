// Fused scaled dot-product attention with its own backward (BLAS per batch-head, batch×head pairs split
// across threads with single-threaded BLAS inside; q/k/v are read in place through their row strides).
// Shapes: q (B,H,T,D), k and v (B,H,S,D) -> out (B,H,T,D). S ≥ T; with `causal`, query i (the last T of
// S positions, as with a KV cache) sees keys j ≤ i + (S − T). Optional keyMask (B,S): 0 = padding.
// Saved: q, k, v (views when rows are unit-stride), the row logsumexp (B,H,T) and the key mask; P is
// recomputed in backward (FlashAttention-style), not stored. out and the gradients are stored
// (B,T,H,D) and returned as (B,H,T,D) views, so merging heads back to (B,T,H·D) costs no copy.
// Forward: P = softmax(q·kᵀ·scale + mask); out = P·v.
// Backward: dv = Pᵀ·dout; dP = dout·vᵀ; dS = P ⊙ (dP − rowsum(dP ⊙ P)); dq = dS·k·scale; dk = dSᵀ·q·scale.
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
                    // scores (T,S) = q (T,D) · kᵀ (D,S) · scale
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(s), Int32(d), sc, pq, qc.ld, pk, kc.ld, 0, pp, Int32(s))
                    for i in 0..<t {
                        let row = pp + i * s
                        pl[bh * t + i] = Tensor.softmaxRow(row, s: s, limit: causal ? Swift.min(s, i + s - t + 1) : s, keyMask: pm.map { $0 + bi * s })
                    }
                    // out (T,D) = P (T,S) · v (S,D), rows H·D apart
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(t), Int32(d), Int32(s), 1, pp, Int32(s), pv, vc.ld, 0, po, Int32(h * d))
                }
            }
        }
        let saved = [qc.tensor, kc.tensor, vc.tensor, lse] + (mask.map { [$0] } ?? [])
        return out.record(.attention(scale: Double(sc), causal: causal), [q, k, v], saved: saved)
    }

    /// Softmax of one score row in place over the keys [0, limit) not masked out (0 elsewhere); returns the
    /// row's logsumexp (+∞ for a fully masked row, whose probabilities are all 0).
    @inline(__always) static func softmaxRow(_ row: UnsafeMutablePointer<Float>, s: Int, limit: Int, keyMask: UnsafeMutablePointer<Float>?) -> Float {
        guard let km = keyMask else { return llms_softmax_row(row, limit, s) }
        var live = false
        for j in 0..<limit { if km[j] == 0 { row[j] = -.infinity } else { live = true } }
        if !live { for j in 0..<s { row[j] = 0 }; return .infinity }
        let lse = llms_softmax_row(row, limit, s)   // masked keys: e^(−∞ − max) clamps to ~1e-38 of the total
        for j in 0..<limit where km[j] == 0 { row[j] = 0 }
        return lse
    }

    /// Recomputes one probability row from its scores and saved logsumexp (same masking as softmaxRow).
    @inline(__always) static func probsRow(_ row: UnsafeMutablePointer<Float>, s: Int, limit: Int, lse: Float, keyMask: UnsafeMutablePointer<Float>?) {
        if lse == .infinity { for j in 0..<s { row[j] = 0 }; return }
        llms_probs_row(row, limit, s, lse)
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
                // P (T,S) = exp(q·kᵀ·scale − lse), masked as in the forward pass
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(s), Int32(d), sc, pq, q.ld, pk, k.ld, 0, pp, Int32(s))
                for i in 0..<t {
                    Tensor.probsRow(pp + i * s, s: s, limit: causal ? Swift.min(s, i + s - t + 1) : s, lse: pl[bh * t + i], keyMask: pm.map { $0 + bi * s })
                }
                // dv (S,D) = Pᵀ (S,T) · dout (T,D)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(s), Int32(d), Int32(t), 1, pp, Int32(s), pg, gm.ld, 0, pdv, ldo)
                // dP (T,S) = dout (T,D) · vᵀ (D,S)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(s), Int32(d), 1, pg, gm.ld, pv, v.ld, 0, ds, Int32(s))
                // dS = P ⊙ (dP − rowsum(dP ⊙ P))
                for i in 0..<t { llms_softmax_backward_row(pp + i * s, ds + i * s, s) }
                // dq (T,D) = dS (T,S) · k (S,D) · scale ; dk (S,D) = dSᵀ (S,T) · q (T,D) · scale
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(t), Int32(d), Int32(s), sc, ds, Int32(s), pk, k.ld, 0, pdq, ldo)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(s), Int32(d), Int32(t), sc, ds, Int32(s), pq, q.ld, 0, pdk, ldo)
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
