// Sampling bindings: llm.Generator (a seeded random stream of its own), sort, topk, multinomial,
// and the in-place initializers that need more than uniform/normal draws (truncNormal_, orthogonal_).
import CLua
import CLuaShim
import LLMCore

extension Generator: LuaBridged {
    public static var luaTypeName: String { "llm.Generator" }
}

enum SamplingBindings {
    static func generator(_ a: LuaArgs, _ i: Int32) throws -> Generator { try a.object(i, Generator.self) }

    /// The `generator` option, or the shared generator.
    static func generatorOption(_ a: LuaArgs, _ i: Int32) throws -> Generator {
        guard a.type(i) == LUA_TTABLE else { return .shared }
        _ = try a.options(i, allowed: ["generator"])
        return try generatorField(a, i)
    }

    /// The `generator` field of the table at `i` (other keys are the caller's), or the shared generator.
    static func generatorField(_ a: LuaArgs, _ i: Int32) throws -> Generator {
        guard a.type(i) == LUA_TTABLE else { return .shared }
        lua_pushstring(a.L, "generator")
        let t = lua_rawget(a.L, i)
        defer { llms_pop(a.L, 1) }
        if t == LUA_TNIL { return .shared }
        let mt = LuaContext.of(a.L).metatables[Generator.luaTypeName]
        guard let g = try Userdata.object(a.L, -1, typeName: Generator.luaTypeName, mt: mt) as? Generator else {
            throw LuaError.runtime("Invalid 'generator': expected an llm.Generator, got \(a.typeName(-1))")
        }
        return g
    }

    static let methods: [LuaBinding] = [
        LuaBinding("sort", "t:sort([dim: int], [descending: boolean]) -> Tensor, Tensor", "Sorted values and their 0-based indices along dim (default last).") { a in
            let t = try a.tensor(1)
            let d = try a.optDim(2, rank: t.rank) ?? -1
            let (v, i) = try t.sort(dim: d, descending: a.optBool(3, false))
            a.push(v); a.push(i); return 2
        },
        LuaBinding("topk", "t:topk(k: int, [dim: int], [largest: boolean]) -> Tensor, Tensor", "The k largest (default) values along dim (default last) and their 0-based indices.")
        { a in
            let t = try a.tensor(1)
            let d = try a.optDim(3, rank: t.rank) ?? -1
            let (v, i) = try t.topk(a.integer(2), dim: d, largest: a.optBool(4, true))
            a.push(v); a.push(i); return 2
        },
        LuaBinding("multinomial", "probs:multinomial(n: int, [{generator}]) -> Tensor", "n 0-based class ids drawn (with replacement) from each row of non-negative weights.") {
            a in
            let t = try a.tensor(1)
            a.push(try t.multinomial(a.integer(2), generator: generatorOption(a, 3))); return 1
        },
        LuaBinding("truncNormal_", "t:truncNormal_(mean: number, std: number, a: number, b: number) -> t", "In place: normal values truncated to [a, b].") { a in
            a.push(try a.tensor(1).truncNormalInPlace(mean: a.number(2), std: a.number(3), a: a.number(4), b: a.number(5))); return 1
        },
        LuaBinding("orthogonal_", "t:orthogonal_([gain: number]) -> t", "In place: a (semi-)orthogonal matrix scaled by gain.") { a in
            a.push(try a.tensor(1).orthogonalInPlace(gain: a.optNumber(2, 1))); return 1
        }
    ]

    static let functions: [LuaBinding] = [
        LuaBinding("Generator", "llm.Generator(seed: int) -> Generator", "A seeded random stream independent of llm.manualSeed (for sampling).") { a in
            Userdata.push(a.L, Generator(seed: UInt64(bitPattern: Int64(try a.integer(1)))), typeName: Generator.luaTypeName)
            return 1
        }
    ]

    static let generatorMethods: [LuaBinding] = [
        LuaBinding("seed", "g:seed(n: int)", "Re-seeds the generator.") { a in
            try generator(a, 1).seed(UInt64(bitPattern: Int64(try a.integer(2)))); return 0
        },
        LuaBinding("state", "g:state() -> {int}", "The generator's state (for checkpoints).") { a in
            a.push(ints: try generator(a, 1).state.map { Int(Int64(bitPattern: $0)) }); return 1
        },
        LuaBinding("setState", "g:setState(state: {int})", "Restores a state saved with g:state().") { a in
            let g = try generator(a, 1)
            let s = try a.intList(2, allowNegative: true)
            guard s.count == 6 else { throw LuaError.argument(2, "expected a state of 6 integers from g:state(), got \(s.count)") }
            g.state = s.map { UInt64(bitPattern: Int64($0)) }
            return 0
        }
    ]

}
