// Info bindings: shape/size/dim/numel/dtype/stride, conversion to Lua values (item, totable), dtype
// conversion, properties (t.grad, t.requiresGrad, t.isLeaf, t.gradFn), t[i] = v, free, tostring, #t.
import CLua
import CLuaShim
import LLMCore

enum TensorInfoBindings {
    static let methods: [LuaBinding] = [
        LuaBinding("shape", "t:shape() -> {int}", "The sizes of all dims as a table.") { a in
            a.push(ints: try a.tensor(1).shape); return 1
        },
        LuaBinding("size", "t:size([dim: int]) -> int | {int}", "The size of one dim (1-based, negative from the end), or all sizes.") { a in
            let t = try a.tensor(1)
            if a.isNoneOrNil(2) { a.push(ints: t.shape); return 1 }
            let d = try a.dim(2, rank: t.rank)
            a.push(t.rank == 0 ? 1 : t.shape[d]); return 1
        },
        LuaBinding("dim", "t:dim() -> int", "Number of dims.") { a in
            a.push(try a.tensor(1).rank); return 1
        },
        LuaBinding("numel", "t:numel() -> int", "Number of elements.") { a in
            a.push(try a.tensor(1).count); return 1
        },
        LuaBinding("dtype", "t:dtype() -> string", "Element type: 'float32', 'int64', ...") { a in
            a.push(try a.tensor(1).dtype.rawValue); return 1
        },
        LuaBinding("stride", "t:stride() -> {int}", "Element strides of each dim.") { a in
            a.push(ints: try a.tensor(1).strides); return 1
        },
        LuaBinding("isContiguous", "t:isContiguous() -> boolean", "True when elements are laid out row-major without gaps.") { a in
            a.push(try a.tensor(1).isContiguous); return 1
        },
        LuaBinding("item", "t:item() -> number", "The value of a one-element tensor.") { a in
            let t = try a.tensor(1)
            let v = try t.item()
            if t.dtype.isFloatingPoint { a.push(v) } else { lua_pushinteger(a.L, lua_Integer(t.loadInteger(at: t.offset))) }
            return 1
        },
        LuaBinding("totable", "t:totable() -> table | number", "Nested Lua tables of the values (a number for a 0-d tensor).") { a in
            let t = try a.tensor(1)
            guard t.count <= 1 << 26 else { throw LuaError.runtime("totable: tensor with \(t.count) elements is too large to convert") }
            // an empty tensor can still need many (empty) tables: shape [2^36, 0]
            let tables = t.shape.dropLast().reduce(1) { Swift.min($0 &* Swift.max($1, 1), 1 << 40) }
            guard tables <= 1 << 26 else { throw LuaError.runtime("totable: tensor of shape \(shapeString(t.shape)) needs too many tables to convert") }
            // before building: the offsets buffer (native) and the nested tables (a slot per value, a header per row)
            try a.reserve(
                lua: LuaSize.total((tables, LuaSize.table), (t.count, LuaSize.arraySlot), (tables, LuaSize.arraySlot)),
                native: LuaSize.total((t.count, 8)))
            let isFloat = t.dtype.isFloatingPoint
            var offsets: [Int] = []
            offsets.reserveCapacity(t.count)
            t.forEachOffset { offsets.append($0) }
            guard lua_checkstack(a.L, Int32(t.rank) + 4) != 0 else { throw LuaError.runtime("totable: stack overflow") }
            var i = 0
            func build(_ d: Int) {
                if d == t.rank {
                    if isFloat { lua_pushnumber(a.L, t.load(at: offsets[i])) } else { lua_pushinteger(a.L, lua_Integer(t.loadInteger(at: offsets[i]))) }
                    i += 1; return
                }
                lua_createtable(a.L, Int32(clamping: t.shape[d]), 0)
                for k in 0..<t.shape[d] { build(d + 1); lua_rawseti(a.L, -2, lua_Integer(k + 1)) }
            }
            build(0)
            return 1
        },
        LuaBinding("to", "t:to(dtype: string) -> Tensor", "A copy converted to dtype (self if it already has it).") { a in
            a.push(try a.tensor(1).toDType(DType.parse(a.string(2)))); return 1
        },
        LuaBinding("float", "t:float() -> Tensor", "Converted to float32.") { a in
            a.push(try a.tensor(1).toDType(.float32)); return 1
        },
        LuaBinding("long", "t:long() -> Tensor", "Converted to int64.") { a in
            a.push(try a.tensor(1).toDType(.int64)); return 1
        },
        LuaBinding("int", "t:int() -> Tensor", "Converted to int32.") { a in
            a.push(try a.tensor(1).toDType(.int32)); return 1
        },
        LuaBinding("_getProperty", "t.grad | t.requiresGrad | t.isLeaf | t.gradFn", "Tensor properties.") { a in
            let t = try a.tensor(1)
            guard a.type(2) == LUA_TSTRING else { a.pushNil(); return 1 }
            switch try a.string(2) {
            case "grad": if let g = t.grad { a.push(g) } else { a.pushNil() }
            case "requiresGrad": a.push(t.requiresGrad)
            case "isLeaf": a.push(t.isLeaf)
            case "gradFn": if let n = t.gradNode { a.push(n.op.kind.rawValue) } else { a.pushNil() }
            default: a.pushNil()
            }
            return 1
        },
        LuaBinding("_setProperty", "t.grad = Tensor | nil; t.requiresGrad = boolean", "Settable tensor properties.") { a in
            let t = try a.tensor(1)
            let key = a.type(2) == LUA_TSTRING ? try a.string(2) : "?"
            switch key {
            case "grad":
                if a.isNoneOrNil(3) { t.grad = nil; return 0 }
                guard let g = try Userdata.tensor(a.L, 3) else {
                    throw LuaError.runtime("Invalid 'grad': expected an llm.Tensor or nil, got \(a.typeName(3))")
                }
                guard g.shape == t.shape else {
                    throw LuaError.runtime("Invalid 'grad': expected a tensor of shape \(shapeString(t.shape)), got \(shapeString(g.shape))")
                }
                t.grad = try g.toDType(.float32)
            case "requiresGrad":
                guard a.type(3) == LUA_TBOOLEAN else {
                    throw LuaError.runtime("Invalid 'requiresGrad': expected a boolean, got \(a.typeName(3))")
                }
                try t.setRequiresGrad(a.bool(3))
            default:
                throw LuaError.runtime("cannot set field '\(key)' of an llm.Tensor (settable: 'grad', 'requiresGrad')")
            }
            return 0
        },
        LuaBinding("_setIndex", "t[i] = number | Tensor", "Writes into the slice t[i] (1-based along dim 1).") { a in
            let t = try a.tensor(1)
            guard t.rank > 0 else { throw LuaError.runtime("cannot index a 0-d tensor") }
            let i = try a.integer(2)
            guard i >= 1 && i <= t.shape[0] else {
                throw LuaError.runtime("index \(i) is out of range 1..\(t.shape[0]) for dimension 1")
            }
            let row = try t.select(0, i - 1)
            if a.type(3) == LUA_TNUMBER {
                try row.fillInPlace(a.number(3))
            } else {
                guard let src = try Userdata.tensor(a.L, 3) else {
                    throw LuaError.runtime("t[\(i)] = value: expected a number or an llm.Tensor, got \(a.typeName(3))")
                }
                try row.copyInPlace(src)
            }
            return 0
        }
    ]

    static let metamethods: [LuaBinding] = [
        LuaBinding("__tostring", "tostring(t) -> string", "Readable, bounded printing of a tensor.") { a in
            a.push(try a.tensor(1).description); return 1
        },
        LuaBinding("__len", "#t -> int", "Size of dim 1 (0 for a 0-d tensor).") { a in
            let t = try a.tensor(1); a.push(t.shape.first ?? 0); return 1
        }
    ]
}
