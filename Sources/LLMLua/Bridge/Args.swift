// LuaArgs: every conversion from Lua values to Swift values happens here, using only non-raising Lua
// API calls (lua_to*x, lua_type, rawget). 1-based Lua dims and indices become 0-based once, here.
// Indices passed around are Lua stack indices (self = 1 for methods); Lua renumbers them in messages.
import CLua
import CLuaShim
import LLMCore

/// Argument access for a bound function call.
public struct LuaArgs {
    public let L: OpaquePointer
    /// The bound function's Lua name (used in messages).
    public let name: String

    init(_ L: OpaquePointer, _ name: String) { self.L = L; self.name = name }

    /// Number of arguments passed.
    public var count: Int32 { lua_gettop(L) }
    /// Lua type of argument `i` (LUA_TNONE past the end).
    public func type(_ i: Int32) -> Int32 { lua_type(L, i) }
    public func isNoneOrNil(_ i: Int32) -> Bool { lua_type(L, i) <= LUA_TNIL }
    public func typeName(_ i: Int32) -> String {
        // like luaL_typeerror: use __name of userdata metatables
        if lua_type(L, i) == LUA_TUSERDATA, lua_getmetatable(L, i) != 0 {
            defer { llms_pop(L, 1) }
            lua_pushstring(L, "__name")
            if lua_rawget(L, -2) == LUA_TSTRING, let s = llms_tostring(L, -1) { llms_pop(L, 1); return String(cString: s) }
            llms_pop(L, 1)
        }
        return String(cString: lua_typename(L, lua_type(L, i)))
    }

    // MARK: numbers

    /// A number argument (integers accepted).
    public func number(_ i: Int32) throws -> Double {
        var ok: Int32 = 0
        let v = lua_tonumberx(L, i, &ok)
        guard ok != 0, lua_type(L, i) == LUA_TNUMBER else { throw LuaError.type(i, expected: "number") }
        return v
    }
    public func optNumber(_ i: Int32, _ def: Double) throws -> Double { isNoneOrNil(i) ? def : try number(i) }

    /// An integer argument: a number with an exact integer representation.
    public func integer(_ i: Int32) throws -> Int {
        guard lua_type(L, i) == LUA_TNUMBER else { throw LuaError.type(i, expected: "number") }
        var ok: Int32 = 0
        let v = lua_tointegerx(L, i, &ok)
        guard ok != 0 else { throw LuaError.argument(i, "number has no integer representation") }
        return Int(v)
    }
    public func optInteger(_ i: Int32, _ def: Int) throws -> Int { isNoneOrNil(i) ? def : try integer(i) }

    public func bool(_ i: Int32) throws -> Bool {
        guard lua_type(L, i) == LUA_TBOOLEAN else { throw LuaError.type(i, expected: "boolean") }
        return lua_toboolean(L, i) != 0
    }
    public func optBool(_ i: Int32, _ def: Bool) throws -> Bool { isNoneOrNil(i) ? def : try bool(i) }

    public func string(_ i: Int32) throws -> String {
        guard lua_type(L, i) == LUA_TSTRING, let s = llms_tostring(L, i) else { throw LuaError.type(i, expected: "string") }
        return String(cString: s)
    }
    public func optString(_ i: Int32) throws -> String? { isNoneOrNil(i) ? nil : try string(i) }

    /// Checks that argument `i` is a table.
    public func table(_ i: Int32) throws {
        guard lua_type(L, i) == LUA_TTABLE else { throw LuaError.type(i, expected: "table") }
    }
    /// Checks that argument `i` is a function.
    public func function(_ i: Int32) throws {
        guard lua_type(L, i) == LUA_TFUNCTION else { throw LuaError.type(i, expected: "function") }
    }

    // MARK: tensors

    /// A tensor argument (type error `llm.Tensor expected, got number` otherwise).
    public func tensor(_ i: Int32) throws -> Tensor {
        guard let t = try Userdata.tensor(L, i) else { throw LuaError.type(i, expected: Tensor.luaTypeName) }
        return t
    }
    public func optTensor(_ i: Int32) throws -> Tensor? { isNoneOrNil(i) ? nil : try tensor(i) }
    /// True when argument `i` is a tensor.
    public func isTensor(_ i: Int32) -> Bool { (try? Userdata.tensor(L, i)) != nil }

    /// A tensor, or a number turned into a 0-d float32 tensor (for `t + 1`, `where(c, x, 0)`).
    public func tensorOrNumber(_ i: Int32) throws -> Tensor {
        if lua_type(L, i) == LUA_TNUMBER { return try Tensor.scalar(Float(number(i))) }
        guard let t = try Userdata.tensor(L, i) else { throw LuaError.type(i, expected: "llm.Tensor or number") }
        return t
    }

    /// A bridged object of type `T` (`optim.Optimizer expected, got number` otherwise).
    public func object<T: LuaBridged>(_ i: Int32, _ type: T.Type) throws -> T {
        let mt = LuaContext.of(L).metatables[T.luaTypeName]
        guard let o = try Userdata.object(L, i, typeName: T.luaTypeName, mt: mt) as? T else {
            throw LuaError.type(i, expected: T.luaTypeName)
        }
        return o
    }

    /// A list of tensors given as a Lua array.
    public func tensorList(_ i: Int32) throws -> [Tensor] {
        try table(i)
        let n = lua_rawlen(L, i)
        guard n > 0 else { throw LuaError.argument(i, "expected a non-empty list of tensors") }
        var out: [Tensor] = []
        out.reserveCapacity(Int(n))
        for k in 1...n {
            lua_rawgeti(L, i, lua_Integer(k))
            defer { llms_pop(L, 1) }
            guard let t = try Userdata.tensor(L, -1) else {
                throw LuaError.argument(i, "element \(k) is a \(typeName(-1)), expected llm.Tensor")
            }
            out.append(t)
        }
        return out
    }

    // MARK: dims and shapes

    /// A Lua dim (1-based; negative counts from the end, -1 = last) as a 0-based dim of a rank-`rank` tensor.
    public func dim(_ i: Int32, rank: Int, extra: Int = 0) throws -> Int {
        let d = try integer(i)
        return try LuaArgs.dim(d, rank: rank + extra, arg: i)
    }
    public func optDim(_ i: Int32, rank: Int) throws -> Int? { isNoneOrNil(i) ? nil : try dim(i, rank: rank) }

    static func dim(_ d: Int, rank: Int, arg: Int32) throws -> Int {
        let r = max(rank, 1)
        if d >= 1 && d <= r { return d - 1 }
        if d < 0 && d >= -r { return r + d }
        throw LuaError.argument(arg, "dimension \(d) out of range for a \(rank)-D tensor (expected 1..\(r) or -\(r)..-1)")
    }

    /// A shape given either as integers from argument `i` on (`zeros(2, 3)`) or as one table (`zeros{2, 3}`).
    /// Stops at the first non-number (an options table, say). Returns the shape and the next argument index.
    public func shape(from i: Int32) throws -> (shape: [Int], next: Int32) {
        if lua_type(L, i) == LUA_TTABLE && !isOptionsTable(i) {
            return (try intList(i), i + 1)
        }
        var dims: [Int] = []
        var k = i
        while lua_type(L, k) == LUA_TNUMBER {
            let d = try integer(k)
            guard d >= 0 else { throw LuaError.argument(k, "size must be non-negative, got \(d)") }
            dims.append(d)
            k += 1
        }
        return (dims, k)
    }

    /// An array of integers (a shape or a list of dims).
    public func intList(_ i: Int32, allowNegative: Bool = false) throws -> [Int] {
        try table(i)
        let n = lua_rawlen(L, i)
        var out: [Int] = []
        guard n <= 64 else { throw LuaError.argument(i, "too many entries (\(n)); at most 64 dimensions") }
        if n > 0 {
            for k in 1...n {
                lua_rawgeti(L, i, lua_Integer(k))
                defer { llms_pop(L, 1) }
                var ok: Int32 = 0
                let v = lua_tointegerx(L, -1, &ok)
                guard ok != 0, lua_type(L, -1) == LUA_TNUMBER else {
                    throw LuaError.argument(i, "entry \(k) must be an integer, got \(typeName(-1))")
                }
                guard allowNegative || v >= 0 else { throw LuaError.argument(i, "entry \(k) must be non-negative, got \(v)") }
                out.append(Int(v))
            }
        }
        return out
    }

    /// An array of integers of any length (token ids), read with rawgeti; `what` names an entry in errors.
    public func integerArray(_ i: Int32, what: String = "an integer") throws -> [Int] {
        try table(i)
        let n = Int(lua_rawlen(L, i))
        guard n <= 1 << 28 else { throw LuaError.argument(i, "too many entries (\(n))") }
        var out: [Int] = []
        out.reserveCapacity(n)
        for k in 0..<n {
            lua_rawgeti(L, i, lua_Integer(k + 1))
            defer { llms_pop(L, 1) }
            var ok: Int32 = 0
            let v = lua_tointegerx(L, -1, &ok)
            guard ok != 0, lua_type(L, -1) == LUA_TNUMBER else {
                throw LuaError.argument(i, "entry \(k + 1) must be \(what), got \(typeName(-1))")
            }
            out.append(Int(v))
        }
        return out
    }

    /// Calls `body` with the Lua type of field `key` of the table at `i`, the value pushed on top
    /// (popped afterwards); nil when `i` is not a table or the field is nil.
    public func withField<R>(_ i: Int32, _ key: String, _ body: (Int32) throws -> R?) throws -> R? {
        let idx = lua_absindex(L, i)
        guard lua_type(L, idx) == LUA_TTABLE else { return nil }
        lua_pushstring(L, key)
        let t = lua_rawget(L, idx)
        defer { llms_pop(L, 1) }
        if t == LUA_TNIL { return nil }
        return try body(t)
    }

    /// True for a table with string keys (an options table) rather than an array.
    func isOptionsTable(_ i: Int32) -> Bool {
        guard lua_type(L, i) == LUA_TTABLE else { return false }
        if lua_rawlen(L, i) > 0 { return false }
        lua_pushnil(L)
        guard lua_next(L, i < 0 ? i - 1 : i) != 0 else { return false }  // empty table: treat as shape {}
        llms_pop(L, 2)
        return true
    }

    /// The options table at `i` (nil or absent gives empty options); unknown keys are errors.
    public func options(_ i: Int32, allowed: [String]) throws -> LuaOptions {
        if isNoneOrNil(i) { return LuaOptions(L: L, index: 0, arg: i) }
        guard lua_type(L, i) == LUA_TTABLE else { throw LuaError.type(i, expected: "options table") }
        let idx = lua_absindex(L, i)
        lua_pushnil(L)
        while lua_next(L, idx) != 0 {
            defer { llms_pop(L, 1) }
            guard lua_type(L, -2) == LUA_TSTRING, let k = llms_tostring(L, -2) else {
                llms_pop(L, 1)
                throw LuaError.argument(i, "option keys must be strings")
            }
            let key = String(cString: k)
            if !allowed.contains(key) {
                llms_pop(L, 1)
                let choices = allowed.map { "'\($0)'" }.joined(separator: ", ")
                throw LuaError.argument(i, "unknown option '\(key)'" + (allowed.isEmpty ? " (this function takes no options)" : "; expected one of: \(choices)"))
            }
        }
        return LuaOptions(L: L, index: idx, arg: i)
    }

    // MARK: results

    public func push(_ t: Tensor) { Userdata.push(L, t) }
    public func push(_ v: Double) { lua_pushnumber(L, v) }
    public func push(_ v: Int) { lua_pushinteger(L, lua_Integer(v)) }
    public func push(_ v: Bool) { lua_pushboolean(L, v ? 1 : 0) }
    public func push(_ s: String) { lua_pushstring(L, s) }
    public func pushNil() { lua_pushnil(L) }
    public func push(_ ts: [Tensor]) {
        lua_createtable(L, Int32(ts.count), 0)
        for (k, t) in ts.enumerated() { Userdata.push(L, t); lua_rawseti(L, -2, lua_Integer(k + 1)) }
    }
    public func push(ints: [Int]) {
        lua_createtable(L, Int32(ints.count), 0)
        for (k, v) in ints.enumerated() { lua_pushinteger(L, lua_Integer(v)); lua_rawseti(L, -2, lua_Integer(k + 1)) }
    }
}

extension LuaArgs {
    /// Calls the Lua function at stack index `fn` with the values pushed by `pushArgs` (which returns
    /// their count), under lua_pcall. Results stay on the stack (`nresults`, or all with LUA_MULTRET).
    /// A Lua error comes back as a thrown ``LuaError/script(_:)`` (raised again unchanged by the trampoline).
    public func call(_ fn: Int32, nresults: Int32, _ pushArgs: () -> Int32) throws {
        lua_pushvalue(L, fn)
        let n = pushArgs()
        let status = llms_callback_pcall(L, n, nresults)  // lua_pcall; a sandbox counts the callback's memory
        if status != LUA_OK {
            let msg = llms_tostring(L, -1).map { String(cString: $0) } ?? "(error object is a \(typeName(-1)) value)"
            llms_pop(L, 1)
            throw LuaError.script(msg)
        }
    }

    /// Reads argument `i` as either a single dim or a table of dims (1-based), as 0-based dims; nil when absent.
    public func dims(_ i: Int32, rank: Int) throws -> [Int]? {
        if isNoneOrNil(i) || lua_type(L, i) == LUA_TBOOLEAN { return nil }
        if lua_type(L, i) == LUA_TTABLE {
            if isOptionsTable(i) { return nil }
            return try intList(i, allowNegative: true).map { try LuaArgs.dim($0, rank: rank, arg: i) }
        }
        return [try dim(i, rank: rank)]
    }
}

extension LuaArgs {
    /// A path argument (a string; anything else is a type error), checked early against the state's
    /// sandbox (nothing to check in a trusted state): `sandbox: reading '/etc/passwd' is not allowed
    /// (outside the allowed folders: data)` otherwise. Every binding that opens, creates or deletes files
    /// takes its paths through here or ``checkPath(_:_:)``; the opens themselves go through LLMIO, which
    /// enforces the same policy (resolution beneath the allowed folders) for the duration of the call.
    public func path(_ i: Int32, _ access: PathAccess = .read) throws -> String {
        let p = try string(i)
        try checkPath(p, access)
        return p
    }

    /// ``path(_:_:)`` for an optional argument.
    public func optPath(_ i: Int32, _ access: PathAccess = .read) throws -> String? {
        isNoneOrNil(i) ? nil : try path(i, access)
    }

    /// Checks a path that did not come straight from an argument (a list entry, an option).
    public func checkPath(_ p: String, _ access: PathAccess) throws {
        try LuaContext.of(L).paths?.check(p, access)
    }
}
