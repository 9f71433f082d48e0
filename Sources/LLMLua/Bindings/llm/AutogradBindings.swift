// Autograd bindings: backward, detach, requiresGrad_, zeroGrad, in-place ops (trailing underscore),
// llm.noGrad(fn), llm.gradcheck(fn, inputs) and llm.primitives() (the closed op set, for coverage tests).
import CLua
import CLuaShim
import LLMCore

enum AutogradBindings {
    static func inPlace(_ name: String, _ doc: String, _ f: @escaping @Sendable (Tensor, Tensor) throws -> Tensor) -> LuaBinding {
        LuaBinding(name, "t:\(name)(other: Tensor | number) -> t", doc) { a in
            a.push(try f(a.tensor(1), a.tensorOrNumber(2))); return 1
        }
    }

    static let methods: [LuaBinding] = [
        LuaBinding(
            "backward", "t:backward([gradient: Tensor], [{retainGraph=false}])",
            "Back-propagates from t (a one-element tensor unless gradient is given), accumulating into leaves' .grad."
        ) { a in
            let t = try a.tensor(1)
            let g = a.isTensor(2) ? try a.tensor(2) : nil
            if g == nil && !a.isNoneOrNil(2) && a.type(2) != LUA_TTABLE { throw LuaError.type(2, expected: "llm.Tensor or options table") }
            let o = try a.options(g == nil ? 2 : 3, allowed: ["retainGraph"])
            try t.backward(g, retainGraph: o.bool("retainGraph") ?? false)
            return 0
        },
        LuaBinding("detach", "t:detach() -> Tensor", "A tensor sharing t's storage, outside the autograd graph.") { a in
            a.push(try a.tensor(1).detach()); return 1
        },
        LuaBinding("requiresGrad_", "t:requiresGrad_([flag: boolean]) -> t", "Marks a leaf as requiring a gradient (default true).") { a in
            let t = try a.tensor(1)
            try t.setRequiresGrad(a.optBool(2, true))
            a.push(t); return 1
        },
        LuaBinding("zeroGrad", "t:zeroGrad()", "Clears t.grad.") { a in
            try a.tensor(1).zeroGrad(); return 0
        },
        LuaBinding("add_", "t:add_(other: Tensor | number, [{alpha=1}]) -> t", "In place: t += alpha * other.") { a in
            let t = try a.tensor(1), o = try a.tensorOrNumber(2)
            let alpha = try a.options(3, allowed: ["alpha"]).number("alpha") ?? 1
            a.push(try t.addInPlace(o, alpha: Float(alpha))); return 1
        },
        inPlace("sub_", "In place: t -= other.") { try $0.subInPlace($1) },
        inPlace("mul_", "In place: t *= other.") { try $0.mulInPlace($1) },
        inPlace("div_", "In place: t /= other.") { try $0.divInPlace($1) },
        inPlace("copy_", "In place: copies other (broadcast, converted) into t.") { try $0.copyInPlace($1) },
        LuaBinding("fill_", "t:fill_(value: number) -> t", "In place: sets every element to value.") { a in
            a.push(try a.tensor(1).fillInPlace(a.number(2))); return 1
        },
        LuaBinding("zero_", "t:zero_() -> t", "In place: sets every element to 0.") { a in
            a.push(try a.tensor(1).zeroInPlace()); return 1
        },
        LuaBinding("clamp_", "t:clamp_([min: number], [max: number]) -> t", "In place clamp.") { a in
            let t = try a.tensor(1)
            a.push(try t.clampInPlace(min: a.isNoneOrNil(2) ? nil : a.number(2), max: a.isNoneOrNil(3) ? nil : a.number(3))); return 1
        },
        LuaBinding("uniform_", "t:uniform_([low: number], [high: number]) -> t", "In place: uniform random values in [low, high) (default [0, 1)).") { a in
            a.push(try a.tensor(1).uniformInPlace(low: a.optNumber(2, 0), high: a.optNumber(3, 1))); return 1
        },
        LuaBinding("normal_", "t:normal_([mean: number], [std: number]) -> t", "In place: normal random values (default mean 0, std 1).") { a in
            let std = try a.optNumber(3, 1)
            guard std >= 0 else { throw LuaError.argument(3, "std must be non-negative, got \(std)") }
            a.push(try a.tensor(1).normalInPlace(mean: a.optNumber(2, 0), std: std)); return 1
        }
    ]

    static let functions: [LuaBinding] = [
        LuaBinding("noGrad", "llm.noGrad(fn: function, ...) -> ...", "Calls fn(...) without recording operations for autograd; returns its results.") { a in
            try a.function(1)
            let n = a.count
            let base = lua_gettop(a.L)
            try GradMode.withoutGrad {
                try a.call(1, nresults: LUA_MULTRET) {
                    for i in 2...max(2, n) where i <= n { lua_pushvalue(a.L, i) }
                    return max(0, n - 1)
                }
            }
            return lua_gettop(a.L) - base
        },
        LuaBinding("isGradEnabled", "llm.isGradEnabled() -> boolean", "False inside llm.noGrad.") { a in
            a.push(GradMode.isEnabled); return 1
        },
        LuaBinding(
            "primitives", "llm.primitives() -> {string}",
            "Names of all built-in differentiable primitives (each has a gradient check; ops defined outside the engine core, such as dist.copyToParallel, are recorded as 'custom')."
        ) { a in
            let kinds = PrimitiveKind.allCases.filter { $0 != .custom }
            lua_createtable(a.L, Int32(kinds.count), 0)
            for (i, k) in kinds.enumerated() { lua_pushstring(a.L, k.rawValue); lua_rawseti(a.L, -2, lua_Integer(i + 1)) }
            return 1
        },
        LuaBinding(
            "gradcheck", "llm.gradcheck(fn: function, inputs: {Tensor}, [{eps=1e-3, atol=1e-2, rtol=1e-2}]) -> boolean, string",
            "Compares autograd gradients of fn(inputs...) with central finite differences; returns ok and a report."
        ) { a in
            try a.function(1)
            let inputs = try a.tensorList(2)
            let o = try a.options(3, allowed: ["eps", "atol", "rtol"])
            let eps = try o.number("eps") ?? 1e-3, atol = try o.number("atol") ?? 1e-2, rtol = try o.number("rtol") ?? 1e-2
            guard eps > 0, atol >= 0, rtol >= 0 else { throw LuaError.runtime("Invalid tolerances: eps must be positive and atol, rtol non-negative") }
            let result = try GradCheck.run(inputs: inputs, eps: eps, atol: atol, rtol: rtol) { xs in
                try a.call(1, nresults: 1) {
                    for x in xs { a.push(x) }; return Int32(xs.count)
                }
                defer { llms_pop(a.L, 1) }
                guard let out = try Userdata.tensor(a.L, -1) else {
                    throw LuaError.runtime("gradcheck: fn must return an llm.Tensor, got \(a.typeName(-1))")
                }
                return out
            }
            a.push(result.passed); a.push(result.report); return 2
        }
    ]
}
