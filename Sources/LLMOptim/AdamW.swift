// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019), exactly as torch.optim.AdamW:
// p *= 1 − lr·wd before the Adam update (which then sees the raw gradient). Default weightDecay 1e-2.
// The update is one fused SIMD loop (CKernels llmk_adamw_update), split across the engine's workers.
// reference: https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html
import CKernels
import LLMCore
#if canImport(Glibc)
import Glibc
#endif

/// Adam with decoupled weight decay: the GPT default.
///
/// In Lua: `optim.AdamW(model:parameters(), {lr=3e-4, betas={0.9, 0.95}, weightDecay=0.1})`.
public final class AdamW: Adam {
    /// Hyper-parameters of AdamW (same keys as Adam; weightDecay defaults to 1e-2).
    public static let adamWSchema = Adam.schema(weightDecay: 1e-2)

    /// Parameter groups with per-group overrides of `options` (keys of ``adamWSchema``).
    public init(groups: [ParamGroup], options: [String: Double] = [:]) throws {
        try super.init(name: "AdamW", decoupled: true, groups: groups, options: options)
    }

    /// One group of parameters.
    public convenience init(_ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 1e-2, amsgrad: Bool = false) throws {
        try self.init(groups: [ParamGroup(params: params)], options: [
            "lr": lr, "beta1": betas.0, "beta2": betas.1, "eps": eps, "weightDecay": weightDecay, "amsgrad": amsgrad ? 1 : 0,
        ])
    }

    /// The fused AdamW loop, split across the engine's workers (elementwise, so the numbers are the same
    /// as Adam's single loop with decoupled decay); AMSGrad goes through Adam's loop.
    override func update(_ p: Tensor, grad: Tensor, state: inout ParamState, group: ParamGroup) throws {
        if group.flag("amsgrad") { try super.update(p, grad: grad, state: &state, group: group); return }
        let lr = group.lr, b1 = group["beta1"], b2 = group["beta2"], wdD = group["weightDecay"]
        let t = Double(state.step)
        let stepSize = Float(lr / (1 - pow(b1, t)))
        let bc2Sqrt = Float((1 - pow(b2, t)).squareRoot())
        let eps = Float(group["eps"]), beta2 = Float(b2), oneMinusB1 = Float(1 - b1), oneMinusB2 = Float(1 - b2)
        let decay = Float(1 - lr * wdD)
        let m = try state.buffer("exp_avg", like: p).tensor.f32
        let v = try state.buffer("exp_avg_sq", like: p).tensor.f32
        let w = p.f32, g = grad.f32
        Parallel.forRanges(p.count, cost: 8) { r in
            let o = r.lowerBound
            llmk_adamw_update(w + o, g + o, m + o, v + o, r.count, decay, oneMinusB1, beta2, oneMinusB2, bc2Sqrt, eps, stepSize)
        }
    }
}
