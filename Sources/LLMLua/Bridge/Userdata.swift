// Userdata: Swift objects as Lua full userdata. Each userdata holds one retained reference; __gc,
// __close and :free() release it (storing nil first, so a freed handle errors instead of crashing).
// A weak-valued identity table maps each object to one userdata, so `p.grad == p.grad` holds.
import CLua
import CLuaShim
import LLMCore

/// A Swift class exposed to Lua as userdata with a named metatable (`__name` drives type errors).
public protocol LuaBridged: AnyObject {
    static var luaTypeName: String { get }
}

extension Tensor: LuaBridged {
    public static var luaTypeName: String { "llm.Tensor" }
}

enum Userdata {
    /// Registry key of the weak-valued identity table.
    static let identityKey = "llmscript.identity"

    /// Creates the weak-valued identity table once per state.
    static func ensureIdentityTable(_ L: OpaquePointer) {
        if llms_getmetatable_named(L, identityKey) == LUA_TNIL {
            llms_pop(L, 1)
            lua_createtable(L, 0, 0)
            lua_createtable(L, 0, 1)
            lua_pushstring(L, "v"); lua_setfield(L, -2, "__mode")
            lua_setmetatable(L, -2)
            lua_setfield(L, llms_registryindex(), identityKey)
        } else {
            llms_pop(L, 1)
        }
    }

    /// True when the value at `i` is a full userdata whose metatable is the one registered as `typeName`.
    static func isInstance(_ L: OpaquePointer, _ i: Int32, typeName: String) -> Bool {
        luaL_testudata(L, i, typeName) != nil
    }

    /// Pushes `obj`, reusing its existing userdata when it has one.
    static func push(_ L: OpaquePointer, _ obj: AnyObject, typeName: String) {
        let key = Unmanaged.passUnretained(obj).toOpaque()
        lua_getfield(L, llms_registryindex(), identityKey)
        lua_pushlightuserdata(L, key)
        if lua_rawget(L, -2) == LUA_TUSERDATA {
            llms_remove(L, -2)  // leave the userdata
            return
        }
        llms_pop(L, 1)
        let slot = llms_newuserdata(L, MemoryLayout<UnsafeMutableRawPointer?>.size)!
        slot.storeBytes(of: Unmanaged.passRetained(obj).toOpaque(), as: UnsafeMutableRawPointer?.self)
        _ = llms_getmetatable_named(L, typeName)
        lua_setmetatable(L, -2)
        lua_pushlightuserdata(L, key)
        lua_pushvalue(L, -2)
        lua_rawset(L, -4)  // identity[key] = userdata
        llms_remove(L, -2)  // drop the identity table
    }

    static func push(_ L: OpaquePointer, _ t: Tensor) { push(L, t, typeName: Tensor.luaTypeName) }

    /// The object of type `typeName` at `i`; nil when the value is something else.
    /// - Throws: when the handle was already freed.
    static func object(_ L: OpaquePointer, _ i: Int32, typeName: String, mt: UnsafeRawPointer?) throws -> AnyObject? {
        guard let mt, let slot = llms_testudata_fast(L, i, mt) else { return nil }
        guard let p = slot.load(as: UnsafeMutableRawPointer?.self) else {
            throw LuaError.argument(i, "\(typeName) was already freed")
        }
        return Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue()
    }

    static func tensor(_ L: OpaquePointer, _ i: Int32) throws -> Tensor? {
        let ctx = LuaContext.of(L)
        return try object(L, i, typeName: Tensor.luaTypeName, mt: ctx.tensorMetatable) as? Tensor
    }

    /// Releases the object behind the userdata at `i` now (`t:free()`); later uses raise an error.
    /// The caller has checked the type (``isInstance(_:_:typeName:)``).
    static func free(_ L: OpaquePointer, _ i: Int32) {
        guard let slot = lua_touserdata(L, i), let p = slot.load(as: UnsafeMutableRawPointer?.self) else { return }
        slot.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
        lua_getfield(L, llms_registryindex(), identityKey)
        lua_pushlightuserdata(L, p)
        lua_pushnil(L)
        lua_rawset(L, -3)
        llms_pop(L, 1)
        Unmanaged<AnyObject>.fromOpaque(p).release()
    }

    /// __close: release now and forget the identity entry. Upvalue 1 is the class's type name; a value
    /// of any other type (reachable only through debug.getmetatable) is left alone, never dereferenced.
    static let closeHandler: @convention(c) (OpaquePointer?) -> Int32 = { L in
        guard let L, let name = llms_tostring(L, llms_upvalueindex(1)), luaL_testudata(L, 1, name) != nil else { return 0 }
        free(L, 1)
        return 0
    }

    /// __gc: release once (nil stored first), after the same type check as __close. Cannot raise.
    static let gcHandler: @convention(c) (OpaquePointer?) -> Int32 = { L in
        guard let L, let name = llms_tostring(L, llms_upvalueindex(1)), let slot = luaL_testudata(L, 1, name),
            let p = slot.load(as: UnsafeMutableRawPointer?.self)
        else { return 0 }
        slot.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
        Unmanaged<AnyObject>.fromOpaque(p).release()
        return 0
    }
}
