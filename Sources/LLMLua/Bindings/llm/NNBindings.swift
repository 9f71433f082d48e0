// NN bindings: the fused kernels the nn layers are built on — linear, layerNorm, rmsNorm, attention,
// crossEntropy — plus cumsum. Functions of the `llm` namespace (the nn package re-exports the losses).
import CLua
import CLuaShim
import LLMCore

enum NNBindings {
    static let functions: [LuaBinding] = [
        LuaBinding("linear", "llm.linear(x: Tensor, weight: Tensor, [bias: Tensor]) -> Tensor", "x·weightᵀ + bias over the last dim; weight is (out, in).") { a in
            a.push(try a.tensor(1).linear(a.tensor(2), a.optTensor(3))); return 1
        },
        LuaBinding("layerNorm", "llm.layerNorm(x: Tensor, [weight: Tensor], [bias: Tensor], [eps: number]) -> Tensor", "Fused layer normalization over the last dim (eps 1e-5).") { a in
            a.push(try a.tensor(1).layerNorm(weight: a.optTensor(2), bias: a.optTensor(3), eps: a.optNumber(4, 1e-5))); return 1
        },
        LuaBinding("rmsNorm", "llm.rmsNorm(x: Tensor, [weight: Tensor], [eps: number]) -> Tensor", "Fused RMS normalization over the last dim (eps 1e-6).") { a in
            a.push(try a.tensor(1).rmsNorm(weight: a.optTensor(2), eps: a.optNumber(3, 1e-6))); return 1
        },
        LuaBinding("attention", "llm.attention(q: Tensor, k: Tensor, v: Tensor, [{causal=false, scale, keyMask}]) -> Tensor",
                   "Fused scaled dot-product attention: q (B,H,T,D), k and v (B,H,S,D); keyMask (B,S) with 0 for padding.") { a in
            let q = try a.tensor(1), k = try a.tensor(2), v = try a.tensor(3)
            let o = try a.options(4, allowed: ["causal", "scale", "keyMask"])
            let mask = try o.tensor("keyMask")
            let scale = try o.number("scale")
            if let s = scale, !(s.isFinite) { throw LuaError.runtime("Invalid 'scale': expected a finite number, got \(s)") }
            a.push(try Tensor.attention(q, k, v, causal: o.bool("causal") ?? false, scale: scale, keyMask: mask)); return 1
        },
        LuaBinding("crossEntropy", "llm.crossEntropy(logits: Tensor, targets: Tensor, [{ignoreIndex, labelSmoothing=0, reduction='mean'}]) -> Tensor",
                   "Fused softmax cross-entropy: logits (..., C), targets (...) 0-based class ids.") { a in
            let o = try a.options(3, allowed: ["ignoreIndex", "labelSmoothing", "reduction"])
            let red = try o.string("reduction") ?? "mean"
            guard let reduction = Reduction(rawValue: red) else {
                throw LuaError.runtime("Invalid 'reduction': expected one of: 'mean', 'sum', 'none', got '\(red)'")
            }
            a.push(try a.tensor(1).crossEntropy(a.tensor(2), ignoreIndex: o.integer("ignoreIndex"),
                                                 labelSmoothing: o.number("labelSmoothing") ?? 0, reduction: reduction)); return 1
        },
    ]

    static let methods: [LuaBinding] = [
        LuaBinding("cumsum", "t:cumsum(dim: int) -> Tensor", "Running sums along dim.") { a in
            let t = try a.tensor(1)
            a.push(try t.cumsum(dim: a.dim(2, rank: t.rank))); return 1
        },
    ]
}
