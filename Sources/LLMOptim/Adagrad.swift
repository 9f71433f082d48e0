// Adagrad, exactly as torch.optim.Adagrad: g += wd·p; clr = lr / (1 + (t−1)·lrDecay); sum += g²;
// p -= clr · g / (sqrt(sum) + eps). The accumulator starts at initialAccumulatorValue (created on the
// parameter's first update). One fused loop per parameter, split over the engine's workers.
// reference: https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html
import LLMCore

/// Adagrad (Duchi et al., 2011).
///
/// In Lua: `optim.Adagrad(params, {lr=1e-2, lrDecay=0, weightDecay=0, initialAccumulatorValue=0, eps=1e-10})`.
public final class Adagrad: Optimizer {
    public static let schema: [HyperParameter] = [
        HyperParameter("lr", 1e-2, .nonNegative), HyperParameter("lrDecay", 0, .nonNegative),
        HyperParameter("weightDecay", 0, .nonNegative), HyperParameter("initialAccumulatorValue", 0, .nonNegative),
        HyperParameter("eps", 1e-10, .nonNegative)
    ]

    /// Parameter groups with per-group overrides of `options` (keys of ``schema``).
    public init(groups: [ParamGroup], options: [String: Double] = [:]) throws {
        try super.init(name: "Adagrad", schema: Adagrad.schema, bufferNames: ["sum"], groups: groups, options: options)
    }

    /// One group of parameters.
    public convenience init(
        _ params: [Tensor], lr: Double = 1e-2, lrDecay: Double = 0, weightDecay: Double = 0,
        initialAccumulatorValue: Double = 0, eps: Double = 1e-10
    ) throws {
        try self.init(
            groups: [ParamGroup(params: params)],
            options: [
                "lr": lr, "lrDecay": lrDecay, "weightDecay": weightDecay, "initialAccumulatorValue": initialAccumulatorValue, "eps": eps
            ])
    }

    override func update(_ p: Tensor, grad: Tensor, state: inout ParamState, group: ParamGroup) throws {
        let clr = Float(group.lr / (1 + Double(state.step - 1) * group["lrDecay"]))
        let wd = Float(group["weightDecay"]), eps = Float(group["eps"])
        let sum = try state.buffer("sum", like: p, fill: group["initialAccumulatorValue"]).tensor.f32
        let n = p.count, w = p.f32, g = grad.f32
        Parallel.forRanges(n, cost: 4) { r in
            for i in r {
                let gi = g[i] + wd * w[i]
                sum[i] += gi * gi
                w[i] -= clr * (gi / (sum[i].squareRoot() + eps))
            }
        }
    }
}
