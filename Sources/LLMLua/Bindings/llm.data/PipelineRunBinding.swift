// PipelineRun: checks a pipeline spec table ({reader, step..., [writer], options}) and runs it
// (p:run()). Lua function steps, the reader's fill rule and the spec stay on the stack for the whole
// run, so no registry references are needed. The report is returned as a table and printed through
// Lua's `print` unless `quiet`; without a writer the kept documents are returned as a second value.
import CLua
import CLuaShim
import LLMData

enum PipelineRun {
    static let optionKeys = ["rejects", "threads", "chunkSize", "quiet"]

    /// A checked spec. With `build`, holds the Swift steps (function steps refer to stack slots).
    struct Spec {
        var steps: [PipelineStep] = []
        var readerIndex: Int32 = 0
        var writerIndex: Int32? = nil
        var rejects: String? = nil
        var options = Pipeline.Options()
        var quiet = false

        init(_ a: LuaArgs, _ s: Int32, build: Bool) throws {
            let L = a.L
            let s = lua_absindex(L, s)
            // option keys (string keys) and the array part
            lua_pushnil(L)
            while lua_next(L, s) != 0 {
                defer { llms_pop(L, 1) }
                if lua_type(L, -2) == LUA_TSTRING {
                    let key = PipelineBindings.text(L, -2)
                    guard optionKeys.contains(key) else {
                        llms_pop(L, 1)
                        throw LuaError.runtime("llm.data.pipeline: unknown option '\(key)'; expected one of: " + optionKeys.map { "'\($0)'" }.joined(separator: ", "))
                    }
                } else if lua_type(L, -2) != LUA_TNUMBER {
                    llms_pop(L, 1)
                    throw LuaError.runtime("llm.data.pipeline: keys must be option names or list positions")
                }
            }
            let o = LuaOptions(L: L, index: s, arg: 1)  // keys checked above; raw reads, no metamethods
            rejects = try o.string("rejects")
            if let r = rejects { try a.checkPath(r, .write) }
            if let t = try o.integer("threads") {
                guard t >= 1 && t <= 256 else { throw LuaError.runtime("Invalid 'threads': expected an integer in 1...256, got \(t)") }
                options.threads = t
            }
            if let c = try o.integer("chunkSize") {
                guard c >= 1 && c <= 1 << 24 else { throw LuaError.runtime("Invalid 'chunkSize': expected a positive integer, got \(c)") }
                options.chunkDocuments = c
            }
            quiet = try o.bool("quiet") ?? false

            let n = Int32(lua_rawlen(L, s))
            guard n >= 1 else { throw LuaError.runtime("llm.data.pipeline: expected a reader first (llm.data.readers.text/jsonl/list), got an empty list") }
            lua_rawgeti(L, s, 1)
            guard PipelineBindings.isInstance(L, -1, PipelineReadersLib.readerType) else {
                let got = a.typeName(-1)
                throw LuaError.runtime("llm.data.pipeline: entry 1 must be a reader (llm.data.readers.text/jsonl/list), got \(got)")
            }
            readerIndex = lua_gettop(L)
            if !build { llms_pop(L, 1) }
            var last = n
            lua_rawgeti(L, s, lua_Integer(n))
            if n > 1 && PipelineBindings.isInstance(L, -1, PipelineWritersLib.writerType) {
                last = n - 1
                if build { writerIndex = lua_gettop(L) } else { llms_pop(L, 1) }
            } else {
                llms_pop(L, 1)
            }
            if last >= 2 {
                for k in 2...last {
                    lua_rawgeti(L, s, lua_Integer(k))
                    let idx = lua_gettop(L)
                    if lua_type(L, idx) == LUA_TFUNCTION {
                        if build { steps.append(.ordered(LuaFunctionStage(L: L, index: idx, name: functionName(L, idx, k)))) } else { llms_pop(L, 1) }
                        continue
                    }
                    let mt = LuaContext.of(L).metatables[StageBox.luaTypeName]
                    guard let box = try Userdata.object(L, idx, typeName: StageBox.luaTypeName, mt: mt) as? StageBox else {
                        let got = a.typeName(idx)
                        let hint =
                            PipelineBindings.isInstance(L, idx, PipelineWritersLib.writerType)
                            ? " (a writer must be last)"
                            : PipelineBindings.isInstance(L, idx, PipelineReadersLib.readerType) ? " (the reader must be first)" : ""
                        throw LuaError.runtime("llm.data.pipeline: entry \(k) must be a step (a function doc -> doc|nil or an llm.data.Stage), got \(got)\(hint)")
                    }
                    steps.append(box.step)
                    llms_pop(L, 1)
                }
            }
        }
    }

    /// `lua step 3 (file.lua:12)` from the function's debug info.
    static func functionName(_ L: OpaquePointer, _ idx: Int32, _ k: Int32) -> String {
        var ar = lua_Debug()
        lua_pushvalue(L, idx)
        guard lua_getinfo(L, ">S", &ar) != 0 else { return "lua step \(k)" }
        let src = withUnsafeBytes(of: &ar.short_src) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let file = src.split(separator: "/").last.map(String.init) ?? src
        return "lua step \(k) (\(file):\(ar.linedefined))"
    }

    static let run = LuaBinding(
        "run", "p:run() -> report [, docs]",
        "Runs the pipeline; returns the report table (and prints it unless quiet); without a writer also the kept documents."
    ) { a in
        let L = a.L
        guard PipelineBindings.isInstance(L, 1, PipelineLib.pipelineType) else { throw LuaError.type(1, expected: PipelineLib.pipelineType) }
        lua_settop(L, 1)
        lua_getfield(L, 1, "spec")
        let spec = try Spec(a, 2, build: true)
        let reader = try PipelineReadersLib.build(a, spec.readerIndex)
        let writer = try spec.writerIndex.map { try PipelineWritersLib.build(L, $0) }
        let rejects: RejectsWriter?
        do { rejects = try spec.rejects.map { try RejectsWriter(path: $0) } } catch { writer?.abort(); throw error }
        var collected: Int32 = 0
        if writer == nil { lua_createtable(L, 0, 0); collected = lua_gettop(L) }
        var count: lua_Integer = 0
        let pipeline = Pipeline(reader: reader, steps: spec.steps, writer: writer, rejects: rejects, options: spec.options)
        let report: PipelineReport
        do {
            report = try pipeline.run(
                output: writer != nil
                    ? nil
                    : { doc in
                        // kept documents become Lua tables: stop at the memory limit, not after the run
                        try a.reserve(lua: LuaSize.total((1, LuaSize.table), (doc.text.utf8.count, 1), (3, LuaSize.string(32))))
                        count += 1
                        PipelineBindings.pushDocument(L, doc)
                        lua_rawseti(L, collected, count)
                    })
        } catch let e as PipelineError {
            if case LuaError.script(let m)? = e.underlying as? LuaError {
                throw LuaError.script("pipeline: step '\(e.stage)' failed on document '\(e.documentID)': \(m)")
            }
            throw LuaError.runtime(e.description)
        }
        pushReport(L, report)
        if !spec.quiet {
            lua_getglobal(L, "print")
            try a.call(-1, nresults: 0) {
                DataLib.pushString(L, report.formatted()); return 1
            }
            llms_pop(L, 1)
        }
        if writer == nil { lua_pushvalue(L, collected); return 2 }
        return 1
    }

    static func pushReport(_ L: OpaquePointer, _ r: PipelineReport) {
        lua_createtable(L, 0, 8)
        lua_pushnumber(L, r.seconds); lua_setfield(L, -2, "seconds")
        lua_pushinteger(L, lua_Integer(r.documentsRead)); lua_setfield(L, -2, "read")
        lua_pushinteger(L, lua_Integer(r.documentsKept)); lua_setfield(L, -2, "kept")
        lua_pushinteger(L, lua_Integer(r.documentsDropped)); lua_setfield(L, -2, "dropped")
        lua_pushinteger(L, lua_Integer(r.rejectsWritten)); lua_setfield(L, -2, "rejected")
        DataLib.pushString(L, r.formatted()); lua_setfield(L, -2, "text")
        lua_createtable(L, Int32(r.stages.count), 0)
        for (k, s) in r.stages.enumerated() {
            lua_createtable(L, 0, 10)
            DataLib.pushString(L, s.name); lua_setfield(L, -2, "name")
            DataLib.pushString(L, s.kind); lua_setfield(L, -2, "kind")
            for (key, v) in [
                ("documentsIn", s.documentsIn), ("documentsOut", s.documentsOut), ("dropped", s.dropped),
                ("bytesIn", s.bytesIn), ("bytesOut", s.bytesOut)
            ] {
                lua_pushinteger(L, lua_Integer(v)); lua_setfield(L, -2, key)
            }
            lua_pushnumber(L, s.seconds); lua_setfield(L, -2, "seconds")
            for (key, dict) in [("drops", s.drops), ("notes", s.notes)] {
                lua_createtable(L, 0, Int32(min(dict.count, 64)))
                for (reason, c) in dict { DataLib.pushString(L, reason); lua_pushinteger(L, lua_Integer(c)); lua_rawset(L, -3) }
                lua_setfield(L, -2, key)
            }
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
        lua_setfield(L, -2, "stages")
    }
}
