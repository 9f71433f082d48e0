// GradReducer+Residuals: the top-k error-feedback residuals as one flat tensor in parameter order (each
// parameter's floats in registration order, the same layout whatever the bucket size), so that
// checkpoints can save and restore them (stdlib-lua/llm/dist.lua). A bucket that has not reduced a step
// yet reads as zeros. Only for compression = .topK; local to this rank (no communication).
import LLMCore

extension GradReducer {
    /// Gradient floats of all parameters (the length of ``residuals()``).
    public var parameterFloats: Int { params.reduce(0) { $0 + $1.count } }

    /// Float offset of each parameter in the parameter-order layout.
    private var parameterOffsets: [Int] {
        var out: [Int] = [], n = 0
        for p in params { out.append(n); n += p.count }
        return out
    }

    /// This rank's top-k residuals (what it has not sent yet), in parameter order.
    /// - Throws: when the reducer does not compress with top-k.
    public func residuals() throws -> Tensor {
        guard case .topK = compression else { throw DistError("dist.GradReducer:residuals: only compress = 'topk' keeps residuals (this reducer: \(compression.label))") }
        let out = try Tensor(shape: [parameterFloats])
        let offsets = parameterOffsets, dst = out.f32
        for b in buckets {
            guard let r = b.residual else { continue }
            let src = r.f32
            for (m, i) in b.members.enumerated() {
                (dst + offsets[i]).update(from: src + b.offsets[m], count: params[i].count)
            }
        }
        return out
    }

    /// Replaces this rank's top-k residuals by `values` (parameter order, ``parameterFloats`` values), or
    /// clears them (nil: nothing owed).
    /// - Throws: when the reducer does not compress with top-k, or the size differs.
    public func setResiduals(_ values: Tensor?) throws {
        guard case .topK = compression else { throw DistError("dist.GradReducer:setResiduals: only compress = 'topk' keeps residuals (this reducer: \(compression.label))") }
        guard let values else {
            for b in buckets { b.residual = nil }
            return
        }
        let total = parameterFloats
        guard values.count == total else {
            throw DistError("dist.GradReducer:setResiduals: expected \(total) values (the parameters' floats), got \(values.count)")
        }
        let v = try GradMode.withoutGrad { try values.toDType(.float32).contiguous() }
        let offsets = parameterOffsets, src = v.f32
        for b in buckets {
            let r = try b.residual ?? Tensor(shape: [b.floats])
            let dst = r.f32
            for (m, i) in b.members.enumerated() {
                (dst + b.offsets[m]).update(from: src + offsets[i], count: params[i].count)
            }
            b.residual = r
        }
    }
}
