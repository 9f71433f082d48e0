// Introspection: Lua access to the binding tables' documentation, for help() and the README API list.
// `llm._doc(f)` returns the signature and one-line doc of a bound Swift function, or nil for any other
// value. `llm._methods(v)` returns the type name and methods table of a bridged value (its metatable is
// protected, so `getmetatable(v)` only gives the name), for help() and REPL completion. Read-only.
import CLua
import CLuaShim

enum IntrospectionLib: LuaLibrary {
    static let namespace = "llm"

    static let functions: [LuaBinding] = [
        LuaBinding(
            "_doc", "llm._doc(f: function) -> string?, string?",
            "Signature and one-line doc of a native llmscript function; nil for other values."
        ) { a in
            guard let b = binding(at: 1, in: a.L) else { a.pushNil(); return 1 }
            a.push(b.signature)
            a.push(b.doc)
            return 2
        },
        LuaBinding(
            "_methods", "llm._methods(v: any) -> string?, table?",
            "Type name and methods table of an llmscript object (tensor, tokenizer, ...); nil for other values."
        ) { a in
            guard lua_getmetatable(a.L, 1) != 0 else { a.pushNil(); return 1 }
            guard lua_getfield(a.L, -1, "__name") == LUA_TSTRING, let name = llms_tostring(a.L, -1).map({ String(cString: $0) }),
                LuaContext.of(a.L).metatables[name] == lua_topointer(a.L, -2)
            else { a.pushNil(); return 1 }
            _ = lua_getfield(a.L, -2, "__index")
            if name == "llm.Tensor" { llms_pop(a.L, 1); lua_getglobal(a.L, "llm"); _ = lua_getfield(a.L, -1, "Tensor"); llms_remove(a.L, -2) }
            if lua_type(a.L, -1) != LUA_TTABLE { llms_pop(a.L, 1); a.pushNil() }
            return 2
        }
    ]
}
