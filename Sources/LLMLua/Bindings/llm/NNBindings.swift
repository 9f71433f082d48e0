// NN bindings: the fused kernels the nn layers are built on — linear, layerNorm, rmsNorm, attention (with
// its position/mask options), rope, swiglu, geglu, crossEntropy — plus cumsum. Functions of the `llm` namespace (the nn package re-exports the losses).
import CLua
import CLuaShim
import LLMCore

enum NNBindings {
    static let functions: [LuaBinding] = [
        LuaBinding("linear", "llm.linear(x: Tensor, weight: Tensor, [bias: Tensor]) -> Tensor", "x·weightᵀ + bias over the last dim; weight is (out, in).") { a in
            a.push(try a.tensor(1).linear(a.tensor(2), a.optTensor(3))); return 1
        },
        LuaBinding("layerNorm", "llm.layerNorm(x: Tensor, [weight: Tensor], [bias: Tensor], [eps: number]) -> Tensor", "Fused layer normalization over the last dim (eps 1e-5).") {
            a in
            a.push(try a.tensor(1).layerNorm(weight: a.optTensor(2), bias: a.optTensor(3), eps: a.optNumber(4, 1e-5))); return 1
        },
        LuaBinding("rmsNorm", "llm.rmsNorm(x: Tensor, [weight: Tensor], [eps: number]) -> Tensor", "Fused RMS normalization over the last dim (eps 1e-6).") { a in
            a.push(try a.tensor(1).rmsNorm(weight: a.optTensor(2), eps: a.optNumber(3, 1e-6))); return 1
        },
        LuaBinding(
            "attention",
            "llm.attention(q: Tensor, k: Tensor, v: Tensor, [{causal=false, scale, keyMask, positions, keyPositions, window, segments, querySegments, alibi}]) -> Tensor",
            "Fused scaled dot-product attention: q (B,H,T,D), k and v (B,Hkv,S,D) with H a multiple of Hkv (grouped-query; Hkv = 1: multi-query). "
                + "positions (B,T) / keyPositions (B,S) int64 absolute positions (default S−T+i and 0..S−1); causal: keyPos ≤ queryPos; "
                + "window W: queryPos − keyPos < W; keyMask (B,S) 0 = padding; segments (B,S) / querySegments (B,T, default the last T): "
                + "only same-segment keys; alibi=true (standard slopes) or a (H) tensor of slopes adds −slope·(queryPos − keyPos). " + "A query that sees no key returns 0."
        ) { a in
            let q = try a.tensor(1), k = try a.tensor(2), v = try a.tensor(3)
            let o = try a.options(4, allowed: ["causal", "scale", "keyMask", "positions", "keyPositions", "window", "segments", "querySegments", "alibi"])
            let scale = try o.number("scale")
            if let s = scale, !(s.isFinite) { throw LuaError.runtime("Invalid 'scale': expected a finite number, got \(s)") }
            let window = try o.integer("window")
            if let w = window, w < 1 { throw LuaError.runtime("Invalid 'window': expected a positive integer, got \(w)") }
            let at = o.pushField("alibi"), isTensor = a.isTensor(-1), flag = lua_toboolean(a.L, -1) != 0
            let got = at == LUA_TNUMBER || at == LUA_TSTRING ? String(cString: llms_tostring(a.L, -1)) : String(cString: lua_typename(a.L, at))
            llms_pop(a.L, 1)
            var alibi: AttentionMask.ALiBi?
            if at == LUA_TBOOLEAN {
                alibi = flag ? .standard : nil
            } else if at != LUA_TNIL {
                guard isTensor, let slopes = try o.tensor("alibi") else {
                    throw LuaError.runtime("Invalid 'alibi': expected a boolean or an llm.Tensor of per-head slopes, got \(got)")
                }
                alibi = .slopes(slopes)
            }
            let mask = AttentionMask(
                causal: try o.bool("causal") ?? false, positions: try o.tensor("positions"),
                keyPositions: try o.tensor("keyPositions"), window: window, keyMask: try o.tensor("keyMask"),
                segments: try o.tensor("segments"), querySegments: try o.tensor("querySegments"), alibi: alibi)
            a.push(try Tensor.attention(q, k, v, mask: mask, scale: scale)); return 1
        },
        LuaBinding(
            "rope", "llm.rope(x: Tensor, [{positions, offset=0, base=10000, scaling={type='linear'|'ntk', factor}}]) -> Tensor",
            "Fused rotary position embedding of x (B,H,T,D), HF Llama rotate_half convention; positions (B,T) or (T) integers "
                + "(default offset..offset+T−1). scaling linear: positions/factor; ntk: base·factor^(D/(D−2)). Apply to q and k before the KV cache."
        ) { a in
            let x = try a.tensor(1)
            let o = try a.options(2, allowed: ["positions", "offset", "base", "scaling"])
            let offset = try o.integer("offset") ?? 0
            let positions = try o.tensor("positions")
            if positions != nil && o.has("offset") { throw LuaError.runtime("Invalid 'offset': expected either 'positions' or 'offset', got both") }
            let base = try o.number("base") ?? 10000
            if !(base.isFinite && base > 0) { throw LuaError.runtime("Invalid 'base': expected a positive number, got \(base)") }
            let scaling: RopeScaling? = try o.withTable("scaling") { idx in
                let so = try a.options(idx, allowed: ["type", "factor"])
                guard let f = try so.number("factor"), f.isFinite, f > 0 else {
                    throw LuaError.runtime("Invalid 'factor': expected a positive number in scaling = {type=..., factor=...}")
                }
                switch try so.string("type") {
                case "linear": return .linear(f)
                case "ntk": return .ntk(f)
                case let other: throw LuaError.runtime("Invalid 'type': expected one of: 'linear', 'ntk', got \(other.map { "'\($0)'" } ?? "nil")")
                }
            }
            a.push(try x.rope(positions: positions, offset: offset, base: base, scaling: scaling)); return 1
        },
        LuaBinding("swiglu", "llm.swiglu(x: Tensor) -> Tensor", "Fused SwiGLU: x (..., 2F) -> SiLU(x[..., :F]) · x[..., F:] (first half the gate).") { a in
            a.push(try a.tensor(1).swiglu()); return 1
        },
        LuaBinding("geglu", "llm.geglu(x: Tensor) -> Tensor", "Fused GeGLU: x (..., 2F) -> GELU(x[..., :F]) · x[..., F:], exact (erf) GELU as torch's F.gelu default.") { a in
            a.push(try a.tensor(1).geglu()); return 1
        },
        LuaBinding(
            "crossEntropy", "llm.crossEntropy(logits: Tensor, targets: Tensor, [{ignoreIndex, labelSmoothing=0, reduction='mean'}]) -> Tensor",
            "Fused softmax cross-entropy: logits (..., C), targets (...) 0-based class ids."
        ) { a in
            let o = try a.options(3, allowed: ["ignoreIndex", "labelSmoothing", "reduction"])
            let red = try o.string("reduction") ?? "mean"
            guard let reduction = Reduction(rawValue: red) else {
                throw LuaError.runtime("Invalid 'reduction': expected one of: 'mean', 'sum', 'none', got '\(red)'")
            }
            a.push(
                try a.tensor(1).crossEntropy(
                    a.tensor(2), ignoreIndex: o.integer("ignoreIndex"),
                    labelSmoothing: o.number("labelSmoothing") ?? 0, reduction: reduction));
            return 1
        }
    ]

    static let methods: [LuaBinding] = [
        LuaBinding("cumsum", "t:cumsum(dim: int) -> Tensor", "Running sums along dim.") { a in
            let t = try a.tensor(1)
            a.push(try t.cumsum(dim: a.dim(2, rank: t.rank))); return 1
        }
    ]
}
