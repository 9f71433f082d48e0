// CheckpointLib: the `llm.checkpoint` namespace over LLMFormats.Checkpoint. A checkpoint is a table
// file name -> content, typed by extension: `*.safetensors` = {name = Tensor}, `*.json` = any
// JSON-encodable Lua value, anything else = a string. write() commits it atomically with a verified
// manifest; read() returns the same shape; list()/latest()/prune() manage `step-000100` directories;
// lock() takes a run folder's exclusive lock (RunLockBindings).
import CLua
import CLuaShim
import LLMCore
import LLMFormats

enum CheckpointLib: LuaLibrary {
    static let namespace = "llm.checkpoint"

    static let classes = [
        LuaClass(
            RunFolderLock.luaTypeName, methods: RunLockBindings.methods,
            metamethods: RunLockBindings.metamethods, methodsPath: "llm.checkpoint.Lock")
    ]

    static let functions: [LuaBinding] =
        RunLockBindings.functions + [
            LuaBinding(
                "write", "llm.checkpoint.write(dir: string, files: {[name] = {name = Tensor} | value | string}) -> string",
                "Writes a checkpoint directory atomically: *.safetensors tensor tables, *.json values, other strings."
            ) { a in
                let dir = try a.path(1, .write)
                try a.checkPath(dir + ".tmp", .write)  // the temporary sibling of an atomic write
                try a.table(2)
                guard a.isNoneOrNil(3) else { throw LuaError.argument(3, "llm.checkpoint.write takes no options") }
                var files: [String: CheckpointFile] = [:]
                lua_pushnil(a.L)
                while lua_next(a.L, 2) != 0 {
                    defer { llms_pop(a.L, 1) }
                    guard a.type(-2) == LUA_TSTRING, let name = LuaJSON.string(a.L, -2) else {
                        throw LuaError.argument(2, "file names must be strings, got a \(a.typeName(-2)) key")
                    }
                    do { try Checkpoint.validate(fileName: name) } catch let e as FormatError { throw LuaError.argument(2, e.message) }
                    let top = lua_gettop(a.L)
                    if name.hasSuffix(".safetensors") {
                        files[name] = .tensors(try FormatsLib.tensorMap(a, top, arg: 2, what: "files['\(name)']"), metadata: ["format": "pt"])
                    } else if name.hasSuffix(".json") {
                        let v = try LuaJSON.value(a.L, top, fn: "llm.checkpoint.write: files['\(name)']")
                        let text = try JSONWriter.string(v, indent: 2, sortKeys: true) + "\n"
                        files[name] = .bytes(Array(text.utf8))
                    } else {
                        guard a.type(top) == LUA_TSTRING else {
                            throw LuaError.argument(2, "files['\(name)'] must be a string (only *.safetensors and *.json take tables), got \(a.typeName(top))")
                        }
                        var len = 0
                        let p = lua_tolstring(a.L, top, &len)!
                        files[name] = .bytes(Array(UnsafeRawBufferPointer(start: p, count: len)))
                    }
                }
                try Checkpoint.write(dir: dir, files: files)
                a.push(dir)
                return 1
            },
            LuaBinding(
                "read", "llm.checkpoint.read(dir: string, opts?: {mmap?: boolean}) -> {[name] = {name = Tensor} | value | string}",
                "Reads a checkpoint after verifying every file's size and sha256 against its manifest. With mmap, the"
                    + " float32 tensors of its safetensors files stay in the memory-mapped file instead of being copied"
                    + " (read-only: in-place ops fail; tensors whose data is not 4-byte aligned, and other dtypes, are copied)."
            ) { a in
                let dir = try a.path(1, .readTree)
                let mmap = try a.options(2, allowed: ["mmap"]).bool("mmap") ?? false
                let (files, mapped) = try Checkpoint.readMapped(dir: dir, mmap: mmap)
                lua_createtable(a.L, 0, Int32(clamping: files.count + mapped.count))
                for (name, file) in mapped {
                    LuaJSON.pushString(a.L, name)
                    FormatsLib.pushTensorMap(a, file.tensors)
                    lua_rawset(a.L, -3)
                }
                for (name, bytes) in files {
                    LuaJSON.pushString(a.L, name)
                    let source = dir + "/" + name
                    if name.hasSuffix(".safetensors") {
                        FormatsLib.pushTensorMap(a, try Checkpoint.tensors(bytes, source: source).tensors)
                    } else if name.hasSuffix(".json") {
                        let v = try JSONParser.parse(bytes, maxDepth: LuaJSON.maxDepth)
                        try LuaJSON.push(a.L, v)
                    } else {
                        bytes.withUnsafeBytes { b in _ = lua_pushlstring(a.L, b.baseAddress?.assumingMemoryBound(to: CChar.self), b.count) }
                    }
                    lua_rawset(a.L, -3)
                }
                return 1
            },
            LuaBinding(
                "list", "llm.checkpoint.list(parent: string) -> {{step: integer, path: string}}",
                "Complete step-NNNNNN checkpoints under parent, oldest first ({} when parent does not exist)."
            ) { a in
                let entries = try Checkpoint.list(parent: try a.path(1, .readTree))
                lua_createtable(a.L, Int32(clamping: entries.count), 0)
                for (i, e) in entries.enumerated() {
                    lua_createtable(a.L, 0, 2)
                    a.push(e.step); lua_setfield(a.L, -2, "step")
                    a.push(e.path); lua_setfield(a.L, -2, "path")
                    lua_rawseti(a.L, -2, lua_Integer(i + 1))
                }
                return 1
            },
            LuaBinding(
                "latest", "llm.checkpoint.latest(parent: string) -> string?",
                "Path of the newest complete step checkpoint under parent, or nil."
            ) { a in
                let entries = try Checkpoint.list(parent: try a.path(1, .readTree))
                if let last = entries.last { a.push(last.path) } else { a.pushNil() }
                return 1
            },
            LuaBinding(
                "stepName", "llm.checkpoint.stepName(step: integer) -> string",
                "The conventional directory name of a step: stepName(100) == 'step-000100'."
            ) { a in
                let step = try a.integer(1)
                guard step >= 0 else { throw LuaError.argument(1, "step must be non-negative, got \(step)") }
                a.push(Checkpoint.stepName(step))
                return 1
            },
            LuaBinding(
                "prune", "llm.checkpoint.prune(parent: string, {keepLast: integer, keep: string | {string}}) -> {string}",
                "Deletes step checkpoints except the last keepLast, the newest and those in keep; returns the deleted paths."
            ) { a in
                let parent = try a.path(1, .write)
                try a.table(2)
                let o = try a.options(2, allowed: ["keepLast", "keep"])
                guard let n = try o.integer("keepLast") else { throw LuaError.runtime("Invalid 'keepLast': expected an integer >= 1, got nil") }
                guard n >= 1 else { throw LuaError.runtime("Invalid 'keepLast': expected an integer >= 1, got \(n)") }
                var keep: [String] = []
                lua_pushstring(a.L, "keep"); lua_rawget(a.L, 2)  // popped below, before the result is pushed
                if a.type(-1) == LUA_TSTRING {
                    keep = [try a.string(lua_gettop(a.L))]
                } else if a.type(-1) == LUA_TTABLE {
                    let t = lua_gettop(a.L), count = lua_rawlen(a.L, t)
                    for k in 0..<Int(count) {
                        lua_rawgeti(a.L, t, lua_Integer(k + 1))
                        defer { llms_pop(a.L, 1) }
                        guard a.type(-1) == LUA_TSTRING, let s = LuaJSON.string(a.L, -1) else {
                            throw LuaError.runtime("Invalid 'keep': entry \(k + 1) must be a path string, got \(a.typeName(-1))")
                        }
                        keep.append(s)
                    }
                } else if a.type(-1) != LUA_TNIL {
                    throw LuaError.runtime("Invalid 'keep': expected a path or a list of paths, got \(a.typeName(-1))")
                }
                llms_pop(a.L, 1)
                let removed = try Checkpoint.prune(parent: parent, keepLast: n, keep: keep)
                lua_createtable(a.L, Int32(clamping: removed.count), 0)
                for (i, p) in removed.enumerated() { a.push(p); lua_rawseti(a.L, -2, lua_Integer(i + 1)) }
                return 1
            }
        ]
}
