// LuaVM: one Lua 5.4 state with llmscript's libraries opened. Owns the state, sets package.path so that
// `require 'llm.x'` finds stdlib-lua/ wherever the binary runs from, installs strict globals, and runs
// chunks under lua_pcall with a traceback. Every call into Lua from Swift goes through `protectedCall`.
import CLua
import CLuaShim
import LLMCore

#if canImport(Glibc)
    import Glibc
#endif

/// A Lua state with the llmscript libraries (`llm`, ...) loaded.
///
/// ```swift
/// let vm = try LuaVM()
/// try vm.run(string: "print(llm.zeros(2, 2))", name: "=example")
/// ```
public final class LuaVM {
    /// The raw state; valid until the VM is deinitialized.
    public let L: OpaquePointer
    let context: LuaContext

    /// Creates a state, opens the standard libraries and llmscript's, and sets `package.path`.
    /// - Parameters:
    ///   - strict: when true, reading or assigning an undeclared global is an error.
    ///   - sandbox: when given, the state runs untrusted code under these limits (see ``SandboxPolicy``).
    public convenience init(strict: Bool = true, sandbox: SandboxPolicy? = nil) throws {
        try self.init(strict: strict, sandbox: sandbox, parentBudget: nil)
    }

    /// A state whose memory budget, when sandboxed, is a child of `parentBudget` (a worker state: it gets
    /// what the parent has left, and its allocations count against the parent too).
    init(strict: Bool, sandbox: SandboxPolicy?, parentBudget: MemoryBudget?) throws {
        let state =
            sandbox.map { policy in
                parentBudget.map { llms_sandbox_newstate_child($0.raw) } ?? llms_sandbox_newstate(policy.memoryLimit ?? 0)
            } ?? luaL_newstate()
        guard let L = state else { throw LuaError.runtime("cannot create a Lua state (out of memory)") }
        self.L = L
        context = LuaContext()
        llms_extraspace(L).pointee = Unmanaged.passUnretained(context).toOpaque()
        luaL_openlibs(L)
        installDispatcher()
        try configurePackagePath()
        try Registry.openAll(self)
        if let sandbox { try Sandbox.install(self, sandbox) }
        try setStrict(strict)
        if let t = sandbox?.timeLimit { llms_sandbox_set_time_limit(L, t) }
    }

    /// The sandbox settings of this state, nil for a trusted state.
    public var sandbox: SandboxPolicy? { context.sandbox }

    deinit {
        if llms_sandbox_of(L) != nil {
            llms_sandbox_set_time_limit(L, 0)  // let the pending __gc run past the deadline
            MemoryBudget.close(L)  // this state's budget only: nothing process-wide to reset
        } else {
            lua_close(L)  // runs every pending __gc, releasing all tensors
        }
    }

    /// Sets the number of BLAS threads for the whole process (the CLI's --threads).
    public static func setBLASThreads(_ n: Int) { BLAS.setThreads(n) }

    /// Runs a chunk of Lua source. Errors come back as ``LuaError/script(_:)`` with a traceback.
    /// - Returns: the number of results left on the stack (when `keepResults`).
    @discardableResult
    public func run(string code: String, name: String, keepResults: Bool = false) throws -> Int32 {
        let top = lua_gettop(L)
        let status = code.withCString { llms_loadbuffer(L, $0, strlen($0), name) }
        if status != LUA_OK { throw LuaError.script(Sandbox.message(L, status: status, popMessage())) }
        try protectedCall(nargs: 0, nresults: keepResults ? LUA_MULTRET : 0)
        return lua_gettop(L) - top
    }

    /// `require(name)`, under pcall; the module value is discarded (it is also stored as a global
    /// by the caller when wanted, like `lua -l`).
    public func require(_ module: String, global: String? = nil) throws {
        lua_getglobal(L, "require")
        lua_pushstring(L, module)
        try protectedCall(nargs: 1, nresults: 1)
        if let g = global { rawSetGlobal(g) } else { llms_pop(L, 1) }
    }

    /// Calls the function below `nargs` arguments on the stack with a traceback handler.
    /// Ctrl-C during the call raises "interrupted!" in Lua (the REPL survives it; a script exits with 1).
    public func protectedCall(nargs: Int32, nresults: Int32) throws {
        let status = llms_pcall_interruptible(L, nargs, nresults)
        if status != LUA_OK { throw LuaError.script(Sandbox.message(L, status: status, popMessage())) }
    }

    /// Turns strict globals on or off (the REPL turns them off; scripts run strict).
    public func setStrict(_ on: Bool) throws {
        lua_getglobal(L, "require")
        lua_pushstring(L, "llm.strict")
        try protectedCall(nargs: 1, nresults: 1)
        lua_getfield(L, -1, on ? "enable" : "disable")
        lua_rotate(L, -2, -1); llms_pop(L, 1)
        try protectedCall(nargs: 0, nresults: 0)
    }

    /// Pops the value on top as a global, bypassing strict mode.
    public func rawSetGlobal(_ name: String) {
        llms_pushglobaltable(L)
        lua_pushstring(L, name)
        lua_rotate(L, -3, -1)  // table, name, value
        lua_rawset(L, -3)
        llms_pop(L, 1)
    }

    func popMessage() -> String {
        let msg = llms_tostring(L, -1).map { String(cString: $0) } ?? "(error object is not a string)"
        llms_pop(L, 1)
        return msg
    }

    /// The folder holding the shipped Lua modules (`llm/*.lua`), if found.
    public private(set) var stdlibPath: String? = nil

    private func configurePackagePath() throws {
        stdlibPath = LuaVM.findStdlib()
        var templates: [String] = []
        if let env = getenv("LLMSCRIPT_PATH").map({ String(cString: $0) }), !env.isEmpty {
            templates += env.split(separator: ";").map(String.init).filter { !$0.isEmpty }
        }
        if let lib = stdlibPath { templates += ["\(lib)/?.lua", "\(lib)/?/init.lua"] }
        templates += LuaVM.pluginPathTemplates()  // plugin rock trees (PluginPaths.swift)
        templates += ["./?.lua", "./?/init.lua"]
        lua_getglobal(L, "package")
        lua_getfield(L, -1, "path")
        let old = llms_tostring(L, -1).map { String(cString: $0) } ?? ""
        llms_pop(L, 1)
        lua_pushstring(L, (templates + [old]).joined(separator: ";"))
        lua_setfield(L, -2, "path")
        llms_pop(L, 1)
        configurePluginCPath()
    }

    /// Looks for stdlib-lua/ next to the binary, in ../share/llmscript, or in a parent (build folders).
    static func findStdlib() -> String? {
        func isDir(_ p: String) -> Bool { var st = stat(); return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR }
        if let home = getenv("LLMSCRIPT_HOME").map({ String(cString: $0) }), isDir(home + "/stdlib-lua/llm") {
            return home + "/stdlib-lua"
        }
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        var dir = String(decoding: buf.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for _ in 0..<6 {
            guard let slash = dir.lastIndex(of: "/") else { break }
            dir = String(dir[..<slash])
            for candidate in [dir + "/stdlib-lua", dir + "/share/llmscript/stdlib-lua"] where isDir(candidate + "/llm") {
                return candidate
            }
            if dir.isEmpty { break }
        }
        return nil
    }
}

/// Per-state data reachable from a raw `lua_State` through its extra space.
final class LuaContext {
    /// Metatable identities of the bridged types, by type name.
    var metatables: [String: UnsafeRawPointer] = [:]
    /// Cached identity of the llm.Tensor metatable (hot path).
    var tensorMetatable: UnsafeRawPointer? = nil
    /// File-access rule of a sandboxed state (nil: unrestricted), consulted by ``LuaArgs/path(_:_:)``.
    var paths: PathPolicy? = nil
    /// Settings of a sandboxed state.
    var sandbox: SandboxPolicy? = nil

    static func of(_ L: OpaquePointer) -> LuaContext {
        Unmanaged<LuaContext>.fromOpaque(llms_extraspace(L).pointee!).takeUnretainedValue()
    }
}
