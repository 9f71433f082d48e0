// Adam: adaptive moments with bias correction, optional AMSGrad, and weight decay as L2 added to the
// gradient (g += wd·p), exactly as torch.optim.Adam: m = lerp(m, g, 1−β1); v = β2·v + (1−β2)·g²;
// p -= lr/(1−β1^t) · m / (sqrt(v̂)/sqrt(1−β2^t) + eps), v̂ = v or running max(v). One fused SIMD loop
// (CKernels llmk_adam_update) split over the engine's workers; AdamW passes its decoupled decay to it.
// reference: https://pytorch.org/docs/stable/generated/torch.optim.Adam.html
import CKernels
import LLMCore
#if canImport(Glibc)
    import Glibc
#endif

/// Adam (Kingma & Ba, 2015). ``AdamW`` is the same update with decoupled weight decay.
///
/// In Lua: `optim.Adam(params, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weightDecay=0, amsgrad=false})`.
public class Adam: Optimizer {
    static func schema(weightDecay: Double) -> [HyperParameter] {
        [
            HyperParameter("lr", 1e-3, .nonNegative), HyperParameter("beta1", 0.9, .unitInterval, pairedAs: "betas"),
            HyperParameter("beta2", 0.999, .unitInterval, pairedAs: "betas"), HyperParameter("eps", 1e-8, .nonNegative),
            HyperParameter("weightDecay", weightDecay, .nonNegative), HyperParameter("amsgrad", 0, .bool)
        ]
    }
    /// Hyper-parameters of Adam (`betas` are `beta1`, `beta2`).
    public static let adamSchema = schema(weightDecay: 0)
    let decoupled: Bool

    init(name: String, decoupled: Bool, groups: [ParamGroup], options: [String: Double]) throws {
        self.decoupled = decoupled
        try super.init(
            name: name, schema: Adam.schema(weightDecay: decoupled ? 1e-2 : 0),
            bufferNames: ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"], groups: groups, options: options)
    }

    /// Parameter groups with per-group overrides of `options` (keys of ``adamSchema``).
    public convenience init(groups: [ParamGroup], options: [String: Double] = [:]) throws {
        try self.init(name: "Adam", decoupled: false, groups: groups, options: options)
    }

    /// One group of parameters.
    public convenience init(
        _ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
        eps: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false
    ) throws {
        try self.init(
            groups: [ParamGroup(params: params)],
            options: [
                "lr": lr, "beta1": betas.0, "beta2": betas.1, "eps": eps, "weightDecay": weightDecay, "amsgrad": amsgrad ? 1 : 0
            ])
    }

    override func update(_ p: Tensor, grad: Tensor, state: inout ParamState, group: ParamGroup) throws {
        let lr = group.lr, b1 = group["beta1"], b2 = group["beta2"], wdD = group["weightDecay"]
        let t = Double(state.step)
        let stepSize = Float(lr / (1 - pow(b1, t)))
        let bc2Sqrt = Float((1 - pow(b2, t)).squareRoot())
        let eps = Float(group["eps"]), beta2 = Float(b2), oneMinusB1 = Float(1 - b1), oneMinusB2 = Float(1 - b2)
        let l2: Float = decoupled ? 0 : Float(wdD)
        let decay: Float = decoupled ? Float(1 - lr * wdD) : 1
        let m = try state.buffer("exp_avg", like: p).tensor.f32
        let v = try state.buffer("exp_avg_sq", like: p).tensor.f32
        let vmax: UnsafeMutablePointer<Float>? = group.flag("amsgrad") ? try state.buffer("max_exp_avg_sq", like: p).tensor.f32 : nil
        let w = p.f32, g = grad.f32
        Parallel.forRanges(p.count, cost: 8) { r in  // one fused SIMD loop (CKernels), split over the workers
            let o = r.lowerBound
            llmk_adam_update(
                w + o, g + o, m + o, v + o, vmax.map { $0 + o }, r.count, decay, l2, oneMinusB1, beta2, oneMinusB2,
                bc2Sqrt, eps, stepSize)
        }
    }
}
