// TensorLib: the binding table of llm.Tensor and the tensor functions of the `llm` namespace.
// Check -> call -> push, nothing else: the math lives in LLMCore.
import CLua
import CLuaShim
import LLMCore

enum TensorLib: LuaLibrary {
    static let namespace = "llm"

    static let functions: [LuaBinding] = [
        LuaBinding("zeros", "llm.zeros(size...: int | {int}, [{dtype=string, requiresGrad=bool}]) -> Tensor",
                   "A tensor filled with zeros.") { a in
            let (shape, next) = try a.shape(from: 1)
            let o = try a.options(next, allowed: ["dtype", "requiresGrad"])
            let t = try Tensor(shape: shape, dtype: o.dtype() ?? .float32)
            a.push(t); return 1
        },
    ]

    static let methods: [LuaBinding] = [
        LuaBinding("_getProperty", "", "") { a in a.pushNil(); return 1 },
        LuaBinding("_setProperty", "", "") { a in a.pushNil(); return 0 },
        LuaBinding("_setIndex", "", "") { a in a.pushNil(); return 0 },
        LuaBinding("select", "", "") { a in a.pushNil(); return 1 },
        LuaBinding("numel", "t:numel() -> int", "Number of elements.") { a in a.push(try a.tensor(1).count); return 1 },
        LuaBinding("free", "t:free()", "Releases the tensor's memory now; later use is an error.") { a in
            _ = try a.tensor(1); Userdata.free(a.L, 1); return 0
        },
    ]

    static let metamethods: [LuaBinding] = [
        LuaBinding("__tostring", "tostring(t) -> string", "Readable, bounded printing.") { a in
            let t = try a.tensor(1); a.push("tensor(\(shapeString(t.shape)))"); return 1
        },
    ]
}
