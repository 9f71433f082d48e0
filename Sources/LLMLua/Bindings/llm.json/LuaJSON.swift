// LuaJSON: converts between Lua values and JSONValue using only non-raising Lua API calls (lua_type,
// lua_to*x, lua_rawget*, lua_next, lua_push*). A table whose keys are exactly 1..n is an array; an empty
// table is an object unless marked with llm.json.array; llm.json.null stands for JSON null. Cycles,
// NaN/Inf, non-UTF-8 strings and nesting beyond `maxDepth` are errors naming the path ($.a[2].b).
import CLua
import CLuaShim
import LLMFormats

enum LuaJSON {
    static let maxDepth = 200
    /// Registry keys of the null sentinel and of the metatable that marks (empty) arrays.
    static let nullKey = "llmscript.json.null"
    static let arrayKey = "llmscript.json.array"

    /// True when the value at `idx` is the registry value stored under `key` (raw identity).
    static func isRegistryValue(_ L: OpaquePointer, _ idx: Int32, _ key: String) -> Bool {
        let idx = lua_absindex(L, idx)  // before the push below shifts relative indices
        lua_getfield(L, llms_registryindex(), key)
        defer { llms_pop(L, 1) }
        return lua_rawequal(L, idx, -1) != 0
    }

    static func hasArrayMark(_ L: OpaquePointer, _ idx: Int32) -> Bool {
        guard lua_getmetatable(L, idx) != 0 else { return false }
        defer { llms_pop(L, 1) }
        return isRegistryValue(L, -1, arrayKey)
    }

    // MARK: Lua -> JSON

    /// What a conversion to JSON has built so far: the Swift tree is held against the state's memory
    /// budget in steps of `step` values (`LuaArgs.reserve`), and `textBytes` estimates the JSON text.
    struct Walk {
        var visiting = Set<UnsafeRawPointer>()
        let args: LuaArgs?
        var values = 0
        var textBytes = 0
        static let step = 4096
        /// Per value of the Swift tree: the indirect JSONValue box, its slot, a member's key.
        static let nodeBytes = 112

        mutating func count(_ text: Int) throws {
            values += 1
            textBytes = textBytes &+ text
            if values % Walk.step == 0, let args { try args.reserve(native: Walk.step * Walk.nodeBytes) }
        }
    }

    /// The JSON value of the Lua value at `idx`. `fn` prefixes messages (`llm.json.encode`). With `args`,
    /// the Swift tree counts against the calling state's memory budget as it grows.
    static func value(_ L: OpaquePointer, _ idx: Int32, fn: String, args: LuaArgs? = nil) throws -> JSONValue {
        var walk = Walk(args: args)
        return try value(L, lua_absindex(L, idx), path: "$", depth: 0, walk: &walk, fn: fn)
    }

    /// Like ``value(_:_:fn:args:)``, also returning an estimate of the JSON text's size in bytes.
    static func valueAndSize(_ a: LuaArgs, _ idx: Int32, fn: String) throws -> (JSONValue, Int) {
        var walk = Walk(args: a)
        let v = try value(a.L, lua_absindex(a.L, idx), path: "$", depth: 0, walk: &walk, fn: fn)
        return (v, walk.textBytes)
    }

    private static func value(
        _ L: OpaquePointer, _ idx: Int32, path: String, depth: Int,
        walk: inout Walk, fn: String
    ) throws -> JSONValue {
        func fail(_ m: String) -> LuaError { LuaError.runtime("\(fn): \(m) at \(path)") }
        var len = 0
        if lua_type(L, idx) == LUA_TSTRING { _ = lua_tolstring(L, idx, &len) }
        try walk.count(len &+ 2 * depth &+ 26)  // text: the string (or a number), separators and indent
        switch lua_type(L, idx) {
        case LUA_TNIL, LUA_TNONE: return .null
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, idx) != 0)
        case LUA_TNUMBER:
            if llms_isinteger(L, idx) != 0 { return .int(Int64(lua_tointegerx(L, idx, nil))) }
            let d = lua_tonumberx(L, idx, nil)
            guard d.isFinite else {
                throw LuaError.runtime("\(fn): cannot encode \(d.isNaN ? "NaN" : d > 0 ? "inf" : "-inf") at \(path) (JSON has no NaN or infinity)")
            }
            return .double(d)
        case LUA_TSTRING:
            guard let s = string(L, idx) else { throw fail("string is not valid UTF-8") }
            return .string(s)
        case LUA_TTABLE:
            if isRegistryValue(L, idx, nullKey) { return .null }
            guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth) levels") }
            guard lua_checkstack(L, 6) != 0 else { throw fail("Lua stack exhausted") }
            guard let p = lua_topointer(L, idx) else { throw fail("unreadable table") }
            guard walk.visiting.insert(p).inserted else { throw fail("table contains a cycle") }
            defer { walk.visiting.remove(p) }
            return try table(L, idx, path: path, depth: depth, walk: &walk, fn: fn)
        default:
            let t = String(cString: lua_typename(L, lua_type(L, idx)))
            let name = lua_type(L, idx) == LUA_TUSERDATA ? userdataName(L, idx) ?? t : t
            throw fail("cannot encode a value of type \(name)")
        }
    }

    private static func userdataName(_ L: OpaquePointer, _ idx: Int32) -> String? {
        guard lua_getmetatable(L, idx) != 0 else { return nil }
        defer { llms_pop(L, 2) }
        lua_pushstring(L, "__name")
        guard lua_rawget(L, -2) == LUA_TSTRING, let s = llms_tostring(L, -1) else { return nil }
        return String(cString: s)
    }

    /// A Lua string as Swift String, nil when it is not valid UTF-8 (embedded zeros are kept).
    static func string(_ L: OpaquePointer, _ idx: Int32) -> String? {
        var len = 0
        guard let p = lua_tolstring(L, idx, &len) else { return nil }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(validating: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
    }

    private static func table(
        _ L: OpaquePointer, _ idx: Int32, path: String, depth: Int,
        walk: inout Walk, fn: String
    ) throws -> JSONValue {
        var count = 0, maxInt: lua_Integer = 0, stringKeys = 0
        var badKey: String? = nil
        lua_pushnil(L)
        while lua_next(L, idx) != 0 {
            llms_pop(L, 1)
            count += 1
            if lua_type(L, -1) == LUA_TSTRING { stringKeys += 1; continue }
            if lua_type(L, -1) == LUA_TNUMBER, llms_isinteger(L, -1) != 0, lua_tointegerx(L, -1, nil) >= 1 {
                maxInt = max(maxInt, lua_tointegerx(L, -1, nil)); continue
            }
            if badKey == nil {
                let t = lua_type(L, -1)
                badKey = t == LUA_TNUMBER ? "number key \(lua_tonumberx(L, -1, nil))" : "key of type \(String(cString: lua_typename(L, t)))"
            }
        }
        if let badKey { throw LuaError.runtime("\(fn): table has a \(badKey) at \(path) (object keys must be strings, array keys 1..n)") }
        let intKeys = count - stringKeys
        if stringKeys == 0 && (intKeys > 0 || hasArrayMark(L, idx)) {
            guard maxInt == lua_Integer(intKeys) else {
                throw LuaError.runtime("\(fn): table at \(path) is not a sequence (integer keys must be exactly 1..n, found \(intKeys) keys up to \(maxInt))")
            }
            var items: [JSONValue] = []
            items.reserveCapacity(intKeys)
            for k in 0..<intKeys {
                lua_rawgeti(L, idx, lua_Integer(k + 1))
                defer { llms_pop(L, 1) }
                items.append(try value(L, lua_gettop(L), path: "\(path)[\(k + 1)]", depth: depth + 1, walk: &walk, fn: fn))
            }
            return .array(items)
        }
        guard intKeys == 0 else {
            throw LuaError.runtime("\(fn): table at \(path) mixes integer and string keys (it is neither an array nor an object)")
        }
        var members: [JSONMember] = []
        lua_pushnil(L)
        while lua_next(L, idx) != 0 {
            // On error the stack is left as is: the trampoline raises right after.
            guard let key = string(L, -2) else { throw LuaError.runtime("\(fn): key at \(path) is not valid UTF-8") }
            try walk.count(key.utf8.count &+ 4)
            let v = try value(L, lua_gettop(L), path: path + "." + key, depth: depth + 1, walk: &walk, fn: fn)
            llms_pop(L, 1)
            members.append(JSONMember(key, v))
        }
        return .object(members)
    }

    // MARK: JSON -> Lua

    /// Upper-bound byte estimates of decoding `text`: the Lua values it becomes and the parsed Swift tree
    /// (an indirect JSONValue per value, array/member slots, String storage), from one pass that counts
    /// values (separators + containers + 1), object members (colons) and string bytes outside escapes.
    static func decodeEstimate(_ text: UnsafeBufferPointer<UInt8>) -> (lua: Int, native: Int) {
        var values = 1, members = 0, containers = 0, strings = 0, stringBytes = 0
        var inString = false, escaped = false
        for c in text {
            if inString {
                if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false } else { stringBytes += 1 }
                continue
            }
            switch c {
            case 0x22: inString = true; strings += 1
            case 0x2C: values += 1  // ,
            case 0x3A: members += 1  // :
            case 0x5B, 0x7B: containers += 1; values += 1  // [ {
            default: break
            }
        }
        let lua = LuaSize.total(
            (containers, LuaSize.table), (values, LuaSize.arraySlot), (members, LuaSize.hashEntry),
            (strings, LuaSize.string(0)), (stringBytes, 1))
        let native = LuaSize.total((values, 64), (members, 48), (containers, 64), (strings, 48), (stringBytes, 1))
        return (lua, native)
    }

    /// Pushes the Lua value of `v` (null -> llm.json.null; empty arrays carry the array mark). Every
    /// 4096 values it checks that the memory limit still holds (`LuaArgs.checkMemory`).
    static func push(_ L: OpaquePointer, _ v: JSONValue, fn: String = "llm.json.decode") throws {
        var pushed = 0
        try push(LuaArgs(L, fn), v, &pushed)
    }

    private static func push(_ a: LuaArgs, _ v: JSONValue, _ pushed: inout Int) throws {
        let L = a.L
        guard lua_checkstack(L, 4) != 0 else { throw LuaError.runtime("llm.json.decode: Lua stack exhausted") }
        pushed += 1
        if pushed & 4095 == 0 { try a.checkMemory() }
        switch v {
        case .null: lua_getfield(L, llms_registryindex(), nullKey)
        case .bool(let b): lua_pushboolean(L, b ? 1 : 0)
        case .int(let i): lua_pushinteger(L, lua_Integer(i))
        case .double(let d): lua_pushnumber(L, d)
        case .string(let s): pushString(L, s)
        case .array(let items):
            lua_createtable(L, Int32(clamping: items.count), 0)
            for (k, item) in items.enumerated() { try push(a, item, &pushed); lua_rawseti(L, -2, lua_Integer(k + 1)) }
            if items.isEmpty { lua_getfield(L, llms_registryindex(), arrayKey); lua_setmetatable(L, -2) }
        case .object(let members):
            lua_createtable(L, 0, Int32(clamping: members.count))
            for m in members { pushString(L, m.key); try push(a, m.value, &pushed); lua_rawset(L, -3) }
        }
    }

    /// Pushes `s` with its exact bytes (embedded zeros kept).
    static func pushString(_ L: OpaquePointer, _ s: String) {
        var s = s
        s.withUTF8 { b in _ = b.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) } }
    }
}
