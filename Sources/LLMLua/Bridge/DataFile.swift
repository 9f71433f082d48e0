// DataFile: reads a Lua *data* file (a plugin manifest `<name>.llmscript`, a rockspec, a LuaRocks tree
// `manifest`) without trusting it. The text is run in a fresh, bare Lua state of its own: no libraries
// at all (no string methods, no io/os/load/require, an empty global table), text chunks only, a count
// hook that stops it after `maxInstructions` or `maxSeconds` and a counting allocator that refuses growth past
// `maxMemory`. What the chunk returns and the globals it assigns come back as plain ``LuaData`` values
// (tables, strings, numbers, booleans; functions, cycles and over-deep nesting are refused), copied out
// before the state is closed. A looping, allocating or malformed file is a ``DataFileError`` naming the
// file, never a hang. One implementation for the CLI (Swift) and for Lua (`llm.loadData`, DataFileLib).
import CLua
import CLuaShim

#if canImport(Glibc)
    import Glibc
#endif

/// A plain value from a data file.
public indirect enum LuaData: Equatable, Sendable {
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    /// The bytes of a Lua string (not necessarily UTF-8).
    case string([UInt8])
    /// Key/value pairs in the order `next` gave them.
    case table([Entry])

    /// One key/value pair of a table.
    public struct Entry: Equatable, Sendable {
        public let key: LuaData
        public let value: LuaData
    }

    /// The value of the string key `key` of a table, nil when absent or not a table.
    public subscript(key: String) -> LuaData? {
        guard case .table(let entries) = self else { return nil }
        let k = LuaData.string(Array(key.utf8))
        return entries.first { $0.key == k }?.value
    }

    /// The text of a string value (nil for other types or invalid UTF-8).
    public var text: String? {
        guard case .string(let b) = self else { return nil }
        return String(validating: b, as: UTF8.self)
    }

    /// The entries of a table value (nil for other types).
    public var entries: [Entry]? {
        guard case .table(let e) = self else { return nil }
        return e
    }

    /// Lua's name of the value's type (`table`, `string`, ...).
    public var typeName: String {
        switch self {
        case .boolean: return "boolean"
        case .integer, .number: return "number"
        case .string: return "string"
        case .table: return "table"
        }
    }
}

/// A data file that could not be read: the message names the file and what went wrong.
public struct DataFileError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// Budgets of one data-file evaluation.
public struct DataLimits: Sendable, Equatable {
    /// VM instructions the chunk may run (a data file only builds tables: thousands, not millions).
    public var maxInstructions: Int
    /// Bytes the bare state may allocate (its Lua heap, all included).
    public var maxMemory: Int
    /// Wall-clock seconds the chunk may run (bounds instructions that do much work each).
    public var maxSeconds: Double
    /// Largest file `DataFile.load(path:)` reads.
    public var maxBytes: Int
    /// Deepest table nesting copied out.
    public var maxDepth: Int

    public init(
        maxInstructions: Int = 10_000_000, maxMemory: Int = 64 << 20, maxSeconds: Double = 2,
        maxBytes: Int = 16 << 20, maxDepth: Int = 100
    ) {
        self.maxInstructions = maxInstructions; self.maxMemory = maxMemory; self.maxSeconds = maxSeconds
        self.maxBytes = maxBytes; self.maxDepth = maxDepth
    }
}

/// Evaluates Lua data files in a bounded, bare state.
///
/// ```swift
/// let spec = try DataFile.load(path: "demo-0.1.0-1.rockspec")
/// spec.globals["build"]?["type"]?.text   // "builtin"
/// ```
public enum DataFile {
    /// The value a data chunk returns (nil when it returns nothing) and the table of globals it set.
    public struct Result: Sendable, Equatable {
        public let value: LuaData?
        public let globals: LuaData
    }

    /// Reads the file at `path` (at most `limits.maxBytes`) and evaluates it; errors name `path`.
    public static func load(path: String, limits: DataLimits = DataLimits()) throws(DataFileError) -> Result {
        try load(text: try read(path, limit: limits.maxBytes), name: path, limits: limits)
    }

    /// Evaluates `text` as a data chunk named `name` (used in messages).
    public static func load(text: [UInt8], name: String, limits: DataLimits = DataLimits()) throws(DataFileError) -> Result {
        func fail(_ m: String) -> DataFileError {
            DataFileError(message: m.hasPrefix(name + ":") ? m : "\(name): \(m)")
        }
        guard limits.maxInstructions > 0, limits.maxMemory > 0, limits.maxDepth > 0, limits.maxSeconds > 0 else {
            throw fail("data limits must be positive")
        }
        guard let L = llms_sandbox_newstate(limits.maxMemory) else { throw fail("cannot create a Lua state") }
        defer { llms_sandbox_close(L) }
        let memoryHit = { llms_sandbox_of(L).map { $0.pointee.mem_hit != 0 } ?? false }
        let loaded = (text.isEmpty ? [0] : text).withUnsafeBufferPointer { buf in  // a valid pointer even for ""
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                llms_loadbuffer(L, $0, text.count, "=" + name)
            }
        }
        var status = loaded
        if status == LUA_OK {
            var budget = llms_data_budget(limit: Int64(limits.maxInstructions), used: 0, seconds: limits.maxSeconds, deadline: 0)
            status = withUnsafeMutablePointer(to: &budget) { b in
                llms_set_data_budget(L, b)
                defer { llms_clear_data_budget(L) }
                return lua_pcallk(L, 0, 1, 0, 0, nil)  // no traceback: the message names the file and line
            }
        }
        guard status == LUA_OK else {
            if status == LUA_ERRMEM || memoryHit() {
                throw fail("memory limit of \(limits.maxMemory) bytes exceeded (a data file may only build tables)")
            }
            let msg = lua_type(L, -1) == LUA_TSTRING ? String(cString: llms_tostring(L, -1)) : "error object is not a string"
            let limit = msg.contains("instruction limit of") || msg.contains("time limit of")
            throw fail(limit ? msg + " (a data file may only build tables)" : msg)
        }
        var reader = Reader(L: L, maxDepth: limits.maxDepth)
        let value: LuaData?
        do throws(Reader.Failure) {
            value = lua_type(L, -1) == LUA_TNIL ? nil : try reader.read(at: lua_gettop(L), path: "result")
            llms_pushglobaltable(L)
            let globals = try reader.read(at: lua_gettop(L), path: "")
            return Result(value: value, globals: globals)
        } catch {
            throw fail(error.message)
        }
    }

    /// The bytes of a regular file of at most `limit` bytes.
    static func read(_ path: String, limit: Int) throws(DataFileError) -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw DataFileError(message: "\(path): cannot open (\(String(cString: strerror(errno))))")
        }
        defer { fclose(f) }
        var st = stat()
        guard fstat(fileno(f), &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw DataFileError(message: "\(path): not a regular file")
        }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            guard bytes.count + n <= limit else {
                throw DataFileError(message: "\(path): larger than \(limit) bytes; not a data file")
            }
            bytes += buf[0..<n]
        }
        return bytes
    }

    /// Copies values out of the bare state with raw access only (no metamethods, no allocation).
    struct Reader {
        struct Failure: Error { let message: String }
        let L: OpaquePointer
        let maxDepth: Int
        var open: Set<UnsafeRawPointer> = []

        mutating func read(at idx: Int32, path: String, depth: Int = 0) throws(Failure) -> LuaData {
            let here = path.isEmpty ? "the globals" : "'\(path)'"
            switch lua_type(L, idx) {
            case LUA_TBOOLEAN: return .boolean(lua_toboolean(L, idx) != 0)
            case LUA_TNUMBER:
                return lua_isinteger(L, idx) != 0 ? .integer(Int64(lua_tointegerx(L, idx, nil))) : .number(lua_tonumberx(L, idx, nil))
            case LUA_TSTRING:
                var n = 0
                let p = lua_tolstring(L, idx, &n)!
                return .string(Array(UnsafeRawBufferPointer(start: p, count: n)))
            case LUA_TTABLE:
                guard depth < maxDepth else { throw Failure(message: "tables nested deeper than \(maxDepth) at \(here)") }
                guard let ptr = lua_topointer(L, idx) else { throw Failure(message: "unreadable table at \(here)") }
                guard !open.contains(ptr) else { throw Failure(message: "the table at \(here) contains itself") }
                guard lua_checkstack(L, 3) != 0 else { throw Failure(message: "out of memory reading \(here)") }
                open.insert(ptr)
                defer { open.remove(ptr) }
                var entries: [LuaData.Entry] = []
                lua_pushnil(L)
                while lua_next(L, idx) != 0 {
                    let top = lua_gettop(L)
                    let keyType = lua_type(L, top - 1)
                    guard keyType == LUA_TSTRING || keyType == LUA_TNUMBER || keyType == LUA_TBOOLEAN else {
                        llms_pop(L, 2)
                        throw Failure(message: "a \(String(cString: lua_typename(L, keyType))) key in \(here); data keys are strings, numbers or booleans")
                    }
                    let key = try read(at: top - 1, path: path, depth: depth + 1)
                    let sub = path.isEmpty ? Self.describe(key) : "\(path).\(Self.describe(key))"
                    let value: LuaData
                    do throws(Failure) { value = try read(at: top, path: sub, depth: depth + 1) } catch {
                        llms_pop(L, 2); throw error
                    }
                    entries.append(LuaData.Entry(key: key, value: value))
                    llms_pop(L, 1)
                }
                return .table(entries)
            default:
                let t = String(cString: lua_typename(L, lua_type(L, idx)))
                throw Failure(message: "\(here) is a \(t); a data file holds only tables, strings, numbers and booleans")
            }
        }

        static func describe(_ key: LuaData) -> String {
            switch key {
            case .string: return key.text ?? "?"
            case .integer(let i): return String(i)
            case .number(let d): return String(d)
            case .boolean(let b): return String(b)
            case .table: return "?"
            }
        }
    }
}
