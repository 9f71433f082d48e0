// LuaClass: the one way to declare a Lua-visible class. A declaration names the type (its `__name`,
// which equals the constructor path users call: `llm.data.ShardWriter(...)` makes an
// `llm.data.ShardWriter`), its methods (the `__index` table) and metamethods. ``LuaClass/install(_:)``
// builds the metatable once per state and protects it:
//  - `__metatable` is the type name, so `getmetatable(obj)` returns a string, never the real table
//    (no Lua code can read or replace `__gc`, `__close` or `__index` of a bridged type);
//  - userdata classes get `__gc`, `__close` and `free`, each of which checks that its argument is a
//    userdata of this very type before touching it (a file handle passed to a tensor's `__gc` is
//    ignored, not dereferenced), in trusted and sandboxed states alike.
// Methods read their receiver through ``LuaArgs/object(_:_:)``, which checks the type the same way.
import CLua
import CLuaShim
import LLMCore

/// A class exposed to Lua: a named, protected metatable with methods and metamethods.
///
/// ```swift
/// static let classes = [LuaClass("llm.data.ShardWriter", methods: writerMethods)]
/// ```
public struct LuaClass: Sendable {
    /// How instances are represented.
    public enum Representation: Sendable {
        /// A full userdata holding one retained Swift object (gets `__gc`, `__close` and `free`).
        case userdata
        /// A plain Lua table built by the bindings (a description such as a pipeline or a reader).
        case table
    }

    /// Type name: the metatable's `__name`, shown in type errors and by `getmetatable`.
    public let name: String
    /// Functions of the `__index` table (`obj:method()`).
    public let methods: [LuaBinding]
    /// Metamethods (`__tostring`, `__call`, `__len`, ...).
    public let metamethods: [LuaBinding]
    /// Userdata or plain table.
    public let representation: Representation
    /// When set, the methods table is also published at this dotted path (`llm.Tensor`), for `help()`
    /// and for users extending the class from Lua.
    public let methodsPath: String?

    public init(
        _ name: String, methods: [LuaBinding] = [], metamethods: [LuaBinding] = [],
        representation: Representation = .userdata, methodsPath: String? = nil
    ) {
        self.name = name; self.methods = methods; self.metamethods = metamethods
        self.representation = representation; self.methodsPath = methodsPath
    }

    /// Creates the protected metatable of this class in the state (once) and records its identity
    /// for fast type checks. Leaves the stack as it was.
    func install(_ vm: LuaVM) {
        let L = vm.L
        let ctx = LuaContext.of(L)
        _ = luaL_newmetatable(L, name)  // sets __name
        let mt = lua_topointer(L, -1)!
        ctx.metatables[name] = mt
        if name == Tensor.luaTypeName { ctx.tensorMetatable = mt }

        lua_createtable(L, 0, Int32(methods.count + 1))  // __index
        for b in methods { pushBinding(L, b, key: "\(name).\(b.name)"); lua_setfield(L, -2, b.name) }
        if representation == .userdata {
            if !methods.contains(where: { $0.name == "free" }) {
                pushBinding(L, LuaClass.freeBinding(name), key: "\(name).free"); lua_setfield(L, -2, "free")
            }
            lua_pushstring(L, name); lua_pushcclosure(L, Userdata.gcHandler, 1); lua_setfield(L, -3, "__gc")
            lua_pushstring(L, name); lua_pushcclosure(L, Userdata.closeHandler, 1); lua_setfield(L, -3, "__close")
        }
        if let path = methodsPath {
            lua_pushvalue(L, -1)
            Registry.setPath(vm, path)
        }
        lua_setfield(L, -2, "__index")
        for b in metamethods { pushBinding(L, b, key: "\(name).\(b.name)"); lua_setfield(L, -2, b.name) }
        lua_pushstring(L, name); lua_setfield(L, -2, "__metatable")
        llms_pop(L, 1)
        Userdata.ensureIdentityTable(L)
    }

    /// `obj:free()`: releases the native object now; later uses (a second free included) raise
    /// "... was already freed".
    static func freeBinding(_ name: String) -> LuaBinding {
        LuaBinding("free", "obj:free()", "Releases the native object now (a tensor's memory once no view uses it); later uses are errors.") { a in
            let mt = LuaContext.of(a.L).metatables[name]
            guard try Userdata.object(a.L, 1, typeName: name, mt: mt) != nil else { throw LuaError.type(1, expected: name) }
            Userdata.free(a.L, 1)
            return 0
        }
    }
}
