// DataFileBindings: llm.loadData(text, opts) — evaluates the text of a Lua data file (a plugin manifest,
// a rockspec, a LuaRocks tree manifest) in a fresh bare state with an instruction and memory budget
// (Bridge/DataFile.swift) and returns plain copies of what it returned and of the globals it set. It
// takes text, not a path: the caller reads the file (through io.open, which the sandbox checks).
import CLua
import CLuaShim

enum DataFileLib: LuaLibrary {
    static let namespace = "llm"

    static let functions: [LuaBinding] = [
        LuaBinding(
            "loadData",
            "llm.loadData(text: string, [{name: string, maxInstructions: integer, maxMemory: integer, maxSeconds: number}]) -> value, globals",
            "Evaluates a Lua data file's text in a bare bounded state (no libraries); returns its result and globals as plain tables."
        ) { a in
            var n = 0
            guard a.type(1) == LUA_TSTRING, let p = lua_tolstring(a.L, 1, &n) else {
                throw LuaError.type(1, expected: "string")
            }
            let text = Array(UnsafeRawBufferPointer(start: p, count: n))
            let o = try a.options(2, allowed: ["name", "maxInstructions", "maxMemory", "maxSeconds"])
            var limits = DataLimits()
            if let i = try o.integer("maxInstructions") {
                guard i > 0 else { throw LuaError.runtime("Invalid 'maxInstructions': expected a positive integer, got \(i)") }
                limits.maxInstructions = i
            }
            if let m = try o.integer("maxMemory") {
                guard m >= 4096 else { throw LuaError.runtime("Invalid 'maxMemory': expected at least 4096 bytes, got \(m)") }
                limits.maxMemory = m
            }
            if let s = try o.number("maxSeconds") {
                guard s > 0, s.isFinite else { throw LuaError.runtime("Invalid 'maxSeconds': expected a positive number, got \(s)") }
                limits.maxSeconds = s
            }
            let name = try o.string("name") ?? "data"
            let result: DataFile.Result
            do throws(DataFileError) { result = try DataFile.load(text: text, name: name, limits: limits) } catch {
                throw LuaError.runtime(error.message)
            }
            push(a.L, result.value)
            push(a.L, result.globals)
            return 2
        }
    ]

    /// Pushes `v` (nil for nil) as fresh Lua values; depth is bounded by the reader's maxDepth.
    static func push(_ L: OpaquePointer, _ v: LuaData?) {
        guard let v else { lua_pushnil(L); return }
        switch v {
        case .boolean(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let i): lua_pushinteger(L, lua_Integer(i))
        case .number(let d): lua_pushnumber(L, d)
        case .string(let bytes):
            bytes.withUnsafeBufferPointer { buf in
                buf.baseAddress.map { p in
                    p.withMemoryRebound(to: CChar.self, capacity: buf.count) { _ = lua_pushlstring(L, $0, buf.count) }
                } ?? { _ = lua_pushlstring(L, "", 0) }()
            }
        case .table(let entries):
            _ = lua_checkstack(L, 4)
            lua_createtable(L, 0, Int32(clamping: entries.count))
            for e in entries {
                push(L, e.key)
                push(L, e.value)
                lua_rawset(L, -3)
            }
        }
    }
}
