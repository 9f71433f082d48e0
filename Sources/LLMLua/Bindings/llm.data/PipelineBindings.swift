// Pipeline bindings (`llm.data`): llm.data.pipeline{reader, step..., [writer], rejects=, threads=, ...}
// returns a pipeline object whose :run() streams documents and returns (and prints) the report;
// llm.data.luaStep{module=, fn=} runs a module function in worker Lua states. Steps are Lua functions
// or `llm.data.Stage` userdata: other binding files expose their Swift stages with
// `PipelineBindings.pushStage(L, stage)`. A document in Lua is {text=, id=, meta={k=string}}.
import CLua
import CLuaShim
import LLMData

enum PipelineLib: LuaLibrary {
    static let namespace = "llm.data"
    static let pipelineType = "llm.data.Pipeline"
    static let functions: [LuaBinding] = [
        LuaBinding(
            "pipeline",
            "llm.data.pipeline{reader, step..., [writer], [rejects=path], [threads=n], [chunkSize=n], [quiet=false]} -> Pipeline",
            "A document pipeline: a reader, steps (Lua functions doc -> doc|nil, or stages), an optional writer; p:run() returns the report."
        ) { a in
            try a.table(1)
            _ = try PipelineRun.Spec(a, 1, build: false)
            lua_createtable(a.L, 0, 1)
            lua_pushvalue(a.L, 1); lua_setfield(a.L, -2, "spec")
            _ = llms_getmetatable_named(a.L, pipelineType)
            lua_setmetatable(a.L, -2)
            return 1
        },
        LuaBinding(
            "luaStep", "llm.data.luaStep{module: string, fn: string, [name: string]} -> Stage",
            "A step running require(module)[fn] in worker Lua states (one per thread); fn(doc) -> doc | text | nil, reason."
        ) { a in
            let o = try a.options(1, allowed: ["module", "fn", "name"])
            guard let module = try o.string("module") else { throw LuaError.runtime("Invalid 'module': expected a module name, got nil") }
            guard let fn = try o.string("fn") else { throw LuaError.runtime("Invalid 'fn': expected a function name, got nil") }
            let name = try o.string("name") ?? "\(module).\(fn)"
            // load it here first: a missing module or function is an error now, not in a worker
            lua_getglobal(a.L, "require")
            try a.call(-1, nresults: 1) {
                lua_pushstring(a.L, module); return 1
            }
            let t = lua_type(a.L, -1) == LUA_TTABLE ? lua_getfield(a.L, -1, fn) : LUA_TNIL
            guard t == LUA_TFUNCTION else {
                throw LuaError.runtime("llm.data.luaStep: module '\(module)' has no function '\(fn)' (require('\(module)') must return a table holding it)")
            }
            lua_getglobal(a.L, "package")
            _ = lua_getfield(a.L, -1, "path"); _ = lua_getfield(a.L, -2, "cpath")
            let path = llms_tostring(a.L, -2).map { String(cString: $0) } ?? ""
            let cpath = llms_tostring(a.L, -1).map { String(cString: $0) } ?? ""
            PipelineBindings.pushStage(
                a.L,
                LuaWorkerStage(
                    module: module, fn: fn, name: name, path: path, cpath: cpath,
                    sandbox: LuaContext.of(a.L).sandbox))
            return 1
        }
    ]

    static let classes = [
        LuaClass(StageBox.luaTypeName, methods: PipelineBindings.stageMethods, metamethods: PipelineBindings.stageMeta),
        LuaClass(pipelineType, methods: [PipelineRun.run], representation: .table)
    ]
}

/// Helpers for binding files that expose stages, and the document <-> Lua table conversion.
public enum PipelineBindings {
    /// Pushes a Swift stage (run on the pipeline's worker threads) as an `llm.data.Stage` userdata.
    public static func pushStage(_ L: OpaquePointer, _ stage: any DocumentStage) {
        Userdata.push(L, StageBox(.parallel(stage)), typeName: StageBox.luaTypeName)
    }

    /// Pushes a Swift stage that needs documents in order (dedup) as an `llm.data.Stage` userdata.
    public static func pushStage(_ L: OpaquePointer, ordered stage: any OrderedDocumentStage) {
        Userdata.push(L, StageBox(.ordered(stage)), typeName: StageBox.luaTypeName)
    }

    static let stageMethods: [LuaBinding] = [
        LuaBinding(
            "process", "stage:process(doc: {text, id, meta} | string) -> doc | nil, reason",
            "Runs the stage on one document (for tests and the REPL)."
        ) { a in
            let box = try a.object(1, StageBox.self)
            let doc = try document(a, 2)
            let outcome: StageOutcome
            do {
                switch box.step {
                case .parallel(let s): outcome = try s.process(doc)
                case .ordered(let s): outcome = try s.process(doc)
                }
            } catch let e as DataError { throw LuaError.runtime("\(box.step.name): \(e.description)") }
            switch outcome {
            case .keep(let d): pushDocument(a.L, d); return 1
            case .drop(let reason): lua_pushnil(a.L); DataLib.pushString(a.L, reason); return 2
            }
        },
        LuaBinding("name", "stage:name() -> string", "The stage's name (as shown in the report).") { a in
            DataLib.pushString(a.L, try a.object(1, StageBox.self).step.name); return 1
        }
    ]

    static let stageMeta: [LuaBinding] = [
        LuaBinding("__tostring", "tostring(stage)", "llm.data.Stage(name)") { a in
            let box = try a.object(1, StageBox.self)
            let kind: String
            if case .ordered = box.step { kind = "ordered" } else { kind = "parallel" }
            DataLib.pushString(a.L, "llm.data.Stage(\(box.step.name), \(kind))"); return 1
        }
    ]

    /// True when the value at `i` is a table whose metatable is the one registered as `name`.
    static func isInstance(_ L: OpaquePointer, _ i: Int32, _ name: String) -> Bool {
        guard lua_type(L, i) == LUA_TTABLE, lua_getmetatable(L, i) != 0 else { return false }
        _ = llms_getmetatable_named(L, name)
        defer { llms_pop(L, 2) }
        return lua_rawequal(L, -1, -2) != 0
    }

    /// Pushes `doc` as {text=, id=, meta={...}}.
    public static func pushDocument(_ L: OpaquePointer, _ doc: Document) {
        lua_createtable(L, 0, 3)
        DataLib.pushString(L, doc.text); lua_setfield(L, -2, "text")
        DataLib.pushString(L, doc.id); lua_setfield(L, -2, "id")
        lua_createtable(L, 0, Int32(min(doc.meta.count, 64)))
        for (k, v) in doc.meta { DataLib.pushString(L, k); DataLib.pushString(L, v); lua_rawset(L, -3) }
        lua_setfield(L, -2, "meta")
    }

    /// The bytes of the string at `i` as text (invalid UTF-8 repaired).
    static func text(_ L: OpaquePointer, _ i: Int32) -> String {
        var len = 0
        guard let p = lua_tolstring(L, i, &len) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self)
    }

    /// A document from a Lua value: a string (the text) or a table {text=string, [id], [meta]}.
    /// Missing id and meta come from `base` (the document the step received).
    static func document(_ L: OpaquePointer, _ i: Int32, base: Document? = nil, what: String) throws -> Document {
        let i = lua_absindex(L, i)
        if lua_type(L, i) == LUA_TSTRING {
            return Document(text: text(L, i), id: base?.id ?? "", meta: base?.meta ?? [:])
        }
        guard lua_type(L, i) == LUA_TTABLE else {
            throw LuaError.runtime("\(what): expected a document table {text=...}, got \(String(cString: lua_typename(L, lua_type(L, i))))")
        }
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        guard lua_getfield(L, i, "text") == LUA_TSTRING else {
            throw LuaError.runtime("\(what): Invalid 'text': expected a string, got \(String(cString: lua_typename(L, lua_type(L, -1))))")
        }
        var doc = Document(text: text(L, -1), id: base?.id ?? "", meta: base?.meta ?? [:])
        switch lua_getfield(L, i, "id") {
        case LUA_TNIL: break
        case LUA_TSTRING, LUA_TNUMBER: doc.id = text(L, -1)
        default: throw LuaError.runtime("\(what): Invalid 'id': expected a string, got \(String(cString: lua_typename(L, lua_type(L, -1))))")
        }
        switch lua_getfield(L, i, "meta") {
        case LUA_TNIL: break
        case LUA_TTABLE:
            doc.meta = [:]
            lua_pushnil(L)
            while lua_next(L, -2) != 0 {
                defer { llms_pop(L, 1) }
                let kt = lua_type(L, -2), vt = lua_type(L, -1)
                guard kt == LUA_TSTRING else { llms_pop(L, 2); throw LuaError.runtime("\(what): meta keys must be strings") }
                switch vt {
                case LUA_TSTRING, LUA_TNUMBER:
                    lua_pushvalue(L, -1)  // tolstring on a copy: never convert a number in place
                    doc.meta[text(L, -3)] = text(L, -1)
                    llms_pop(L, 1)
                case LUA_TBOOLEAN: doc.meta[text(L, -2)] = lua_toboolean(L, -1) != 0 ? "true" : "false"
                default:
                    let key = text(L, -2)
                    llms_pop(L, 2)
                    throw LuaError.runtime("\(what): Invalid 'meta.\(key)': expected a string, number or boolean, got \(String(cString: lua_typename(L, vt)))")
                }
            }
        default: throw LuaError.runtime("\(what): Invalid 'meta': expected a table, got \(String(cString: lua_typename(L, lua_type(L, -1))))")
        }
        return doc
    }

    static func document(_ a: LuaArgs, _ i: Int32) throws -> Document {
        try document(a.L, i, base: Document(text: "", id: ""), what: a.name)
    }

    /// Calls a step function (pushed by `pushFunction`) on `doc` under pcall and reads its outcome:
    /// a table (the document), a string (the new text), or nil/false with an optional reason.
    static func callStep(_ L: OpaquePointer, name: String, doc: Document, pushFunction: () -> Void) throws -> StageOutcome {
        guard lua_checkstack(L, 8) != 0 else { throw LuaError.runtime("\(name): Lua stack overflow") }
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        pushFunction()
        pushDocument(L, doc)
        if lua_pcallk(L, 1, 2, 0, 0, nil) != LUA_OK {
            let msg = llms_tostring(L, -1).map { String(cString: $0) } ?? "(error object is not a string)"
            throw LuaError.script(msg)
        }
        if lua_toboolean(L, -2) == 0 {  // nil or false: dropped
            let reason = lua_type(L, -1) == LUA_TSTRING ? text(L, -1) : "dropped by \(name)"
            return .drop(reason: reason)
        }
        return .keep(try document(L, -2, base: doc, what: "step '\(name)' result"))
    }
}
