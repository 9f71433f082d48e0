// Pipeline readers and writers: llm.data.readers.text / jsonl / list and llm.data.writers.jsonl.
// Each returns a small table (llm.data.Reader / llm.data.Writer: kind, paths or path, options) whose
// options are checked when it is made and again when the pipeline runs, where the Swift reader or
// writer is built. A `fill` rule (a Lua function) stays on the stack during the run and is called
// on the calling thread.
import CLua
import CLuaShim
import LLMData

enum PipelineReadersLib: LuaLibrary {
    static let namespace = "llm.data.readers"
    static let readerType = "llm.data.Reader"
    static let textOptions = ["split", "separator", "invalidUTF8", "maxBytes"]
    static let jsonlOptions = ["textField", "idField", "fallbackFields", "fill", "invalidUTF8", "maxLineBytes"]

    static let functions: [LuaBinding] = [
        LuaBinding(
            "text", "llm.data.readers.text(path: string | {string}, [{split='file'|'line'|'separator', separator='%', invalidUTF8='repair'|'reject', maxBytes}]) -> Reader",
            "Text files or folders (gzip too): one document per file, per line, or per separator line (fortune files)."
        ) { a in
            try make(a, kind: "text")
        },
        LuaBinding(
            "jsonl", "llm.data.readers.jsonl(path: string | {string}, [{textField='text', idField='id', fallbackFields, fill, invalidUTF8, maxLineBytes}]) -> Reader",
            "JSON Lines files or folders (gzip too); bad lines and records without text are counted and sent to the rejects file."
        ) { a in
            try make(a, kind: "jsonl")
        },
        LuaBinding(
            "list", "llm.data.readers.list(docs: {string | {text, id, meta}}) -> Reader",
            "Documents from a Lua list (strings or document tables); ids default to their positions."
        ) { a in
            try a.table(1)
            _ = try listDocuments(a.L, 1)
            lua_createtable(a.L, 0, 2)
            lua_pushstring(a.L, "list"); lua_setfield(a.L, -2, "kind")
            lua_pushvalue(a.L, 1); lua_setfield(a.L, -2, "docs")
            _ = llms_getmetatable_named(a.L, readerType); lua_setmetatable(a.L, -2)
            return 1
        }
    ]

    static let classes = [
        LuaClass(readerType, representation: .table),
        LuaClass(PipelineWritersLib.writerType, representation: .table)
    ]

    /// Checks the arguments (building the reader once) and returns the reader table.
    static func make(_ a: LuaArgs, kind: String) throws -> Int32 {
        let paths: [String] = a.type(1) == LUA_TTABLE ? try DataLib.stringList(a, 1) : [try a.string(1)]
        for p in paths { try a.checkPath(p, .readTree) }
        _ = try a.options(2, allowed: kind == "text" ? textOptions : jsonlOptions)
        let hasOptions = a.type(2) == LUA_TTABLE
        lua_settop(a.L, 2)
        lua_createtable(a.L, 0, 3)
        lua_pushstring(a.L, kind); lua_setfield(a.L, -2, "kind")
        lua_createtable(a.L, Int32(paths.count), 0)
        for (k, p) in paths.enumerated() { DataLib.pushString(a.L, p); lua_rawseti(a.L, -2, lua_Integer(k + 1)) }
        lua_setfield(a.L, -2, "paths")
        if hasOptions { lua_pushvalue(a.L, 2); lua_setfield(a.L, -2, "options") }
        _ = llms_getmetatable_named(a.L, readerType); lua_setmetatable(a.L, -2)
        let t = lua_gettop(a.L)
        _ = try build(a, t)  // errors now: missing paths, bad options
        lua_settop(a.L, t)
        return 1
    }

    /// Builds the Swift reader for the reader table at `i`. A `fill` function is pushed and left on the stack.
    static func build(_ a: LuaArgs, _ i: Int32) throws -> any DocumentReader {
        let L = a.L
        let i = lua_absindex(L, i)
        lua_getfield(L, i, "kind")
        let kind = PipelineBindings.text(L, -1)
        llms_pop(L, 1)
        if kind == "list" {
            lua_getfield(L, i, "docs")
            defer { llms_pop(L, 1) }
            let docs = try listDocuments(L, lua_gettop(L))
            // the Swift copies, held while the pipeline runs: text, id and a document record (with its meta) each
            try a.reserve(native: docs.reduce(0) { $0 &+ $1.text.utf8.count &+ $1.id.utf8.count &+ 160 })
            return ArrayReader(docs)
        }
        lua_getfield(L, i, "paths")
        let paths = try DataLib.stringList(a, lua_gettop(L))
        llms_pop(L, 1)
        lua_getfield(L, i, "options")
        let oi = lua_gettop(L)
        let o = try a.options(oi, allowed: kind == "text" ? textOptions : jsonlOptions)
        let policy = try InvalidUTF8Policy.parse(try o.string("invalidUTF8") ?? "repair")
        if kind == "text" {
            var opts = TextDocumentReader.Options()
            opts.split = try TextSplit.parse(try o.string("split") ?? "file")
            opts.separator = try o.string("separator") ?? "%"
            opts.invalidUTF8 = policy
            opts.maxBytes = try o.integer("maxBytes") ?? opts.maxBytes
            llms_pop(L, 1)
            return try TextDocumentReader(paths: paths, options: opts)
        }
        var opts = JSONLReader.Options()
        opts.textField = try o.string("textField") ?? "text"
        opts.idField = try o.string("idField") ?? "id"
        opts.invalidUTF8 = policy
        opts.maxLineBytes = try o.integer("maxLineBytes") ?? opts.maxLineBytes
        if let fields = try o.stringList("fallbackFields") { opts.fallbackFields = fields }
        let hasFill = o.has("fill")
        if hasFill {
            _ = o.pushField("fill")
            guard lua_type(L, -1) == LUA_TFUNCTION else {
                throw LuaError.runtime("Invalid 'fill': expected a function(record) -> text | nil, got \(a.typeName(-1))")
            }
        }
        lua_rotate(L, oi, -1); llms_pop(L, 1)  // drop the options table, keep fill (if any) on top
        if hasFill {
            let fi = lua_gettop(L)
            opts.fill = { doc in
                let outcome = try PipelineBindings.callStep(L, name: "fill", doc: doc) { lua_pushvalue(L, fi) }
                if case .keep(let d) = outcome { return d.text }
                return nil
            }
        }
        return try JSONLReader(paths: paths, options: opts)
    }

    /// The documents of the list at `i`: strings or document tables (ids default to `"k"`).
    static func listDocuments(_ L: OpaquePointer, _ i: Int32) throws -> [Document] {
        let n = Int(lua_rawlen(L, i))
        var docs: [Document] = []
        docs.reserveCapacity(n)
        for k in 0..<n {
            lua_rawgeti(L, i, lua_Integer(k + 1))
            defer { llms_pop(L, 1) }
            docs.append(
                try PipelineBindings.document(
                    L, -1, base: Document(text: "", id: "\(k + 1)"),
                    what: "llm.data.readers.list: entry \(k + 1)"))
        }
        return docs
    }
}

enum PipelineWritersLib: LuaLibrary {
    static let namespace = "llm.data.writers"
    static let writerType = "llm.data.Writer"

    static let functions: [LuaBinding] = [
        LuaBinding(
            "jsonl", "llm.data.writers.jsonl(path: string, [{textField='text'}]) -> Writer",
            "Writes {id, text, meta} records as JSON Lines, atomically (temporary file, fsync, rename); .gz paths are compressed."
        ) { a in
            let path = try a.path(1, .write)
            let o = try a.options(2, allowed: ["textField"])
            let field = try o.string("textField") ?? "text"
            guard !field.isEmpty else { throw LuaError.runtime("Invalid 'textField': expected a non-empty string, got ''") }
            lua_createtable(a.L, 0, 3)
            lua_pushstring(a.L, "jsonl"); lua_setfield(a.L, -2, "kind")
            DataLib.pushString(a.L, path); lua_setfield(a.L, -2, "path")
            DataLib.pushString(a.L, field); lua_setfield(a.L, -2, "textField")
            _ = llms_getmetatable_named(a.L, writerType); lua_setmetatable(a.L, -2)
            return 1
        }
    ]

    /// Builds the Swift writer for the writer table at `i` (creates its temporary file).
    static func build(_ L: OpaquePointer, _ i: Int32) throws -> any DocumentWriter {
        lua_getfield(L, i, "path"); lua_getfield(L, i, "textField")
        defer { llms_pop(L, 2) }
        return try JSONLWriter(path: PipelineBindings.text(L, -2), textField: PipelineBindings.text(L, -1))
    }
}
