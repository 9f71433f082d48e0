// RMSprop, exactly as torch.optim.RMSprop: g += wd·p; s = α·s + (1−α)·g²; centered: a = lerp(a, g, 1−α),
// d = sqrt(s − a²) + eps, else d = sqrt(s) + eps; with momentum μ > 0: b = μ·b + g/d, p -= lr·b, else
// p -= lr·g/d. One fused loop per parameter, split over the engine's workers.
// reference: https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html
import LLMCore

/// RMSprop (Hinton), optionally centered and with momentum.
///
/// In Lua: `optim.RMSprop(params, {lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.9, centered=true})`.
public final class RMSprop: Optimizer {
    public static let schema: [HyperParameter] = [
        HyperParameter("lr", 1e-2, .nonNegative), HyperParameter("alpha", 0.99, .nonNegative),
        HyperParameter("eps", 1e-8, .nonNegative), HyperParameter("weightDecay", 0, .nonNegative),
        HyperParameter("momentum", 0, .nonNegative), HyperParameter("centered", 0, .bool)
    ]

    /// Parameter groups with per-group overrides of `options` (keys of ``schema``).
    public init(groups: [ParamGroup], options: [String: Double] = [:]) throws {
        try super.init(
            name: "RMSprop", schema: RMSprop.schema, bufferNames: ["square_avg", "grad_avg", "momentum_buffer"],
            groups: groups, options: options)
    }

    /// One group of parameters.
    public convenience init(
        _ params: [Tensor], lr: Double = 1e-2, alpha: Double = 0.99, eps: Double = 1e-8,
        weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false
    ) throws {
        try self.init(
            groups: [ParamGroup(params: params)],
            options: [
                "lr": lr, "alpha": alpha, "eps": eps, "weightDecay": weightDecay, "momentum": momentum, "centered": centered ? 1 : 0
            ])
    }

    override func update(_ p: Tensor, grad: Tensor, state: inout ParamState, group: ParamGroup) throws {
        let lr = Float(group.lr), alpha = Float(group["alpha"]), oneMinusAlpha = Float(1 - group["alpha"])
        let eps = Float(group["eps"]), wd = Float(group["weightDecay"]), mu = Float(group["momentum"])
        let s = try state.buffer("square_avg", like: p).tensor.f32
        let a: UnsafeMutablePointer<Float>? = group.flag("centered") ? try state.buffer("grad_avg", like: p).tensor.f32 : nil
        let b: UnsafeMutablePointer<Float>? = mu > 0 ? try state.buffer("momentum_buffer", like: p).tensor.f32 : nil
        let n = p.count, w = p.f32, g = grad.f32
        Parallel.forRanges(n, cost: 6) { r in
            for i in r {
                let gi = g[i] + wd * w[i]
                s[i] = s[i] * alpha + oneMinusAlpha * gi * gi
                var avg: Float
                if let a {
                    a[i] += oneMinusAlpha * (gi - a[i])
                    avg = (s[i] - a[i] * a[i]).squareRoot()
                } else {
                    avg = s[i].squareRoot()
                }
                avg += eps
                if let b {
                    b[i] = b[i] * mu + gi / avg
                    w[i] -= lr * b[i]
                } else {
                    w[i] -= lr * (gi / avg)
                }
            }
        }
    }
}
