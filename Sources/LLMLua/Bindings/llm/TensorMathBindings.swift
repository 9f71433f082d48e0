// Math bindings: broadcasting arithmetic (methods and + - * / ^ metamethods), unary functions,
// comparisons, where/clamp, reductions with dims and keepdim, softmax family, matmul.
import CLua
import CLuaShim
import LLMCore

enum TensorMathBindings {
    static func binary(_ name: String, _ doc: String, _ f: @escaping @Sendable (Tensor, Tensor) throws -> Tensor) -> LuaBinding {
        LuaBinding(name, "t:\(name)(other: Tensor | number) -> Tensor", doc) { a in
            a.push(try f(a.tensorOrNumber(1), a.tensorOrNumber(2))); return 1
        }
    }
    static func unary(_ name: String, _ doc: String, _ f: @escaping @Sendable (Tensor) throws -> Tensor) -> LuaBinding {
        LuaBinding(name, "t:\(name)() -> Tensor", doc) { a in
            a.push(try f(a.tensor(1))); return 1
        }
    }
    static func compare(_ name: String, _ sym: String) -> LuaBinding {
        LuaBinding(name, "t:\(name)(other: Tensor | number) -> Tensor", "Elementwise \(sym) as a float32 mask of 0 and 1.") { a in
            a.push(try a.tensor(1).compare(a.tensorOrNumber(2), name)); return 1
        }
    }

    /// Reads `[dims], [keepdim | {keepdim=}]` starting at argument `i`.
    static func reduceArgs(_ a: LuaArgs, _ t: Tensor, from i: Int32, extra: [String] = []) throws -> (dims: [Int]?, keepdim: Bool, opts: LuaOptions) {
        let dims = try a.dims(i, rank: t.rank)
        var k = dims == nil && (a.type(i) == LUA_TNIL) ? i + 1 : (dims == nil ? i : i + 1)
        var keepdim = false
        if a.type(k) == LUA_TBOOLEAN { keepdim = try a.bool(k); k += 1 }
        let o = try a.options(k, allowed: ["keepdim"] + extra)
        if let kd = try o.bool("keepdim") { keepdim = kd }
        return (dims, keepdim, o)
    }

    static let methods: [LuaBinding] = [
        binary("add", "Elementwise sum (broadcasting).") { try $0.add($1) },
        binary("sub", "Elementwise difference (broadcasting).") { try $0.sub($1) },
        binary("mul", "Elementwise product (broadcasting).") { try $0.mul($1) },
        binary("div", "Elementwise quotient (broadcasting).") { try $0.div($1) },
        LuaBinding("pow", "t:pow(exponent: number | Tensor) -> Tensor", "Elementwise power.") { a in
            let t = try a.tensor(1)
            if a.type(2) == LUA_TNUMBER { a.push(try t.pow(a.number(2))) } else { a.push(try t.pow(a.tensor(2))) }
            return 1
        },
        binary("maximum", "Elementwise maximum (not differentiable).") { try $0.maximum($1) },
        binary("minimum", "Elementwise minimum (not differentiable).") { try $0.minimum($1) },
        unary("neg", "-t") { try $0.neg() },
        unary("exp", "e^t") { try $0.exp() },
        unary("log", "Natural logarithm.") { try $0.log() },
        unary("sqrt", "Square root.") { try $0.sqrt() },
        unary("rsqrt", "1 / sqrt(t).") { try $0.rsqrt() },
        unary("abs", "Absolute value.") { try $0.abs() },
        unary("tanh", "Hyperbolic tangent.") { try $0.tanh() },
        unary("sigmoid", "1 / (1 + e^-t).") { try $0.sigmoid() },
        unary("relu", "max(t, 0).") { try $0.relu() },
        unary("silu", "t * sigmoid(t) (swish).") { try $0.silu() },
        unary("round", "Rounds to the nearest integer, halves to even (torch.round); gradient 0.") { try $0.round() },
        unary("floor", "Largest integer <= t; gradient 0.") { try $0.floor() },
        unary("ceil", "Smallest integer >= t; gradient 0.") { try $0.ceil() },
        unary("sign", "-1, 0 or 1 elementwise (NaN stays NaN); gradient 0.") { try $0.sign() },
        LuaBinding("gelu", "t:gelu([{approximate='none'|'tanh'}]) -> Tensor", "GELU: exact (erf) by default, or the tanh approximation of GPT-2.") { a in
            let o = try a.options(2, allowed: ["approximate"])
            let mode = try o.string("approximate") ?? "none"
            guard mode == "none" || mode == "tanh" else {
                throw LuaError.runtime("Invalid 'approximate': expected one of: 'none', 'tanh', got '\(mode)'")
            }
            a.push(try a.tensor(1).gelu(approximate: mode == "tanh")); return 1
        },
        LuaBinding("clamp", "t:clamp([min: number], [max: number]) -> Tensor", "Limits values to [min, max]; either bound may be nil.") { a in
            let t = try a.tensor(1)
            let lo = a.isNoneOrNil(2) ? nil : try a.number(2), hi = a.isNoneOrNil(3) ? nil : try a.number(3)
            a.push(try t.clamp(min: lo, max: hi)); return 1
        },
        compare("eq", "=="), compare("ne", "~="), compare("lt", "<"), compare("le", "<="), compare("gt", ">"), compare("ge", ">="),
        LuaBinding("matmul", "t:matmul(other: Tensor) -> Tensor", "Matrix product: 1-D, 2-D and batched (broadcast batch dims), via BLAS.") { a in
            a.push(try a.tensor(1).matmul(a.tensor(2))); return 1
        },
        LuaBinding("sum", "t:sum([dim: int | {int}], [keepdim: boolean]) -> Tensor", "Sum over dims (default all).") { a in
            let t = try a.tensor(1)
            let r = try reduceArgs(a, t, from: 2)
            a.push(try t.sum(dims: r.dims, keepdim: r.keepdim)); return 1
        },
        LuaBinding("mean", "t:mean([dim: int | {int}], [keepdim: boolean]) -> Tensor", "Mean over dims (default all).") { a in
            let t = try a.tensor(1)
            let r = try reduceArgs(a, t, from: 2)
            a.push(try t.mean(dims: r.dims, keepdim: r.keepdim)); return 1
        },
        LuaBinding("var", "t:var([dim: int | {int}], [keepdim: boolean], [{correction=1}]) -> Tensor", "Variance over dims (Bessel-corrected by default).") { a in
            let t = try a.tensor(1)
            let r = try reduceArgs(a, t, from: 2, extra: ["correction"])
            let c = try r.opts.integer("correction") ?? 1
            guard c >= 0 else { throw LuaError.runtime("Invalid 'correction': expected a non-negative integer, got \(c)") }
            a.push(try t.variance(dims: r.dims, keepdim: r.keepdim, correction: c)); return 1
        },
        LuaBinding("norm", "t:norm([p: number], [dim: int | {int}], [keepdim: boolean]) -> Tensor", "p-norm (default 2) over dims (default all).") { a in
            let t = try a.tensor(1)
            let p = try a.optNumber(2, 2)
            let r = try reduceArgs(a, t, from: 3)
            a.push(try t.norm(p: p, dims: r.dims, keepdim: r.keepdim)); return 1
        },
        extremum("max", isMax: true), extremum("min", isMax: false),
        argExtremum("argmax", isMax: true), argExtremum("argmin", isMax: false),
        LuaBinding("logsumexp", "t:logsumexp(dim: int, [keepdim: boolean]) -> Tensor", "log(sum(exp(t))) along dim, computed stably.") { a in
            let t = try a.tensor(1)
            let d = try a.dim(2, rank: t.rank)
            let r = try reduceArgs(a, t, from: 3)
            a.push(try t.logsumexp(dim: d, keepdim: r.keepdim)); return 1
        },
        LuaBinding("softmax", "t:softmax(dim: int) -> Tensor", "Softmax along dim.") { a in
            let t = try a.tensor(1); a.push(try t.softmax(dim: a.dim(2, rank: t.rank))); return 1
        },
        LuaBinding("logSoftmax", "t:logSoftmax(dim: int) -> Tensor", "Log-softmax along dim (stable).") { a in
            let t = try a.tensor(1); a.push(try t.logSoftmax(dim: a.dim(2, rank: t.rank))); return 1
        }
    ]

    static func extremum(_ name: String, isMax: Bool) -> LuaBinding {
        LuaBinding(
            name, "t:\(name)([dim: int], [keepdim: boolean]) -> Tensor[, Tensor]",
            "Without dim: the \(name) of all elements. With dim: values and 0-based int64 indices along dim."
        ) { a in
            let t = try a.tensor(1)
            if a.isNoneOrNil(2) {
                guard t.count > 0 else { throw LuaError.runtime("\(name): the tensor is empty") }
                a.push(try t.reshape([-1]).extremum(dim: 0, max: isMax).values); return 1
            }
            let d = try a.dim(2, rank: t.rank)
            let r = try reduceArgs(a, t, from: 3)
            let (v, i) = try t.extremum(dim: d, keepdim: r.keepdim, max: isMax)
            a.push(v); a.push(i); return 2
        }
    }
    static func argExtremum(_ name: String, isMax: Bool) -> LuaBinding {
        LuaBinding(
            name, "t:\(name)([dim: int], [keepdim: boolean]) -> Tensor",
            "0-based int64 index of the \(isMax ? "max" : "min") along dim, or into the flattened tensor."
        ) { a in
            let t = try a.tensor(1)
            guard t.count > 0 else { throw LuaError.runtime("\(name): the tensor is empty") }
            let d = try a.optDim(2, rank: t.rank)
            let r = try reduceArgs(a, t, from: 3)
            a.push(try t.argExtremum(dim: d, keepdim: r.keepdim, max: isMax)); return 1
        }
    }

    static let functions: [LuaBinding] = [
        LuaBinding(
            "where", "llm.where(condition: Tensor, a: Tensor | number, b: Tensor | number) -> Tensor",
            "a where condition is non-zero, else b (broadcasting)."
        ) { a in
            a.push(try Tensor.where(a.tensor(1), a.tensorOrNumber(2), a.tensorOrNumber(3))); return 1
        }
    ]

    static func arith(_ name: String, _ sym: String, _ f: @escaping @Sendable (Tensor, Tensor) throws -> Tensor) -> LuaBinding {
        LuaBinding(name, "a \(sym) b", "Elementwise \(sym) of tensors and numbers (broadcasting).") { a in
            a.push(try f(a.tensorOrNumber(1), a.tensorOrNumber(2))); return 1
        }
    }

    static let metamethods: [LuaBinding] = [
        arith("__add", "+") { try $0.add($1) },
        arith("__sub", "-") { try $0.sub($1) },
        arith("__mul", "*") { try $0.mul($1) },
        arith("__div", "/") { try $0.div($1) },
        LuaBinding("__pow", "a ^ b", "Elementwise power.") { a in
            if a.type(2) == LUA_TNUMBER { a.push(try a.tensor(1).pow(a.number(2))) } else { a.push(try a.tensorOrNumber(1).pow(a.tensor(2))) }
            return 1
        },
        LuaBinding("__unm", "-t", "Negation.") { a in
            a.push(try a.tensor(1).neg()); return 1
        }
    ]
}
