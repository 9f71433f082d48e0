// TuneLib: the native part of the `tune` namespace (the rest is stdlib-lua/llm/tune): an SQLite connection
// for study storage (`tune.sqlite`, SQLiteDatabase.swift) and child processes for parallel trials
// (`tune.spawn`, ChildProcess.swift), plus the executable path, the core count and a sleep for the
// scheduler's polling loop. Sandboxed states cannot open databases (a path the sandbox does not check) nor
// start processes.
import CLua
import CLuaShim

#if canImport(Glibc)
    import Glibc
#endif

enum TuneLib: LuaLibrary {
    static let namespace = "tune"

    static let classes = [
        LuaClass(SQLiteDatabase.luaTypeName, methods: databaseMethods, metamethods: databaseMetamethods),
        LuaClass(ChildProcess.luaTypeName, methods: processMethods)
    ]

    static let functions: [LuaBinding] = [
        LuaBinding(
            "sqlite", "tune.sqlite(path: string, [{busyTimeout: number = 5, readOnly: boolean = false}]) -> tune.Database",
            "Opens (creating it) an SQLite database in WAL mode; busyTimeout: seconds to wait for another process's lock. A locked or corrupt file is a clear error and is left unchanged."
        ) { a in
            let path = try a.string(1)
            guard !path.isEmpty, !path.utf8.contains(0) else { throw LuaError.argument(1, "expected a non-empty path") }
            let o = try a.options(2, allowed: ["busyTimeout", "readOnly"])
            let timeout = try o.number("busyTimeout") ?? 5
            guard timeout >= 0, timeout <= 3600 else { throw LuaError.runtime("Invalid 'busyTimeout': expected 0..3600 seconds, got \(timeout)") }
            let db = try SQLiteDatabase(path: path, busyTimeoutMs: Int32(timeout * 1000), readOnly: try o.bool("readOnly") ?? false)
            Userdata.push(a.L, db, typeName: SQLiteDatabase.luaTypeName)
            return 1
        },
        LuaBinding(
            "spawn", "tune.spawn(argv: {string}, [{timeout: number, memoryMB: integer, log: string, env: {string = string}}]) -> tune.Process",
            "Starts a child process (its own process group, stdin /dev/null, output appended to log) that is killed past timeout seconds and limited to memoryMB of address space."
        ) { a in
            if LuaContext.of(a.L).sandbox != nil { throw LuaError.runtime("sandbox: tune.spawn is disabled (no processes in sandboxed scripts)") }
            try a.table(1)
            var argv: [String] = []
            for i in stride(from: 1, through: Int(lua_rawlen(a.L, 1)), by: 1) {
                lua_rawgeti(a.L, 1, lua_Integer(i))
                defer { llms_pop(a.L, 1) }
                guard lua_type(a.L, -1) == LUA_TSTRING, let s = llms_tostring(a.L, -1) else {
                    throw LuaError.argument(1, "argv[\(i)] must be a string, got \(luaTypeName(a.L, -1))")
                }
                argv.append(String(cString: s))
            }
            guard !argv.isEmpty else { throw LuaError.argument(1, "expected a non-empty list of strings (the command and its arguments)") }
            let o = try a.options(2, allowed: ["timeout", "memoryMB", "log", "env"])
            let timeout = try o.number("timeout")
            if let t = timeout, !(t > 0) { throw LuaError.runtime("Invalid 'timeout': expected a positive number of seconds, got \(t)") }
            let memory = try o.integer("memoryMB")
            if let m = memory, m < 16 { throw LuaError.runtime("Invalid 'memoryMB': expected at least 16, got \(m)") }
            let env = try stringMap(a, 2, "env")
            let p = try ChildProcess(argv: argv, env: env, log: try o.string("log"), timeout: timeout, memoryMB: memory)
            Userdata.push(a.L, p, typeName: ChildProcess.luaTypeName)
            return 1
        },
        LuaBinding("executable", "tune.executable() -> string", "Absolute path of the running llmscript binary (what child trials run).") { a in
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlink("/proc/self/exe", &buf, buf.count - 1)
            a.push(n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0])
            return 1
        },
        LuaBinding("cores", "tune.cores() -> integer", "Online CPU cores, the default core budget of parallel trials.") { a in
            a.push(max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))); return 1
        },
        LuaBinding("pid", "tune.pid() -> integer", "This process's id (the owner of the trials it runs).") { a in
            a.push(Int(getpid())); return 1
        },
        LuaBinding("alive", "tune.alive(pid: integer) -> boolean", "True while a process with this id exists (a study's stale 'running' trials are those whose process is gone).") {
            a in
            let pid = try a.integer(1)
            guard let p = Int32(exactly: pid), p > 0 else { throw LuaError.argument(1, "expected a positive process id, got \(pid)") }
            a.push(Glibc.kill(p, 0) == 0 || errno == EPERM); return 1
        },
        LuaBinding("sleep", "tune.sleep(seconds: number)", "Sleeps (the scheduler's polling interval).") { a in
            let s = try a.number(1)
            guard s >= 0, s <= 3600 else { throw LuaError.argument(1, "expected 0..3600 seconds, got \(s)") }
            usleep(UInt32(s * 1e6)); return 0
        }
    ]

    static let databaseMethods: [LuaBinding] = [
        LuaBinding(
            "exec", "db:exec(sql: string, ...) -> {row}",
            "Runs one SQL statement with positional parameters (? = nil, boolean, number or string); returns its rows as tables keyed by column name (NULL columns absent)."
        ) { a in
            let db = try a.object(1, SQLiteDatabase.self)
            let sql = try a.string(2)
            var params: [SQLiteValue] = []
            if a.count >= 3 { for i in 3...a.count { params.append(try value(a, i)) } }
            let result = try db.execute(sql, params)
            let L = a.L
            lua_createtable(L, Int32(clamping: result.rows.count), 0)
            for (r, row) in result.rows.enumerated() {
                lua_createtable(L, 0, Int32(clamping: row.count))
                for (c, v) in row.enumerated() {
                    switch v {
                    case .null: continue
                    case .integer(let n): lua_pushinteger(L, lua_Integer(n))
                    case .real(let d): lua_pushnumber(L, d)
                    case .text(let s): lua_pushstring(L, s)
                    }
                    lua_setfield(L, -2, result.columns[c])
                }
                lua_rawseti(L, -2, lua_Integer(r + 1))
            }
            return 1
        },
        LuaBinding("changes", "db:changes() -> integer", "Rows changed by the last INSERT, UPDATE or DELETE.") { a in
            a.push(try a.object(1, SQLiteDatabase.self).changes); return 1
        },
        LuaBinding("lastInsertId", "db:lastInsertId() -> integer", "Row id of the last INSERT.") { a in
            a.push(Int(try a.object(1, SQLiteDatabase.self).lastInsertRowid)); return 1
        },
        LuaBinding("close", "db:close()", "Closes the connection (also done by free, <close> and garbage collection).") { a in
            try a.object(1, SQLiteDatabase.self).close(); return 0
        },
        LuaBinding("path", "db:path() -> string", "The database file.") { a in
            a.push(try a.object(1, SQLiteDatabase.self).path); return 1
        }
    ]

    static let databaseMetamethods: [LuaBinding] = [
        LuaBinding("__tostring", "tostring(db) -> string", "The file and whether the connection is open.") { a in
            let db = try a.object(1, SQLiteDatabase.self)
            a.push("tune.Database('\(db.path)'\(db.isOpen ? "" : ", closed"))"); return 1
        }
    ]

    static let processMethods: [LuaBinding] = [
        LuaBinding("pid", "p:pid() -> integer", "The child's process id.") { a in
            a.push(Int(try a.object(1, ChildProcess.self).pid)); return 1
        },
        LuaBinding(
            "poll", "p:poll() -> nil | {code: integer, signal: integer, timedOut: boolean}",
            "Nil while the child runs (killing it once past its timeout), then how it ended: code (exit status) or signal, and timedOut."
        ) { a in
            if let e = try a.object(1, ChildProcess.self).poll() { pushExit(a, e) } else { a.pushNil() }
            return 1
        },
        LuaBinding("wait", "p:wait() -> {code: integer, signal: integer, timedOut: boolean}", "Blocks until the child ends (its timeout still applies); how it ended.") { a in
            pushExit(a, try a.object(1, ChildProcess.self).wait()); return 1
        },
        LuaBinding("kill", "p:kill()", "Ends the child and its process group now (SIGKILL).") { a in
            try a.object(1, ChildProcess.self).kill(); return 0
        },
        LuaBinding("elapsed", "p:elapsed() -> number", "Seconds since the child started.") { a in
            a.push(try a.object(1, ChildProcess.self).elapsed); return 1
        }
    ]

    // MARK: - helpers

    static func pushExit(_ a: LuaArgs, _ e: ChildExit) {
        lua_createtable(a.L, 0, 3)
        if let c = e.code { a.push(Int(c)); lua_setfield(a.L, -2, "code") }
        if let s = e.signal { a.push(Int(s)); lua_setfield(a.L, -2, "signal") }
        a.push(e.timedOut); lua_setfield(a.L, -2, "timedOut")
    }

    /// A statement parameter from the Lua value at `i`.
    static func value(_ a: LuaArgs, _ i: Int32) throws -> SQLiteValue {
        switch a.type(i) {
        case LUA_TNIL, LUA_TNONE: return .null
        case LUA_TBOOLEAN: return .integer(lua_toboolean(a.L, i) != 0 ? 1 : 0)
        case LUA_TNUMBER:
            return lua_isinteger(a.L, i) != 0 ? .integer(Int64(lua_tointegerx(a.L, i, nil))) : .real(lua_tonumberx(a.L, i, nil))
        case LUA_TSTRING: return .text(try a.string(i))
        default: throw LuaError.argument(i, "a parameter must be nil, a boolean, a number or a string, got \(a.typeName(i))")
        }
    }

    /// The `{string = string}` option `key` of the options table at `i` (empty when absent).
    static func stringMap(_ a: LuaArgs, _ i: Int32, _ key: String) throws -> [String: String] {
        guard a.type(i) == LUA_TTABLE else { return [:] }
        let L = a.L
        var out: [String: String] = [:]
        if lua_getfield(L, i, key) == LUA_TNIL { llms_pop(L, 1); return out }
        defer { llms_pop(L, 1) }
        guard lua_type(L, -1) == LUA_TTABLE else { throw LuaError.runtime("Invalid '\(key)': expected a table of strings, got \(luaTypeName(L, -1))") }
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            defer { llms_pop(L, 1) }
            guard lua_type(L, -2) == LUA_TSTRING, lua_type(L, -1) == LUA_TSTRING, let k = llms_tostring(L, -2), let v = llms_tostring(L, -1) else {
                throw LuaError.runtime("Invalid '\(key)': expected string names and string values")
            }
            out[String(cString: k)] = String(cString: v)
        }
        return out
    }

    static func luaTypeName(_ L: OpaquePointer, _ i: Int32) -> String { String(cString: lua_typename(L, lua_type(L, i))) }
}
