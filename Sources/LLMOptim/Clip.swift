// Gradient clipping and regularization penalties. clipGradNorm follows torch.nn.utils.clip_grad_norm_:
// total = ‖(‖g₁‖ₚ, ‖g₂‖ₚ, ...)‖ₚ over the grads that exist (p = normType, ∞ = max |g|), every grad is
// scaled by min(1, maxNorm / (total + 1e-6)), and the pre-clip total is returned. Norms accumulate in
// Double (the 2-norm of a contiguous gradient: float SIMD blocks of 4096 added in double, over the workers). The penalties are compositions of differentiable tensor ops, to add to a loss.
import CKernels
import LLMCore
#if canImport(Glibc)
    import Glibc
#endif

/// Rescales the gradients of `params` in place so their joint norm is at most `maxNorm`.
/// Parameters without a gradient are ignored. Returns the total norm before clipping.
///
/// In Lua: `local norm = optim.clipGradNorm(model:parameters(), 1.0)` (`{normType=math.huge}` for max-norm).
@discardableResult
public func clipGradNorm(_ params: [Tensor], maxNorm: Double, normType: Double = 2) throws -> Double {
    guard maxNorm >= 0, !maxNorm.isNaN else {
        throw TensorError.invalid("Invalid 'maxNorm': expected a non-negative number, got \(formatNumber(maxNorm))")
    }
    guard normType > 0 else {
        throw TensorError.invalid("Invalid 'normType': expected a positive number or math.huge, got \(formatNumber(normType))")
    }
    let grads = params.compactMap(\.grad)
    for g in grads where g.dtype != .float32 {
        throw TensorError.invalid("clipGradNorm: gradients must be float32, got \(g.dtype.rawValue)")
    }
    for g in grads where g.isReadOnly {
        throw TensorError.invalid("clipGradNorm: a gradient is \(Tensor.readOnlyReason)")
    }
    if grads.isEmpty { return 0 }
    var total = 0.0
    for g in grads {
        let base = g.storage.bytes.assumingMemoryBound(to: Float.self)
        if normType.isInfinite {
            var m = 0.0
            g.forEachOffset { m = Swift.max(m, Double(Swift.abs(base[$0]))) }
            total = Swift.max(total, m)
        } else {
            var s = 0.0
            if normType == 2 && g.isContiguous {
                s = sumOfSquares(g)
            } else if normType == 2 {
                g.forEachOffset {
                    let x = Double(base[$0]); s += x * x
                }
            } else {
                g.forEachOffset { s += pow(Double(Swift.abs(base[$0])), normType) }
            }
            let norm = normType == 2 ? s.squareRoot() : pow(s, 1 / normType)
            total += normType == 2 ? norm * norm : pow(norm, normType)
        }
    }
    if !normType.isInfinite { total = normType == 2 ? total.squareRoot() : pow(total, 1 / normType) }
    let coef = Float(Swift.min(maxNorm / (total + 1e-6), 1))
    if coef == 1 { return total }  // nothing to scale (PyTorch multiplies by 1.0: the same values)
    for g in grads {
        let base = g.storage.bytes.assumingMemoryBound(to: Float.self)
        g.storage.bumpVersion()
        if g.isContiguous {
            let p = g.f32
            Parallel.forRanges(g.count) { r in for i in r { p[i] *= coef } }
        } else {
            g.forEachOffset { base[$0] *= coef }
        }
    }
    return total
}

/// Σ g² of a contiguous float32 tensor: SIMD blocks (CKernels) split over the engine's workers.
private func sumOfSquares(_ g: Tensor) -> Double {
    let p = g.f32
    var partial: UnsafeMutableBufferPointer<Double>? = nil  // one slot per worker, written by that worker only
    defer { partial?.deallocate() }
    Parallel.forRangesIndexed(
        g.count,
        prepare: { w in
            partial = .allocate(capacity: w)
            partial?.initialize(repeating: 0)
        }
    ) { w, r in
        if let slots = partial { slots[w] = llmk_sum_squares(p + r.lowerBound, r.count) }
    }
    return partial?.reduce(0, +) ?? 0
}

/// L1 penalty `lambda · Σ |p|` over all elements of all `params`, differentiable (add it to the loss).
///
/// In Lua: `loss = loss + optim.l1Penalty(model:parameters(), 1e-5)`.
public func l1Penalty(_ params: [Tensor], lambda: Double) throws -> Tensor {
    try penalty(params, lambda: lambda, name: "l1Penalty") { try $0.abs().sum() }
}

/// L2 penalty `lambda · Σ p²` over all elements of all `params`, differentiable. Its gradient is
/// `2·lambda·p`, so it matches SGD's `weightDecay = wd` for `lambda = wd / 2`.
///
/// In Lua: `loss = loss + optim.l2Penalty(model:parameters(), 1e-4)`.
public func l2Penalty(_ params: [Tensor], lambda: Double) throws -> Tensor {
    try penalty(params, lambda: lambda, name: "l2Penalty") { try $0.mul($0).sum() }
}

func penalty(_ params: [Tensor], lambda: Double, name: String, _ term: (Tensor) throws -> Tensor) throws -> Tensor {
    guard lambda.isFinite, lambda >= 0 else {
        throw TensorError.invalid("Invalid 'lambda': expected a non-negative number, got \(formatNumber(lambda))")
    }
    var total: Tensor? = nil
    for p in params {
        guard p.dtype == .float32 else { throw TensorError.invalid("\(name): parameters must be float32, got \(p.dtype.rawValue)") }
        let t = try term(p)
        total = try total.map { try $0.add(t) } ?? t
    }
    return try (total ?? Tensor.scalar(0)).mul(Float(lambda))
}
