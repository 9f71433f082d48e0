// Shape bindings: views (reshape/view, transpose, permute, narrow, select, unsqueeze, squeeze, expand,
// flatten), copies (contiguous, clone), joining and splitting (cat, stack, split, chunk).
// Dims and positions are 1-based here and converted once; negative dims count from the end.
import CLua
import CLuaShim
import LLMCore

enum TensorShapeBindings {
    /// A size list from varargs at `i` (integers, -1 allowed) or one table.
    static func sizes(_ a: LuaArgs, from i: Int32) throws -> [Int] {
        if a.type(i) == LUA_TTABLE { return try a.intList(i, allowNegative: true) }
        var out: [Int] = []
        var k = i
        while a.type(k) == LUA_TNUMBER { out.append(try a.integer(k)); k += 1 }
        if !a.isNoneOrNil(k) { throw LuaError.type(k, expected: "integer") }
        return out
    }

    static let methods: [LuaBinding] = [
        LuaBinding("reshape", "t:reshape(size...: int | {int}) -> Tensor", "Same elements in a new shape (one size may be -1); a view when possible.") { a in
            a.push(try a.tensor(1).reshape(sizes(a, from: 2))); return 1
        },
        LuaBinding("view", "t:view(size...: int | {int}) -> Tensor", "Like reshape but never copies (errors on non-contiguous tensors).") { a in
            a.push(try a.tensor(1).viewAs(sizes(a, from: 2))); return 1
        },
        LuaBinding("transpose", "t:transpose([dim1: int, dim2: int]) -> Tensor", "Swaps two dims (default: the last two). A view.") { a in
            let t = try a.tensor(1)
            if a.isNoneOrNil(2) {
                guard t.rank >= 2 else { a.push(t); return 1 }
                a.push(try t.transpose(-2, -1)); return 1
            }
            a.push(try t.transpose(a.dim(2, rank: t.rank), a.dim(3, rank: t.rank))); return 1
        },
        LuaBinding("permute", "t:permute(dims...: int | {int}) -> Tensor", "Reorders dims (1-based): t:permute(2, 1, 3). A view.") { a in
            let t = try a.tensor(1)
            let order = try sizes(a, from: 2).map { try LuaArgs.dim($0, rank: t.rank, arg: 2) }
            a.push(try t.permute(order)); return 1
        },
        LuaBinding("narrow", "t:narrow(dim: int, start: int, length: int) -> Tensor", "Elements start..start+length-1 (1-based) along dim. A view.") { a in
            let t = try a.tensor(1)
            let d = try a.dim(2, rank: t.rank), start = try a.integer(3), length = try a.integer(4)
            guard start >= 1 else { throw LuaError.argument(3, "start must be >= 1, got \(start)") }
            a.push(try t.narrow(d, start - 1, length)); return 1
        },
        LuaBinding("select", "t:select(dim: int, index: int) -> Tensor", "The slice at index (1-based) along dim, with that dim removed. t[i] is t:select(1, i).") { a in
            let t = try a.tensor(1)
            let d = try a.dim(2, rank: t.rank), i = try a.integer(3)
            guard t.rank > 0 else { throw LuaError.argument(1, "cannot index a 0-d tensor") }
            let n = t.shape[d]
            let idx = i < 0 ? n + i : i - 1
            guard idx >= 0 && idx < n else { throw LuaError.argument(3, "index \(i) is out of range 1..\(n) for dimension \(d + 1)") }
            a.push(try t.select(d, idx)); return 1
        },
        LuaBinding("unsqueeze", "t:unsqueeze(dim: int) -> Tensor", "Inserts a dim of size 1 at position dim. A view.") { a in
            let t = try a.tensor(1)
            a.push(try t.unsqueeze(a.dim(2, rank: t.rank, extra: 1))); return 1
        },
        LuaBinding("squeeze", "t:squeeze([dim: int]) -> Tensor", "Removes dim (if of size 1), or all size-1 dims. A view.") { a in
            let t = try a.tensor(1)
            a.push(try t.squeeze(a.optDim(2, rank: t.rank))); return 1
        },
        LuaBinding("expand", "t:expand(size...: int | {int}) -> Tensor", "Broadcasts size-1 dims to the given sizes (-1 keeps a dim) without copying.") { a in
            a.push(try a.tensor(1).expand(sizes(a, from: 2))); return 1
        },
        LuaBinding("flatten", "t:flatten([startDim: int], [endDim: int]) -> Tensor", "Merges dims startDim..endDim (default all) into one.") { a in
            let t = try a.tensor(1)
            a.push(try t.flatten(a.optDim(2, rank: t.rank) ?? 0, a.optDim(3, rank: t.rank) ?? -1)); return 1
        },
        LuaBinding("contiguous", "t:contiguous() -> Tensor", "A row-major copy, or t itself when already contiguous.") { a in
            a.push(try a.tensor(1).contiguous()); return 1
        },
        LuaBinding("clone", "t:clone() -> Tensor", "A copy with its own storage (gradients flow back to t).") { a in
            a.push(try a.tensor(1).clone()); return 1
        },
        LuaBinding("split", "t:split(size: int | {int}, [dim: int]) -> {Tensor}", "Pieces of size along dim (default 1), or of the listed sizes. Views.") { a in
            let t = try a.tensor(1)
            let d = try a.optDim(3, rank: t.rank) ?? 0
            if a.type(2) == LUA_TTABLE { a.push(try t.split(sizes: a.intList(2), dim: d)) } else { a.push(try t.split(a.integer(2), dim: d)) }
            return 1
        },
        LuaBinding("chunk", "t:chunk(n: int, [dim: int]) -> {Tensor}", "n pieces of (nearly) equal size along dim (default 1). Views.") { a in
            let t = try a.tensor(1)
            a.push(try t.chunk(a.integer(2), dim: a.optDim(3, rank: t.rank) ?? 0)); return 1
        }
    ]

    static let functions: [LuaBinding] = [
        LuaBinding("cat", "llm.cat(tensors: {Tensor}, [dim: int]) -> Tensor", "Concatenates along dim (default 1).") { a in
            let ts = try a.tensorList(1)
            a.push(try Tensor.cat(ts, dim: a.optDim(2, rank: ts[0].rank) ?? 0)); return 1
        },
        LuaBinding("stack", "llm.stack(tensors: {Tensor}, [dim: int]) -> Tensor", "Stacks same-shaped tensors along a new dim (default 1).") { a in
            let ts = try a.tensorList(1)
            a.push(try Tensor.stack(ts, dim: a.isNoneOrNil(2) ? 0 : a.dim(2, rank: ts[0].rank, extra: 1))); return 1
        }
    ]
}
