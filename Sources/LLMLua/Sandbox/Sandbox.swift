// Sandbox: the settings of an untrusted run (`llmscript --sandbox`) and their installation in a state.
// The state is created with a counting allocator (memory limit, shared with the tensor storages), the
// Lua side is locked down by stdlib-lua/llm/sandbox.lua (no os.execute/io.popen/debug/string.dump/C
// modules, text-only loading), Lua's io.open/io.lines/io.input/io.output/os.remove/os.rename/loadfile/
// dofile/require open files through CLuaShim/llms_fs.c, Swift readers and writers through LLMIO under the
// state's FilePolicy (both resolve beneath the allowed folders' descriptors), bindings that take paths
// check them early through ``LuaArgs/path(_:_:)``, and a count hook enforces the time limit (C shim).
import CLua
import CLuaShim
import LLMCore
import LLMIO

/// What a sandboxed script may touch. See README "Running an untrusted recipe".
///
/// ```swift
/// let vm = try LuaVM(strict: true, sandbox: SandboxPolicy(readDirs: ["data"], writeDirs: ["out"],
///                                                          memoryLimit: 512 << 20, timeLimit: 60))
/// ```
public struct SandboxPolicy: Sendable, Equatable {
    /// Folders the script may read (the recipe's folder belongs here).
    public var readDirs: [String]
    /// Folders the script may write (and read): the run's output folders (created when missing).
    public var writeDirs: [String]
    /// Folder of the recipe: readable, and searched by `require`.
    public var recipeDir: String?
    /// Limit on the Lua heap plus live tensor bytes; nil for none.
    public var memoryLimit: Int?
    /// Limit on the run's wall-clock time in seconds, from the creation of the state; nil for none.
    public var timeLimit: Double?
    /// Whether `os.exit` works (the CLI allows it: the process is the recipe's own; embedders don't).
    public var allowExit: Bool

    public init(
        readDirs: [String] = [], writeDirs: [String] = [], recipeDir: String? = nil,
        memoryLimit: Int? = nil, timeLimit: Double? = nil, allowExit: Bool = false
    ) {
        self.readDirs = readDirs; self.writeDirs = writeDirs; self.recipeDir = recipeDir
        self.memoryLimit = memoryLimit; self.timeLimit = timeLimit; self.allowExit = allowExit
    }

    /// Parses a size such as `512M`, `2G`, `64k`, `1.5G` or `1048576` (binary units; a trailing `B`/`iB`
    /// is accepted). Nil when malformed or not positive.
    public static func parseSize(_ text: String) -> Int? {
        var s = text.uppercased()
        if s.hasSuffix("IB") { s.removeLast(2) } else if s.hasSuffix("B") { s.removeLast() }
        var scale = 1.0
        if let last = s.last, let p = ["K": 10.0, "M": 20.0, "G": 30.0, "T": 40.0][String(last)] {
            scale = Double(1 << Int(p)); s.removeLast()
        }
        guard let v = Double(s), v.isFinite, v > 0 else { return nil }
        let bytes = v * scale
        guard bytes >= 1, bytes < 9e18 else { return nil }
        return Int(bytes)
    }
}

enum Sandbox {
    /// Locks down `vm` (already opened) with `policy`: path rules, then the Lua-side lockdown.
    static func install(_ vm: LuaVM, _ policy: SandboxPolicy) throws {
        let L = vm.L
        var folders =
            policy.readDirs.map { FilePolicy.Folder($0) }
            + policy.writeDirs.map { FilePolicy.Folder($0, writable: true, create: true) }
        if let r = policy.recipeDir { folders.append(FilePolicy.Folder(r)) }
        if let lib = vm.stdlibPath { folders.append(.hidden(lib)) }  // the engine's own Lua modules (help reads them)
        let files: FilePolicy
        files = try FilePolicy(folders)
        vm.context.paths = PathPolicy(files: files)
        vm.context.sandbox = policy

        lua_getglobal(L, "require")
        lua_pushstring(L, "llm.sandbox")
        try vm.protectedCall(nargs: 1, nresults: 1)  // the one-shot installer
        lua_createtable(L, 0, 8)
        llms_push_fs(L, UnsafeMutableRawPointer(files.raw)); lua_setfield(L, -2, "fs")  // kept alive by vm.context.paths
        llms_pushcfunction(L, llms_sandbox_status); lua_setfield(L, -2, "status")
        lua_pushboolean(L, policy.allowExit ? 1 : 0); lua_setfield(L, -2, "allowExit")
        if let dir = policy.recipeDir {
            let d = dir.hasSuffix("/") ? dir : dir + "/"
            lua_pushstring(L, "\(d)?.lua;\(d)?/init.lua"); lua_setfield(L, -2, "recipePath")
        }
        // engine modules are found through a path the recipe does not see; plugin trees are not readable
        let engine = vm.stdlibPath.map { ["\($0)/?.lua", "\($0)/?/init.lua"] } ?? []
        lua_pushstring(L, engine.joined(separator: ";")); lua_setfield(L, -2, "enginePath")
        if let lib = vm.stdlibPath { lua_pushstring(L, lib); lua_setfield(L, -2, "engineDir") }
        lua_pushstring(L, (engine + LuaVM.pluginPathTemplates()).joined(separator: ";")); lua_setfield(L, -2, "hiddenPath")
        try vm.protectedCall(nargs: 1, nresults: 0)
    }

    /// Runs a binding call of the sandboxed state `L` under its file policy: every open, map, rename and
    /// removal of the engine's readers and writers during the call resolves beneath the allowed folders.
    static func withFiles<R>(_ L: OpaquePointer, _ body: () throws -> R) throws -> R {
        guard let files = LuaContext.of(L).paths?.files else { return try body() }
        return try FileAccess.with(files, body)
    }

    /// Bindings that take paths and check them through ``LuaArgs/path(_:_:)`` (keys as registered).
    static let pathChecked: Set<String> = [
        "llm.save", "llm.load", "llm.makeDirs", "llm.checkpoint.write", "llm.checkpoint.read", "llm.checkpoint.list",
        "llm.checkpoint.latest", "llm.checkpoint.prune", "llm.checkpoint.lock", "llm.data.readText", "llm.data.fortunes",
        "llm.data.ShardWriter", "llm.data.ShardLoader", "llm.data.readers.text", "llm.data.readers.jsonl",
        "llm.data.writers.jsonl", "llm.data.pipeline", "llm.wordnet.open", "llm.wordnet.available",
        "llm.data.BPETokenizer.fromFile", "llm.data.BPETokenizer.save"
    ]
    /// Bindings that cannot run sandboxed at all, with the reason.
    static let disabled: [String: String] = Dictionary(
        uniqueKeysWithValues: ["init", "initialized", "rank", "size", "barrier", "broadcast", "allReduce", "allGather", "split"].map {
            ("dist.\($0)", "MPI is not available to sandboxed scripts")
        })

    /// Fail closed: a binding whose signature has a path-like parameter (`path:`, `dir:`, `folder:`,
    /// `file:`, `parent:` ...) and is not in ``pathChecked`` is refused in a sandboxed state, so a new
    /// binding that opens files cannot bypass the path rules by forgetting to check them.
    static func denial(key: String, signature: String) -> String? {
        let name = key.isEmpty ? signature.prefix { $0 != "(" }.description : key
        if let why = disabled[key] { return "sandbox: \(name) is disabled (\(why))" }
        if pathChecked.contains(key) { return nil }
        guard let open = signature.firstIndex(of: "("), let close = signature.lastIndex(of: ")"), open < close else { return nil }
        let params = signature[signature.index(after: open)..<close].lowercased()
        let pathLike = ["path", "paths", "dir", "dirs", "directory", "folder", "file", "filename", "parent", "root"]
        var word = "", words: [String] = []
        for ch in params + " " {
            if ch.isLetter || ch.isNumber || ch == "_" { word.append(ch); continue }
            if ch == ":" && !word.isEmpty { words.append(word) }
            word = ""
        }
        guard words.contains(where: { pathLike.contains($0) }) else { return nil }
        return "sandbox: \(name) is not available (it takes a path that the sandbox does not check)"
    }

    /// The message for an error status of a sandboxed call: allocation failures caused by the limit
    /// name it.
    static func message(_ L: OpaquePointer, status: Int32, _ msg: String) -> String {
        guard status == LUA_ERRMEM, let sb = llms_sandbox_of(L), sb.pointee.mem_hit != 0 else { return msg }
        return "sandbox: memory limit of \(sb.pointee.limit) bytes exceeded (\(msg))"
    }
}
