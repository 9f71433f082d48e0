// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019), exactly as torch.optim.AdamW:
// p *= 1 − lr·wd before the Adam update (which then sees the raw gradient). Default weightDecay 1e-2.
// The update is Adam's fused SIMD loop (CKernels llmk_adam_update) with the decoupled decay, split across
// the engine's workers.
// reference: https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html
import LLMCore

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
    public convenience init(
        _ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
        eps: Double = 1e-8, weightDecay: Double = 1e-2, amsgrad: Bool = false
    ) throws {
        try self.init(
            groups: [ParamGroup(params: params)],
            options: [
                "lr": lr, "beta1": betas.0, "beta2": betas.1, "eps": eps, "weightDecay": weightDecay, "amsgrad": amsgrad ? 1 : 0
            ])
    }
}
