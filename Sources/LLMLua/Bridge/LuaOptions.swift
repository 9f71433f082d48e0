// LuaOptions: the one reader of options tables (`{lr = 1e-3, betas = {0.9, 0.95}}`) for every binding.
// Keys are checked once by ``LuaArgs/options(_:allowed:)`` (a typo is an error); getters read fields raw
// (no metamethod of a user's table runs inside a native call), check their type and report
// `Invalid 'key': expected ..., got ...` (DESIGN.md §2): numbers, integers, booleans, strings, dtypes,
// tensors, integer/string lists, pairs, functions and nested tables.
import CLua
import CLuaShim
import LLMCore

/// A validated options table. Getters check the type and report `Invalid 'key': expected ..., got ...`.
public struct LuaOptions {
    let L: OpaquePointer
    let index: Int32  // 0 when no table was given
    let arg: Int32

    /// Pushes the raw value of `key` (nil when absent; no metamethod runs) and returns its Lua type.
    func pushField(_ key: String) -> Int32 { field(key) }

    private func field(_ key: String) -> Int32 {
        guard index != 0 else { lua_pushnil(L); return LUA_TNIL }
        lua_pushstring(L, key)
        return lua_rawget(L, index)
    }
    private func got() -> String {
        let t = lua_type(L, -1)
        if t == LUA_TNUMBER || t == LUA_TSTRING, let s = llms_tostring(L, -1) {
            return t == LUA_TSTRING ? "'\(String(cString: s))'" : String(cString: s)
        }
        return String(cString: lua_typename(L, t))
    }

    public func has(_ key: String) -> Bool { defer { llms_pop(L, 1) }; return field(key) != LUA_TNIL }

    public func number(_ key: String) throws -> Double? {
        defer { llms_pop(L, 1) }
        let t = field(key)
        if t == LUA_TNIL { return nil }
        guard t == LUA_TNUMBER else { throw LuaError.runtime("Invalid '\(key)': expected a number, got \(got())") }
        return lua_tonumberx(L, -1, nil)
    }
    public func integer(_ key: String) throws -> Int? {
        defer { llms_pop(L, 1) }
        let t = field(key)
        if t == LUA_TNIL { return nil }
        var ok: Int32 = 0
        let v = lua_tointegerx(L, -1, &ok)
        guard t == LUA_TNUMBER, ok != 0 else { throw LuaError.runtime("Invalid '\(key)': expected an integer, got \(got())") }
        return Int(v)
    }
    public func bool(_ key: String) throws -> Bool? {
        defer { llms_pop(L, 1) }
        let t = field(key)
        if t == LUA_TNIL { return nil }
        guard t == LUA_TBOOLEAN else { throw LuaError.runtime("Invalid '\(key)': expected a boolean, got \(got())") }
        return lua_toboolean(L, -1) != 0
    }
    public func string(_ key: String) throws -> String? {
        defer { llms_pop(L, 1) }
        let t = field(key)
        if t == LUA_TNIL { return nil }
        guard t == LUA_TSTRING, let s = llms_tostring(L, -1) else { throw LuaError.runtime("Invalid '\(key)': expected a string, got \(got())") }
        return String(cString: s)
    }
    /// The `dtype` option parsed, with the list of choices on error.
    public func dtype(_ key: String = "dtype") throws -> DType? {
        guard let s = try string(key) else { return nil }
        return try DType.parse(s)
    }
    /// An `llm.Tensor` option (`keyMask`).
    public func tensor(_ key: String) throws -> Tensor? {
        defer { llms_pop(L, 1) }
        if field(key) == LUA_TNIL { return nil }
        guard let t = try Userdata.tensor(L, -1) else { throw LuaError.runtime("Invalid '\(key)': expected an llm.Tensor, got \(got())") }
        return t
    }
    /// A list of strings (`fallbackFields`, `kinds`).
    public func stringList(_ key: String) throws -> [String]? {
        try list(key, of: "strings") { i in
            guard lua_type(L, i) == LUA_TSTRING, let s = llms_tostring(L, i) else { return nil }
            return String(cString: s)
        }
    }
    /// A list of integers (`milestones`, `protect`).
    public func integerList(_ key: String) throws -> [Int]? {
        try list(key, of: "integers") { i in
            var ok: Int32 = 0
            let v = lua_tointegerx(L, i, &ok)
            return lua_type(L, i) == LUA_TNUMBER && ok != 0 ? Int(v) : nil
        }
    }
    /// A pair of numbers given as `{a, b}` (`betas`).
    public func pair(_ key: String) throws -> (Double, Double)? {
        guard let v = try list(key, of: "numbers", count: 2, { i in lua_type(L, i) == LUA_TNUMBER ? lua_tonumberx(L, i, nil) : nil }) else {
            return nil
        }
        return (v[0], v[1])
    }
    /// Runs `body` with the stack index of a function option (valid during the call); nil when absent.
    public func withFunction<R>(_ key: String, _ body: (Int32) throws -> R) throws -> R? {
        defer { llms_pop(L, 1) }
        if field(key) == LUA_TNIL { return nil }
        guard lua_type(L, -1) == LUA_TFUNCTION else { throw LuaError.runtime("Invalid '\(key)': expected a function, got \(got())") }
        return try body(lua_gettop(L))
    }
    /// Runs `body` with the stack index of a table option (read it with raw accesses); nil when absent.
    public func withTable<R>(_ key: String, _ body: (Int32) throws -> R) throws -> R? {
        defer { llms_pop(L, 1) }
        if field(key) == LUA_TNIL { return nil }
        guard lua_type(L, -1) == LUA_TTABLE else { throw LuaError.runtime("Invalid '\(key)': expected a table, got \(got())") }
        return try body(lua_gettop(L))
    }

    /// A Lua array (read raw, no metamethods) whose every element `element` converts; `count` when fixed.
    private func list<T>(_ key: String, of what: String, count: Int? = nil, _ element: (Int32) -> T?) throws -> [T]? {
        defer { llms_pop(L, 1) }
        if field(key) == LUA_TNIL { return nil }
        let expected = count.map { "a table of \($0) \(what)" } ?? "a list of \(what)"
        guard lua_type(L, -1) == LUA_TTABLE else { throw LuaError.runtime("Invalid '\(key)': expected \(expected), got \(got())") }
        let t = lua_gettop(L)
        let n = Int(lua_rawlen(L, t))
        if let count, n != count { throw LuaError.runtime("Invalid '\(key)': expected \(expected), got a table of \(n)") }
        guard n <= LuaOptions.maxListLength else { throw LuaError.runtime("Invalid '\(key)': more than \(LuaOptions.maxListLength) elements") }
        var out: [T] = []
        out.reserveCapacity(n)
        for k in 0..<n {
            lua_rawgeti(L, t, lua_Integer(k + 1))
            defer { llms_pop(L, 1) }
            guard let v = element(-1) else { throw LuaError.runtime("Invalid '\(key)': element \(k + 1) is \(got()), expected \(expected)") }
            out.append(v)
        }
        return out
    }
    /// Longest list an option may hold (bounds the allocation before reading).
    static let maxListLength = 1 << 24
}
