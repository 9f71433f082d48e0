// Fused normalization over the last dim: layerNorm and rmsNorm, each with its hand-written backward.
// x: (N, C) rows (any leading dims flattened); weight, bias: (C). Saved: per-row mean and rstd (N).
// Row kernels: CKernels llmk_norm_row / llmk_norm_backward_row (SIMD; rows split over the workers).
// reference: llm.c layernorm_forward/backward; RMSNorm (Zhang & Sennrich 2019).
import CKernels
import Foundation

extension Tensor {
    /// Checks an optional affine parameter against the normalized size.
    private static func checkAffine(_ p: Tensor?, _ c: Int, _ name: String, op: String) throws {
        guard let p else { return }
        guard p.shape == [c] else {
            throw TensorError.shape("\(op): \(name) has shape \(shapeString(p.shape)), expected [\(c)] (the size of the last dim)")
        }
    }

    /// Layer normalization over the last dim: (x − mean) / sqrt(var + eps) · weight + bias (biased variance).
    public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) throws -> Tensor {
        guard rank >= 1, let c = shape.last, c > 0 else { throw TensorError.shape("layerNorm: input must have a non-empty last dim, got \(shapeString(shape))") }
        try Tensor.checkAffine(weight, c, "weight", op: "layerNorm")
        try Tensor.checkAffine(bias, c, "bias", op: "layerNorm")
        guard eps >= 0 else { throw TensorError.invalid("Invalid 'eps': expected a non-negative number, got \(eps)") }
        let x = try GradMode.withoutGrad { try asFloat().contiguous() }
        let w = try GradMode.withoutGrad { try weight?.asFloat().contiguous() }, b = try GradMode.withoutGrad { try bias?.asFloat().contiguous() }
        let n = count / c
        let out = try Tensor(shape: shape, zeroed: false)
        let mean = try Tensor(shape: [n], zeroed: false), rstd = try Tensor(shape: [n], zeroed: false)
        let px = x.f32, po = out.f32, pm = mean.f32, pr = rstd.f32
        let pw = w?.f32, pb = b?.f32, e = Float(eps)
        Parallel.forRanges(n, cost: c) { rows in
            for i in rows { llmk_norm_row(px + i * c, po + i * c, c, pw, pb, e, 0, pm + i, pr + i) }
        }
        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        return out.record(.layerNorm(eps: eps, hasWeight: weight != nil, hasBias: bias != nil), inputs, saved: [x, mean, rstd] + (w.map { [$0] } ?? []))
    }

    // dout: (N, C) -> dx (N, C), dweight (C), dbias (C)
    // norm = (x − mean)·rstd; dnorm = dout·w; dx = rstd·(dnorm − mean(dnorm) − norm·mean(dnorm·norm))
    static func layerNormVJP(_ g: Tensor, saved: [Tensor], hasWeight: Bool, hasBias: Bool, rms: Bool) throws -> [Tensor?] {
        let x = saved[0], mean = saved[1], rstd = saved[2], w = hasWeight ? saved[3] : nil
        let c = x.shape.last!, n = x.count / c
        let gc = try g.contiguous()
        let dx = try Tensor(shape: x.shape, zeroed: false)
        let dw = hasWeight ? try Tensor(shape: [c]) : nil, db = hasBias ? try Tensor(shape: [c]) : nil
        let px = x.f32, pg = gc.f32, pdx = dx.f32, pm = mean.f32, pr = rstd.f32
        let pw = w?.f32
        // per-worker partial sums of dweight/dbias (rows are split across workers), added up at the end
        var partial: Tensor? = nil
        Parallel.forRangesIndexed(
            n, cost: c,
            prepare: { workers in
                partial = try? Tensor(shape: [workers, 2, c])
            }
        ) { worker, rows in
            guard let partial else { return }
            let pdw = partial.f32 + worker * 2 * c, pdb = pdw + c
            for i in rows {
                llmk_norm_backward_row(px + i * c, pg + i * c, pdx + i * c, c, pw, rms ? 0 : pm[i], pr[i], rms ? 1 : 0, pdw, pdb)
            }
        }
        guard let partial else { throw TensorError.memory("layerNorm backward: out of memory for partial sums") }
        let workers = partial.shape[0]
        for (t, k) in [(dw, 0), (db, 1)] {
            guard let t else { continue }
            let o = t.f32
            for j in 0..<c {
                var acc: Float = 0
                for wk in 0..<workers { acc += partial.f32[(wk * 2 + k) * c + j] }
                o[j] = acc
            }
        }
        var out: [Tensor?] = [dx]
        if hasWeight { out.append(dw) }
        if hasBias { out.append(db) }
        return out
    }

    /// RMS normalization over the last dim: x / sqrt(mean(x²) + eps) · weight.
    public func rmsNorm(weight: Tensor?, eps: Double = 1e-6) throws -> Tensor {
        guard rank >= 1, let c = shape.last, c > 0 else { throw TensorError.shape("rmsNorm: input must have a non-empty last dim, got \(shapeString(shape))") }
        try Tensor.checkAffine(weight, c, "weight", op: "rmsNorm")
        guard eps >= 0 else { throw TensorError.invalid("Invalid 'eps': expected a non-negative number, got \(eps)") }
        let x = try GradMode.withoutGrad { try asFloat().contiguous() }
        let w = try GradMode.withoutGrad { try weight?.asFloat().contiguous() }
        let n = count / c
        let out = try Tensor(shape: shape, zeroed: false)
        let rstd = try Tensor(shape: [n], zeroed: false), zero = try Tensor(shape: [n])
        let px = x.f32, po = out.f32, pr = rstd.f32, pz = zero.f32, pw = w?.f32, e = Float(eps)
        Parallel.forRanges(n, cost: c) { rows in
            for i in rows { llmk_norm_row(px + i * c, po + i * c, c, pw, nil, e, 1, pz + i, pr + i) }
        }
        var inputs = [self]
        if let weight { inputs.append(weight) }
        return out.record(.rmsNorm(eps: eps, hasWeight: weight != nil), inputs, saved: [x, zero, rstd] + (w.map { [$0] } ?? []))
    }
}
