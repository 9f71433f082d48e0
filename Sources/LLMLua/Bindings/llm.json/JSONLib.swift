// JSONLib: the `llm.json` namespace. encode/decode convert between Lua values and JSON text (rules in
// LuaJSON.swift); `llm.json.null` is the sentinel for JSON null and `llm.json.array(t)` marks a table
// (typically empty) to encode as an array. Errors name the path (encode) or line and column (decode).
import CLua
import CLuaShim
import LLMFormats

enum JSONLib: LuaLibrary {
    static let namespace = "llm.json"

    static let functions: [LuaBinding] = [
        LuaBinding(
            "encode", "llm.json.encode(value, [{indent: boolean = false, sortKeys: boolean = true}]) -> string",
            "JSON text of a Lua value; tables with keys 1..n are arrays, other tables objects."
        ) { a in
            let o = try a.options(2, allowed: ["indent", "sortKeys"])
            let indent = try o.bool("indent") ?? false
            let sortKeys = try o.bool("sortKeys") ?? true
            let (v, textBytes) = try LuaJSON.valueAndSize(a, 1, fn: "llm.json.encode")
            // the text exists three times at the end: the writer's bytes, the Swift String, the Lua string
            try a.reserve(lua: LuaSize.string(textBytes), native: LuaSize.total((textBytes, 2)))
            LuaJSON.pushString(a.L, try JSONWriter.string(v, indent: indent ? 2 : 0, sortKeys: sortKeys))
            return 1
        },
        LuaBinding(
            "decode", "llm.json.decode(text: string) -> value",
            "The Lua value of JSON text; null becomes llm.json.null, empty arrays are marked arrays."
        ) { a in
            guard a.type(1) == LUA_TSTRING else { throw LuaError.type(1, expected: "string") }
            var len = 0
            guard let p = lua_tolstring(a.L, 1, &len) else { throw LuaError.type(1, expected: "string") }
            let v: JSONValue
            do {
                v = try p.withMemoryRebound(to: UInt8.self, capacity: len) {
                    let text = UnsafeBufferPointer(start: $0, count: len)
                    let need = LuaJSON.decodeEstimate(text)  // checked before the parse tree and the tables exist
                    try a.reserve(lua: need.lua, native: need.native)
                    return try JSONParser.parse(text, maxDepth: LuaJSON.maxDepth)
                }
            } catch let e as FormatError { throw LuaError.runtime("llm.json.decode: \(e.message)") }
            try LuaJSON.push(a.L, v)
            return 1
        },
        LuaBinding(
            "array", "llm.json.array([t: table]) -> table",
            "Marks t (default: a new table) to encode as a JSON array even when empty; returns it."
        ) { a in
            if a.isNoneOrNil(1) { lua_createtable(a.L, 0, 0) } else { try a.table(1); lua_pushvalue(a.L, 1) }
            if lua_getmetatable(a.L, -1) != 0 {
                let marked = LuaJSON.isRegistryValue(a.L, -1, LuaJSON.arrayKey)
                llms_pop(a.L, 1)
                guard marked else { throw LuaError.argument(1, "table already has a metatable") }
                return 1
            }
            lua_getfield(a.L, llms_registryindex(), LuaJSON.arrayKey)
            lua_setmetatable(a.L, -2)
            return 1
        }
    ]

    static let readOnly = LuaBinding("__newindex", "llm.json.null.__newindex", "llm.json.null is read-only.") { _ in
        throw LuaError.runtime("llm.json.null is read-only")
    }
    static let nullToString = LuaBinding("__tostring", "llm.json.null.__tostring", "Prints as llm.json.null.") { a in
        a.push("llm.json.null"); return 1
    }

    /// Creates the null sentinel and the array mark (in the registry) and sets `llm.json.null`.
    static func open(_ vm: LuaVM) throws {
        let L = vm.L
        lua_createtable(L, 0, 0)  // array mark metatable
        lua_pushstring(L, "llm.json.array"); lua_setfield(L, -2, "__name")
        lua_setfield(L, llms_registryindex(), LuaJSON.arrayKey)

        lua_createtable(L, 0, 0)  // null sentinel
        lua_createtable(L, 0, 4)
        lua_pushstring(L, "llm.json.null"); lua_setfield(L, -2, "__name")
        pushBinding(L, nullToString, key: "llm.json.null.__tostring"); lua_setfield(L, -2, "__tostring")
        pushBinding(L, readOnly, key: "llm.json.null.__newindex"); lua_setfield(L, -2, "__newindex")
        lua_pushboolean(L, 0); lua_setfield(L, -2, "__metatable")
        lua_setmetatable(L, -2)
        lua_pushvalue(L, -1)
        lua_setfield(L, llms_registryindex(), LuaJSON.nullKey)
        Registry.pushNamespace(vm, "llm.json")
        lua_pushstring(L, "null")
        lua_pushvalue(L, -3)
        lua_rawset(L, -3)
        llms_pop(L, 2)
    }
}
