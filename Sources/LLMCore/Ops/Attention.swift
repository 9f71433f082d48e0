// Fused scaled dot-product attention with its own backward (BLAS per batch-head).
// Shapes: q (B,H,T,D), k and v (B,H,S,D) -> out (B,H,T,D). S ≥ T; with `causal`, query i (the last T of
// S positions, as with a KV cache) sees keys j ≤ i + (S − T). Optional keyMask (B,S): 0 = padding.
// Saved: contiguous q, k, v and the probabilities P (B,H,T,S).
// Forward: P = softmax(q·kᵀ·scale + mask); out = P·v.
// Backward: dv = Pᵀ·dout; dP = dout·vᵀ; dS = P ⊙ (dP − rowsum(dP ⊙ P)); dq = dS·k·scale; dk = dSᵀ·q·scale.
// reference: Vaswani et al. 2017; llm.c attention_backward.
import CBLAS
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
        let (qc, kc, vc) = try GradMode.withoutGrad { (try q.asFloat().contiguous(), try k.asFloat().contiguous(), try v.asFloat().contiguous()) }
        let mask = try GradMode.withoutGrad { try keyMask?.asFloat().contiguous() }
        let out = try Tensor(shape: [b, h, t, d])
        let probs = try Tensor(shape: [b, h, t, s], zeroed: false)
        if out.count > 0 && s > 0 {
            let offset = s - t
            for bi in 0..<b {
                for hi in 0..<h {
                    let bh = bi * h + hi
                    let pq = qc.f32 + bh * t * d, pk = kc.f32 + bh * s * d, pv = vc.f32 + bh * s * d
                    let pp = probs.f32 + bh * t * s, po = out.f32 + bh * t * d
                    // scores (T,S) = q (T,D) · kᵀ (D,S) · scale
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(s), Int32(d), sc, pq, Int32(d), pk, Int32(d), 0, pp, Int32(s))
                    for i in 0..<t {
                        let row = pp + i * s
                        var m = -Float.infinity
                        for j in 0..<s {
                            let allowed = (!causal || j <= i + offset) && (mask.map { $0.f32[bi * s + j] != 0 } ?? true)
                            if !allowed { row[j] = -.infinity } else { m = Swift.max(m, row[j]) }
                        }
                        if m == -.infinity { for j in 0..<s { row[j] = 0 }; continue }   // fully masked row
                        var sum: Float = 0
                        for j in 0..<s { let e = Foundation.exp(row[j] - m); row[j] = e; sum += e }
                        let inv = 1 / sum
                        for j in 0..<s { row[j] *= inv }
                    }
                    // out (T,D) = P (T,S) · v (S,D)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(t), Int32(d), Int32(s), 1, pp, Int32(s), pv, Int32(d), 0, po, Int32(d))
                }
            }
        }
        return out.record(.attention(scale: Double(sc)), [q, k, v], saved: [qc, kc, vc, probs])
    }

    // g: (B,H,T,D) -> dq (B,H,T,D), dk, dv (B,H,S,D)
    static func attentionVJP(_ g: Tensor, saved: [Tensor], scale: Double) throws -> [Tensor?] {
        let q = saved[0], k = saved[1], v = saved[2], p = saved[3]
        let (b, h, t, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3]), s = k.shape[2]
        let gc = try g.contiguous()
        let dq = try Tensor(shape: q.shape), dk = try Tensor(shape: k.shape), dv = try Tensor(shape: v.shape)
        if gc.count == 0 || s == 0 { return [dq, dk, dv] }
        let sc = Float(scale)
        let dS = try Tensor(shape: [t, s], zeroed: false)
        for bh in 0..<(b * h) {
            let pq = q.f32 + bh * t * d, pk = k.f32 + bh * s * d, pv = v.f32 + bh * s * d
            let pp = p.f32 + bh * t * s, pg = gc.f32 + bh * t * d
            let pdq = dq.f32 + bh * t * d, pdk = dk.f32 + bh * s * d, pdv = dv.f32 + bh * s * d
            let ds = dS.f32
            // dv (S,D) = Pᵀ (S,T) · dout (T,D)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(s), Int32(d), Int32(t), 1, pp, Int32(s), pg, Int32(d), 0, pdv, Int32(d))
            // dP (T,S) = dout (T,D) · vᵀ (D,S)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(s), Int32(d), 1, pg, Int32(d), pv, Int32(d), 0, ds, Int32(s))
            // dS = P ⊙ (dP − rowsum(dP ⊙ P))
            for i in 0..<t {
                let pr = pp + i * s, dr = ds + i * s
                var dot: Float = 0
                for j in 0..<s { dot += pr[j] * dr[j] }
                for j in 0..<s { dr[j] = pr[j] * (dr[j] - dot) }
            }
            // dq (T,D) = dS (T,S) · k (S,D) · scale ; dk (S,D) = dSᵀ (S,T) · q (T,D) · scale
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(t), Int32(d), Int32(s), sc, ds, Int32(s), pk, Int32(d), 0, pdq, Int32(d))
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(s), Int32(d), Int32(t), sc, ds, Int32(s), pq, Int32(d), 0, pdk, Int32(d))
        }
        return [dq, dk, dv]
    }
}
