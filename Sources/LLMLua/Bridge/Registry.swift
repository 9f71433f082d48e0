// Registry: opens llmscript's libraries in a state. Each library is a binding table (see Binding.swift)
// plus the classes it declares (see LuaClass.swift); this file turns them into the namespaces, installs
// every class's protected metatable, and exports tensor methods as functions: t:matmul(u) == llm.matmul(t, u).
import CLua
import CLuaShim
import LLMCore

/// A library of bindings exposed under one Lua namespace.
///
/// To add a library: write an enum conforming to this protocol in Bindings/, and append it to
/// `Registry.libraries`. Its functions land in the global table `namespace` (dotted names such as
/// `llm.data` nest inside existing tables); `open` can register metatables or run Lua glue.
public protocol LuaLibrary: Sendable {
    /// Global name of the namespace table (`llm`, `nn`, `optim`, `llm.data`).
    static var namespace: String { get }
    /// Plain functions of the namespace (`llm.zeros`).
    static var functions: [LuaBinding] { get }
    /// Classes the library declares (userdata and table types with their methods). Default: none.
    static var classes: [LuaClass] { get }
    /// Extra set-up after the functions are installed (metatables, Lua glue). Default: nothing.
    static func open(_ vm: LuaVM) throws
}

extension LuaLibrary {
    public static func open(_ vm: LuaVM) throws {}
    public static var classes: [LuaClass] { [] }
}

enum Registry {
    /// Every library, in load order.
    static let libraries: [any LuaLibrary.Type] = [
        TensorLib.self, IntrospectionLib.self, OptimLib.self, ScheduleLib.self,
        FormatsLib.self, DataFileLib.self, JSONLib.self, CheckpointLib.self,
        DataLib.self, ShardBindings.self, PipelineLib.self, PipelineReadersLib.self,
        PipelineWritersLib.self, BPELib.self,
        GGUFLib.self, QuantLib.self,
        TextLib.self, WordNetLib.self,
        CleaningLib.self, PIILib.self, FilterLib.self, DedupLib.self,
        DistLib.self, ParallelOpsLib.self, ReducerLib.self,
        TuneLib.self, ServeLib.self,
        ParallelLib.self
    ]

    static func openAll(_ vm: LuaVM) throws {
        let L = vm.L
        // llm namespace: functions, then the classes of every library (llm.Tensor's methods table is
        // published at llm.Tensor), then tensor methods exported as llm functions (same function objects).
        lua_createtable(L, 0, 128)
        for lib in libraries where lib.namespace == "llm" {
            for b in lib.functions { pushBinding(L, b, key: "llm.\(b.name)"); lua_setfield(L, -2, b.name) }
        }
        vm.rawSetGlobal("llm")
        for lib in libraries {
            if lib.namespace != "llm" { pushNamespace(vm, lib.namespace); llms_pop(L, 1) }
            for c in lib.classes { c.install(vm) }
        }
        lua_getglobal(L, "llm")
        lua_getfield(L, -1, "Tensor")
        for name in TensorLib.methods.map(\.name) + ["free"] { lua_getfield(L, -1, name); lua_setfield(L, -3, name) }
        llms_pop(L, 2)

        // Lua-side glue: __index/__newindex (methods, properties, t[i]) and strict globals live in stdlib-lua.
        guard vm.stdlibPath != nil else {
            throw LuaError.runtime("llmscript: cannot find its Lua library folder 'stdlib-lua' (set LLMSCRIPT_HOME to the folder that contains it)")
        }
        lua_getglobal(L, "require")
        lua_pushstring(L, "llm.tensor")
        try vm.protectedCall(nargs: 1, nresults: 1)
        _ = llms_getmetatable_named(L, Tensor.luaTypeName)
        lua_getglobal(L, "llm")
        lua_getfield(L, -1, "Tensor")
        llms_remove(L, -2)
        try vm.protectedCall(nargs: 2, nresults: 0)  // require('llm.tensor')(metatable, methods)

        // other namespaces (nn, optim, llm.data, ...): functions, then each library's own set-up
        for lib in libraries where lib.namespace != "llm" {
            pushNamespace(vm, lib.namespace)
            for b in lib.functions { pushBinding(L, b, key: "\(lib.namespace).\(b.name)"); lua_setfield(L, -2, b.name) }
            llms_pop(L, 1)
        }
        for lib in libraries { try lib.open(vm) }
        lua_getglobal(L, "require")
        lua_pushstring(L, "llm")
        try vm.protectedCall(nargs: 1, nresults: 0)  // stdlib-lua/llm/init.lua: Lua-side additions
    }

    /// Pops the value on top of the stack into the (dotted) path `a.b.C`, creating missing tables.
    static func setPath(_ vm: LuaVM, _ path: String) {
        let L = vm.L
        guard let dot = path.lastIndex(of: ".") else { vm.rawSetGlobal(path); return }
        pushNamespace(vm, String(path[..<dot]))
        lua_pushstring(L, String(path[path.index(after: dot)...]))
        lua_rotate(L, -3, -1)  // table, key, value
        lua_rawset(L, -3)
        llms_pop(L, 1)
    }

    /// Pushes the table for a (possibly dotted) namespace, creating missing levels as globals/fields.
    static func pushNamespace(_ vm: LuaVM, _ name: String) {
        let L = vm.L
        let parts = name.split(separator: ".").map(String.init)
        llms_pushglobaltable(L)
        for part in parts {
            lua_pushstring(L, part)
            if lua_rawget(L, -2) != LUA_TTABLE {
                llms_pop(L, 1)
                lua_createtable(L, 0, 32)
                lua_pushstring(L, part)
                lua_pushvalue(L, -2)
                lua_rawset(L, -4)
            }
            llms_remove(L, -2)
        }
    }
}
