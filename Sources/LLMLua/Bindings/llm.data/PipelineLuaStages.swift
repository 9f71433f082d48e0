// Lua steps of a pipeline. `LuaFunctionStage`: a Lua function of the calling state, run as an
// OrderedDocumentStage (calling thread, input order) while the function sits on the stack during
// p:run(). `LuaWorkerStage`: a module function run in worker Lua states, one LuaVM per concurrent
// worker (created on demand, reused), each `require`-ing the module with the caller's package paths
// (DESIGN.md §2). Both speak the same protocol: doc table in; doc table, string (new text) or nil(, reason) out.
import CLua
import CLuaShim
import Foundation
import LLMCore
import LLMData

/// A Lua function of the calling state as a pipeline step.
final class LuaFunctionStage: OrderedDocumentStage {
    let name: String
    let L: OpaquePointer
    let index: Int32

    /// `index` must stay valid (an absolute stack slot holding the function) while the stage runs.
    init(L: OpaquePointer, index: Int32, name: String) { self.L = L; self.index = index; self.name = name }

    func process(_ doc: Document) throws -> StageOutcome {
        try PipelineBindings.callStep(L, name: name, doc: doc) { lua_pushvalue(L, index) }
    }
}

/// A function `module.fn` run in worker Lua states on the pipeline's threads.
final class LuaWorkerStage: DocumentStage, @unchecked Sendable {
    let name: String
    let module: String
    let fn: String
    let path: String
    let cpath: String
    /// The calling state's sandbox: worker states get the same policy (recipe code never runs unconfined).
    let sandbox: SandboxPolicy?
    /// The calling state's memory budget: worker states get child budgets of it (what it has left, charged
    /// to it too), so N workers cannot take N times the limit.
    let parentBudget: MemoryBudget?
    private let lock = NSLock()
    private var idle: [LuaVM] = []
    static let registryKey = "llmscript.pipeline.step"

    init(module: String, fn: String, name: String, path: String, cpath: String, sandbox: SandboxPolicy?) {
        self.module = module; self.fn = fn; self.name = name; self.path = path; self.cpath = cpath; self.sandbox = sandbox
        parentBudget = sandbox == nil ? nil : MemoryAccounts.current as? MemoryBudget  // set by the dispatcher for the caller
    }

    func process(_ doc: Document) throws -> StageOutcome {
        let vm = try checkout()
        defer { lock.lock(); idle.append(vm); lock.unlock() }
        let L = vm.L
        return try PipelineBindings.callStep(L, name: name, doc: doc) {
            _ = lua_getfield(L, llms_registryindex(), LuaWorkerStage.registryKey)
        }
    }

    /// An idle worker state, or a new one with the module loaded.
    private func checkout() throws -> LuaVM {
        lock.lock()
        if let vm = idle.popLast() { lock.unlock(); return vm }
        lock.unlock()
        let vm = try LuaVM(strict: true, sandbox: sandbox, parentBudget: parentBudget)
        let L = vm.L
        lua_getglobal(L, "package")
        lua_pushstring(L, path); lua_setfield(L, -2, "path")
        lua_pushstring(L, cpath); lua_setfield(L, -2, "cpath")
        llms_pop(L, 1)
        lua_getglobal(L, "require")
        lua_pushstring(L, module)
        do { try vm.protectedCall(nargs: 1, nresults: 1) } catch {
            throw LuaError.runtime("\(name): cannot load module '\(module)' in a worker state: \(error)")
        }
        let t = lua_type(L, -1) == LUA_TTABLE ? lua_getfield(L, -1, fn) : LUA_TNIL
        guard t == LUA_TFUNCTION else {
            lua_settop(L, 0)
            throw LuaError.runtime("\(name): module '\(module)' has no function '\(fn)' in a worker state")
        }
        lua_setfield(L, llms_registryindex(), Self.registryKey)
        lua_settop(L, 0)
        return vm
    }
}

/// Lua-visible wrapper of a Swift stage (parallel or ordered): `llm.data.Stage`.
public final class StageBox: LuaBridged {
    public static var luaTypeName: String { "llm.data.Stage" }
    /// The wrapped step.
    public let step: PipelineStep
    public init(_ step: PipelineStep) { self.step = step }
}
