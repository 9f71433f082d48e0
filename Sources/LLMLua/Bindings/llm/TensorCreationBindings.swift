// Creation bindings: llm.tensor, zeros, ones, empty, full, arange, linspace, eye, rand, randn, randint,
// manualSeed. Sizes come from varargs (llm.zeros(2, 3)) or a table (llm.zeros{2, 3}) + options.
import CLua
import CLuaShim
import LLMCore

#if canImport(Glibc)
    import Glibc
#endif

enum TensorCreationBindings {
    static let creationOptions = ["dtype", "requiresGrad"]

    /// Applies the common creation options to a new tensor and pushes it.
    static func finish(_ a: LuaArgs, _ t: Tensor, _ o: LuaOptions) throws -> Int32 {
        if let rg = try o.bool("requiresGrad") { try t.setRequiresGrad(rg) }
        a.push(t)
        return 1
    }

    static func sized(
        _ name: String, _ sig: String, _ doc: String, extra: [String] = [],
        _ make: @escaping @Sendable ([Int], LuaOptions) throws -> Tensor
    ) -> LuaBinding {
        sizedInState(name, sig, doc, extra: extra) { _, shape, o in try make(shape, o) }
    }

    /// ``sized(_:_:_:extra:_:)`` whose maker also sees the calling state's arguments (e.g. its sandbox).
    static func sizedInState(
        _ name: String, _ sig: String, _ doc: String, extra: [String] = [],
        _ make: @escaping @Sendable (LuaArgs, [Int], LuaOptions) throws -> Tensor
    ) -> LuaBinding {
        LuaBinding(name, sig, doc) { a in
            let (shape, next) = try a.shape(from: 1)
            if !a.isNoneOrNil(next) && a.type(next) != LUA_TTABLE {
                throw LuaError.argument(next, "expected a size (integer) or an options table, got \(a.typeName(next))")
            }
            let o = try a.options(next, allowed: creationOptions + extra)
            return try finish(a, make(a, shape, o), o)
        }
    }

    static let functions: [LuaBinding] = [
        LuaBinding(
            "tensor", "llm.tensor(data: number | nested table, [{dtype, requiresGrad}]) -> Tensor",
            "A tensor from a number or nested tables of numbers: llm.tensor{{1, 2}, {3, 4}}."
        ) { a in
            let o = try a.options(2, allowed: creationOptions)
            let dtype = try o.dtype() ?? .float32
            let t: Tensor
            if a.type(1) == LUA_TNUMBER {
                t = try Tensor.from([try a.number(1)], shape: [], dtype: dtype)
            } else if a.isTensor(1) {
                t = try a.tensor(1).detach().clone().toDType(dtype)
            } else {
                try a.table(1)
                var shape: [Int] = [], values: [Double] = []
                try readNested(a, index: lua_absindex(a.L, 1), depth: 0, shape: &shape, values: &values)
                t = try Tensor.from(values, shape: shape, dtype: dtype)
            }
            return try finish(a, t, o)
        },
        sized("zeros", "llm.zeros(size...: int | {int}, [{dtype, requiresGrad}]) -> Tensor", "A tensor of zeros.") { s, o in
            try Tensor.zeros(s, dtype: o.dtype() ?? .float32)
        },
        sized("ones", "llm.ones(size...: int | {int}, [{dtype, requiresGrad}]) -> Tensor", "A tensor of ones.") { s, o in
            try Tensor.ones(s, dtype: o.dtype() ?? .float32)
        },
        sizedInState(
            "empty", "llm.empty(size...: int | {int}, [{dtype, requiresGrad}]) -> Tensor",
            "An uninitialised tensor (its values are whatever the memory held; zeros in a sandboxed script): the cheapest allocation, for a tensor overwritten before it is read."
        ) { a, s, o in
            try Tensor(shape: s, dtype: o.dtype() ?? .float32, zeroed: LuaContext.of(a.L).sandbox != nil)
        },
        LuaBinding(
            "full", "llm.full(size: {int}, value: number, [{dtype, requiresGrad}]) -> Tensor",
            "A tensor filled with value."
        ) { a in
            let shape = try a.intList(1)
            let v = try a.number(2)
            let o = try a.options(3, allowed: creationOptions)
            return try finish(a, Tensor.full(shape, v, dtype: o.dtype() ?? .float32), o)
        },
        LuaBinding(
            "arange", "llm.arange([start: number,] end: number, [step: number], [{dtype, requiresGrad}]) -> Tensor",
            "Values from start (default 0) up to but excluding end, by step (default 1)."
        ) { a in
            var nums: [Double] = []
            var i: Int32 = 1
            while a.type(i) == LUA_TNUMBER && nums.count < 3 { nums.append(try a.number(i)); i += 1 }
            guard !nums.isEmpty else { throw LuaError.type(1, expected: "number") }
            let o = try a.options(i, allowed: creationOptions)
            let (start, end, step) = nums.count == 1 ? (0, nums[0], 1) : (nums[0], nums[1], nums.count > 2 ? nums[2] : 1)
            return try finish(a, Tensor.arange(start, end, step, dtype: o.dtype() ?? .float32), o)
        },
        LuaBinding(
            "linspace", "llm.linspace(start: number, end: number, steps: int, [{requiresGrad}]) -> Tensor",
            "steps evenly spaced values from start to end inclusive."
        ) { a in
            let o = try a.options(4, allowed: ["requiresGrad"])
            return try finish(a, Tensor.linspace(a.number(1), a.number(2), a.integer(3)), o)
        },
        LuaBinding("eye", "llm.eye(n: int, [m: int], [{dtype, requiresGrad}]) -> Tensor", "The n x m identity matrix.") { a in
            let n = try a.integer(1)
            let m = a.type(2) == LUA_TNUMBER ? try a.integer(2) : nil
            guard n >= 0, (m ?? 0) >= 0 else { throw LuaError.argument(1, "sizes must be non-negative") }
            let o = try a.options(m == nil ? 2 : 3, allowed: creationOptions)
            return try finish(a, Tensor.eye(n, m, dtype: o.dtype() ?? .float32), o)
        },
        sized(
            "rand", "llm.rand(size...: int | {int}, [{low, high, requiresGrad}]) -> Tensor",
            "Uniform random values in [low, high) (default [0, 1)), from the seeded generator.", extra: ["low", "high"]
        ) { s, o in
            try Tensor.rand(s, low: o.number("low") ?? 0, high: o.number("high") ?? 1)
        },
        sized(
            "randn", "llm.randn(size...: int | {int}, [{mean, std, requiresGrad}]) -> Tensor",
            "Normal random values (default mean 0, std 1), from the seeded generator.", extra: ["mean", "std"]
        ) { s, o in
            try Tensor.randn(s, mean: o.number("mean") ?? 0, std: o.number("std") ?? 1)
        },
        LuaBinding(
            "randint", "llm.randint(low: int, high: int, size: {int}, [{dtype}]) -> Tensor",
            "Uniform random integers in [low, high) (int64 by default)."
        ) { a in
            let low = try a.integer(1), high = try a.integer(2)
            let shape = try a.intList(3)
            let o = try a.options(4, allowed: ["dtype"])
            a.push(try Tensor.randint(low, high, shape, dtype: o.dtype() ?? .int64)); return 1
        },
        LuaBinding("manualSeed", "llm.manualSeed(seed: int)", "Seeds the random generator; the same seed gives the same tensors.") { a in
            let s = try a.integer(1)
            Generator.shared.seed(UInt64(bitPattern: Int64(s)))
            return 0
        },
        LuaBinding("isTensor", "llm.isTensor(x) -> boolean", "True when x is an llm.Tensor.") { a in
            a.push(a.isTensor(1)); return 1
        },
        LuaBinding("memory", "llm.memory() -> int", "Bytes of native tensor memory currently allocated.") { a in
            a.push(Storage.liveBytes.load(ordering: .relaxed)); return 1
        },
        LuaBinding("peakMemory", "llm.peakMemory() -> int", "Peak resident memory of this process so far in bytes (getrusage's ru_maxrss).") { a in
            var u = rusage()
            getrusage(RUSAGE_SELF.rawValue, &u)
            a.push(Int(u.ru_maxrss) &* 1024); return 1
        }
    ]

    /// Reads nested tables of numbers (depth-first) into a shape and row-major values; rejects ragged input.
    static func readNested(_ a: LuaArgs, index: Int32, depth: Int, shape: inout [Int], values: inout [Double]) throws {
        var leafDepth: Int? = nil
        try readNested(a, index: index, depth: depth, shape: &shape, values: &values, leafDepth: &leafDepth)
    }

    private static func readNested(
        _ a: LuaArgs, index: Int32, depth: Int, shape: inout [Int], values: inout [Double],
        leafDepth: inout Int?
    ) throws {
        guard depth < 32 else { throw LuaError.argument(1, "nested tables are too deep (more than 32 levels, or a cycle)") }
        let L = a.L
        let n = Int(lua_rawlen(L, index))
        if depth == shape.count {
            shape.append(n)
        } else if shape[depth] != n {
            throw LuaError.argument(1, "ragged nested table: expected \(shape[depth]) elements at depth \(depth + 1), found \(n)")
        }
        guard values.count + n <= maxElementCount else { throw LuaError.argument(1, "too many elements") }
        if n == 0 { return }
        for k in 1...n {
            let t = lua_rawgeti(L, index, lua_Integer(k))
            defer { llms_pop(L, 1) }
            if t == LUA_TNUMBER || t == LUA_TBOOLEAN {
                if leafDepth == nil { leafDepth = depth }
                guard leafDepth == depth, shape.count == depth + 1 else {
                    throw LuaError.argument(1, "ragged nested table: found a number where a table was expected (depth \(depth + 1))")
                }
                values.append(t == LUA_TNUMBER ? lua_tonumberx(L, -1, nil) : (lua_toboolean(L, -1) != 0 ? 1 : 0))
            } else if t == LUA_TTABLE {
                if let ld = leafDepth, ld <= depth {
                    throw LuaError.argument(1, "ragged nested table: found a table where a number was expected (depth \(depth + 1))")
                }
                try readNested(a, index: lua_absindex(L, -1), depth: depth + 1, shape: &shape, values: &values, leafDepth: &leafDepth)
            } else {
                throw LuaError.argument(1, "element \(k) at depth \(depth + 1) is a \(a.typeName(-1)), expected a number or a table")
            }
        }
    }
}
