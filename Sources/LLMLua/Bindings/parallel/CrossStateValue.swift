// CrossStateValue: how values cross between Lua states (parallel.pool's arguments and results, the
// pipeline's documents in worker states). A value is read out of one state into this Swift form, then
// pushed into the other: nil, booleans, numbers (integer or float kept), strings (bytes) and tables
// (raw contents, metatables dropped) are deep-copied; tensors cross by shared storage and arrive
// read-only (``LLMCore/Tensor/readOnlyShare()``). Functions, coroutines, userdata other than tensors,
// light userdata and cycles are refused with an error naming where the value sat (`argument 2.opts.cb`).
// Reading runs no metamethod; pushing checks the Lua stack. Byte estimates (LuaSize) let a binding
// check the receiving state's memory budget before building.
import CLua
import CLuaShim
import LLMCore

/// A Lua value detached from any state.
indirect enum CrossStateValue: @unchecked Sendable {
    case none
    case boolean(Bool)
    case integer(lua_Integer)
    case number(Double)
    case string([UInt8])
    case table([(key: CrossStateValue, value: CrossStateValue)])
    /// Shared storage: pushed as a read-only view.
    case tensor(Tensor)

    /// A string value from Swift text.
    static func text(_ s: String) -> CrossStateValue { .string(Array(s.utf8)) }

    /// Deepest table nesting copied (a deeper value is refused, as is a cycle).
    static let maxDepth = 200

    /// Reads the value at `index` of `L`. `what` names it in errors (`argument 1`, `result 2`).
    static func read(_ L: OpaquePointer, _ index: Int32, what: String) throws -> CrossStateValue {
        var path: Set<UnsafeRawPointer> = []
        do {
            return try read(L, lua_absindex(L, index), depth: 0, path: &path)
        } catch let r as Refusal {
            throw LuaError.runtime(
                "parallel: cannot copy \(r.reason) in \(what)\(r.fields.reversed().joined()) to another Lua state (nil, booleans, numbers, strings, tables without cycles and tensors cross)"
            )
        }
    }

    /// Reads `count` consecutive values starting at `first`, naming them `"\(what) \(i)"`.
    static func readAll(_ L: OpaquePointer, from first: Int32, count: Int32, what: String) throws -> [CrossStateValue] {
        guard count > 0 else { return [] }
        return try (0..<count).map { try read(L, first + $0, what: "\(what) \($0 + 1)") }
    }

    /// A value that cannot cross; `fields` collects the field names on the way out (innermost first), so
    /// nothing is formatted unless a copy fails.
    private struct Refusal: Error {
        let reason: String
        var fields: [String] = []
    }

    private static func read(_ L: OpaquePointer, _ i: Int32, depth: Int, path: inout Set<UnsafeRawPointer>) throws -> CrossStateValue {
        switch lua_type(L, i) {
        case LUA_TNIL, LUA_TNONE: return .none
        case LUA_TBOOLEAN: return .boolean(lua_toboolean(L, i) != 0)
        case LUA_TNUMBER:
            return llms_isinteger(L, i) != 0 ? .integer(lua_tointegerx(L, i, nil)) : .number(lua_tonumberx(L, i, nil))
        case LUA_TSTRING:
            var len = 0
            let p = lua_tolstring(L, i, &len)!
            return .string(Array(UnsafeRawBufferPointer(start: p, count: len)))
        case LUA_TTABLE:
            guard depth < maxDepth else { throw Refusal(reason: "tables nested deeper than \(maxDepth) levels") }
            let id = lua_topointer(L, i)!
            guard path.insert(id).inserted else { throw Refusal(reason: "a table that contains itself (a cycle)") }
            defer { path.remove(id) }
            guard lua_checkstack(L, 4) != 0 else { throw Refusal(reason: "a table nested too deep for the Lua stack") }
            var entries: [(key: CrossStateValue, value: CrossStateValue)] = []
            lua_pushnil(L)
            while lua_next(L, i) != 0 {
                let top = lua_gettop(L)
                do {
                    let key = try read(L, top - 1, depth: depth + 1, path: &path)
                    let value = try read(L, top, depth: depth + 1, path: &path)
                    entries.append((key, value))
                } catch var r as Refusal {
                    r.fields.append(field(L, top - 1))
                    lua_settop(L, top - 2)
                    throw r
                }
                llms_pop(L, 1)
            }
            return .table(entries)
        case LUA_TUSERDATA:
            let tensor: Tensor?
            do { tensor = try Userdata.tensor(L, i) } catch { throw Refusal(reason: "a tensor that was already freed") }
            if let tensor { return .tensor(tensor) }
            var name = "userdata"
            if luaL_getmetafield(L, i, "__name") == LUA_TSTRING { name = String(cString: lua_tolstring(L, -1, nil)); llms_pop(L, 1) }
            throw Refusal(reason: "a \(name) (only tensors among userdata)")
        default:
            throw Refusal(reason: "a \(String(cString: lua_typename(L, lua_type(L, i))))")
        }
    }

    /// `.name` for a string key that is an identifier, `[k]` otherwise (for error paths).
    private static func field(_ L: OpaquePointer, _ k: Int32) -> String {
        switch lua_type(L, k) {
        case LUA_TSTRING:
            let s = String(cString: lua_tolstring(L, k, nil))
            return s.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) && !s.isEmpty ? ".\(s)" : "[\"\(s.prefix(40))\"]"
        case LUA_TNUMBER:
            return llms_isinteger(L, k) != 0 ? "[\(lua_tointegerx(L, k, nil))]" : "[\(lua_tonumberx(L, k, nil))]"
        default: return "[\(String(cString: lua_typename(L, lua_type(L, k))))]"
        }
    }

    /// Pushes the value onto `L` (tensors as read-only views of the same storage).
    func push(_ L: OpaquePointer) throws {
        guard lua_checkstack(L, 3) != 0 else { throw LuaError.runtime("parallel: Lua stack overflow building a copied value") }
        switch self {
        case .none: lua_pushnil(L)
        case .boolean(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let n): lua_pushinteger(L, n)
        case .number(let x): lua_pushnumber(L, x)
        case .string(let bytes):
            bytes.withUnsafeBufferPointer { b in _ = lua_pushlstring(L, b.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, b.count) }
        case .tensor(let t): Userdata.push(L, t.readOnlyShare())
        case .table(let entries):
            var array = 0
            while array < entries.count, case .integer(let k) = entries[array].key, k == array + 1 { array += 1 }
            lua_createtable(L, Int32(clamping: array), Int32(clamping: entries.count - array))
            for (k, v) in entries {
                try k.push(L)
                try v.push(L)
                lua_rawset(L, -3)
            }
        }
    }

    /// Upper bound of the Lua heap bytes pushing this value takes (for a budget check before building).
    var luaBytes: Int {
        switch self {
        case .none, .boolean, .integer, .number: return 0
        case .string(let b): return LuaSize.string(b.count)
        case .tensor: return 64
        case .table(let entries):
            var sum = LuaSize.table
            for (k, v) in entries {
                let (s, o) = sum.addingReportingOverflow(LuaSize.hashEntry &+ k.luaBytes &+ v.luaBytes)
                if o { return Int.max }
                sum = s
            }
            return sum
        }
    }
}
