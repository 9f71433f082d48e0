// FormatsLib: llm.save / llm.load (safetensors) and the table conversions shared with CheckpointLib.
// A tensor table maps names to llm.Tensor; metadata maps strings to strings. llm.save always records
// `format = "pt"` unless the caller sets `format`, so transformers accepts the file. Files are written
// atomically; format errors from LLMFormats surface as Lua errors naming the file and the tensor.
// llm.load returns the tensors only (so it composes: `m:loadStateDict(llm.load(p))`); the metadata
// comes second on request, `llm.load(p, {metadata = true})`.
import CLua
import CLuaShim
import LLMCore
import LLMFormats

enum FormatsLib: LuaLibrary {
    static let namespace = "llm"

    static let functions: [LuaBinding] = [
        LuaBinding(
            "save", "llm.save(path: string, tensors: {name = Tensor}, [{metadata: {string = string}}])",
            "Writes tensors to a safetensors file atomically (metadata gets format = 'pt' by default)."
        ) { a in
            let path = try a.path(1, .write)
            let tensors = try tensorMap(a, 2, arg: 2, what: nil)
            let o = try a.options(3, allowed: ["metadata"])
            var metadata: [String: String] = [:]
            if o.has("metadata") {
                lua_pushstring(a.L, "metadata"); lua_rawget(a.L, lua_absindex(a.L, 3))
                defer { llms_pop(a.L, 1) }
                guard a.type(-1) == LUA_TTABLE else { throw LuaError.runtime("Invalid 'metadata': expected a table of strings, got \(a.typeName(-1))") }
                metadata = try stringMap(a, lua_gettop(a.L), what: "'metadata'")
            }
            if metadata["format"] == nil { metadata["format"] = "pt" }
            try Safetensors.write(tensors, metadata: metadata, to: path)
            return 0
        },
        LuaBinding(
            "load", "llm.load(path: string, [{metadata: boolean}]) -> {name = Tensor}, [{string = string}]",
            "Reads a safetensors file (validated as untrusted): its tensors; with {metadata = true} also its metadata."
        ) { a in
            let path = try a.path(1, .read)
            // one result by default, so `m:loadStateDict(llm.load(p))` passes no stray second argument
            let withMetadata = try a.options(2, allowed: ["metadata"]).bool("metadata") ?? false
            let file = try Safetensors.read(path: path)
            pushTensorMap(a, file.tensors)
            guard withMetadata else { return 1 }
            pushStringMap(a.L, file.metadata)
            return 2
        }
    ]

    /// Reads the table at `idx` as name -> tensor. `what` qualifies messages (`files['m.safetensors']`).
    /// On error the Lua stack is left as is (the trampoline raises right after).
    static func tensorMap(_ a: LuaArgs, _ idx: Int32, arg: Int32, what: String?) throws -> [String: Tensor] {
        let idx = lua_absindex(a.L, idx)
        let prefix = what.map { "\($0): " } ?? ""
        guard a.type(idx) == LUA_TTABLE else {
            throw LuaError.argument(arg, "\(prefix)expected a table of name = llm.Tensor, got \(a.typeName(idx))")
        }
        var out: [String: Tensor] = [:]
        lua_pushnil(a.L)
        while lua_next(a.L, idx) != 0 {
            defer { llms_pop(a.L, 1) }
            guard a.type(-2) == LUA_TSTRING, let name = LuaJSON.string(a.L, -2) else {
                throw LuaError.argument(arg, "\(prefix)tensor names must be UTF-8 strings, got a \(a.typeName(-2)) key")
            }
            guard let t = try Userdata.tensor(a.L, lua_gettop(a.L)) else {
                throw LuaError.argument(arg, "\(prefix)value of '\(name)' is a \(a.typeName(-1)), expected llm.Tensor")
            }
            out[name] = t
        }
        return out
    }

    /// Reads the table at `idx` as string -> string.
    static func stringMap(_ a: LuaArgs, _ idx: Int32, what: String) throws -> [String: String] {
        var out: [String: String] = [:]
        lua_pushnil(a.L)
        while lua_next(a.L, idx) != 0 {
            defer { llms_pop(a.L, 1) }
            guard a.type(-2) == LUA_TSTRING, a.type(-1) == LUA_TSTRING, let k = LuaJSON.string(a.L, -2), let v = LuaJSON.string(a.L, -1) else {
                throw LuaError.runtime("Invalid \(what): expected UTF-8 string keys and values, got a \(a.typeName(-2)) key with a \(a.typeName(-1)) value")
            }
            out[k] = v
        }
        return out
    }

    static func pushTensorMap(_ a: LuaArgs, _ tensors: [String: Tensor]) {
        lua_createtable(a.L, 0, Int32(clamping: tensors.count))
        for (name, t) in tensors { LuaJSON.pushString(a.L, name); a.push(t); lua_rawset(a.L, -3) }
    }

    static func pushStringMap(_ L: OpaquePointer, _ m: [String: String]) {
        lua_createtable(L, 0, Int32(clamping: m.count))
        for (k, v) in m { LuaJSON.pushString(L, k); LuaJSON.pushString(L, v); lua_rawset(L, -3) }
    }
}
