// Introspection: Lua access to the binding tables' documentation, for help() and the README API list.
// `llm._doc(f)` returns the signature and one-line doc of a bound Swift function, or nil for any other
// value. Read-only; never raises except for Lua's own argument errors.
import CLua
import CLuaShim

enum IntrospectionLib: LuaLibrary {
    static let namespace = "llm"

    static let functions: [LuaBinding] = [
        LuaBinding("_doc", "llm._doc(f: function) -> string?, string?",
                   "Signature and one-line doc of a native llmscript function; nil for other values.") { a in
            guard let b = binding(at: 1, in: a.L) else { a.pushNil(); return 1 }
            a.push(b.signature)
            a.push(b.doc)
            return 2
        },
    ]
}
