// SGD: stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay, with PyTorch's
// exact semantics (torch.optim.SGD): d = g + wd·p; buf = d on the first step, else buf·μ + (1−τ)·d;
// d = nesterov ? d + μ·buf : buf; p -= lr·d. One fused loop per parameter, split over the engine's workers.
// reference: https://pytorch.org/docs/stable/generated/torch.optim.SGD.html
import LLMCore

/// Stochastic gradient descent (optionally with momentum / Nesterov).
///
/// In Lua: `optim.SGD(params, {lr=0.1, momentum=0.9, nesterov=true, weightDecay=1e-4})`.
public final class SGD: Optimizer {
    public static let schema: [HyperParameter] = [
        HyperParameter("lr", 1e-3, .nonNegative), HyperParameter("momentum", 0, .nonNegative),
        HyperParameter("dampening", 0, .finite), HyperParameter("weightDecay", 0, .nonNegative),
        HyperParameter("nesterov", 0, .bool)
    ]

    /// Parameter groups with per-group overrides of `options` (keys of ``schema``).
    public init(groups: [ParamGroup], options: [String: Double] = [:]) throws {
        try super.init(name: "SGD", schema: SGD.schema, bufferNames: ["momentum_buffer"], groups: groups, options: options)
    }

    /// One group of parameters.
    public convenience init(
        _ params: [Tensor], lr: Double = 1e-3, momentum: Double = 0, dampening: Double = 0,
        weightDecay: Double = 0, nesterov: Bool = false
    ) throws {
        try self.init(
            groups: [ParamGroup(params: params)],
            options: [
                "lr": lr, "momentum": momentum, "dampening": dampening, "weightDecay": weightDecay, "nesterov": nesterov ? 1 : 0
            ])
    }

    override func checkGroup(_ g: ParamGroup) throws {
        if g.flag("nesterov") && (g["momentum"] <= 0 || g["dampening"] != 0) {
            throw TensorError.invalid("Invalid 'nesterov': Nesterov momentum requires a momentum and zero dampening")
        }
    }

    override func update(_ p: Tensor, grad: Tensor, state: inout ParamState, group: ParamGroup) throws {
        let lr = Float(group.lr), mu = Float(group["momentum"]), wd = Float(group["weightDecay"])
        let keep = Float(1 - group["dampening"]), nesterov = group.flag("nesterov")
        let n = p.count, w = p.f32, g = grad.f32
        guard mu != 0 else {
            Parallel.forRanges(n, cost: 2) { r in for i in r { w[i] -= lr * (g[i] + wd * w[i]) } }
            return
        }
        let (buffer, first) = try state.buffer("momentum_buffer", like: p)
        let b = buffer.f32
        Parallel.forRanges(n, cost: 4) { r in
            for i in r {
                var d = g[i] + wd * w[i]
                b[i] = first ? d : b[i] * mu + keep * d
                d = nesterov ? d + mu * b[i] : b[i]
                w[i] -= lr * d
            }
        }
    }
}
