// WorkerStates: the one way llmscript runs Lua in parallel (DESIGN.md §2). A worker state is a LuaVM made
// like its caller's state: the same package.path/cpath, the same sandbox policy (file rules; for pools the
// caller's time-limit deadline, not a fresh one) and, when sandboxed, a child of the caller's memory budget (it
// gets what the caller has left, and its allocations count against the caller too). It `require`s one
// init module and calls that module's functions by (dotted) name on values copied in and out
// (CrossStateValue). `llm.setThreads` is disabled in it: workers share the caller's thread budget, and
// every call runs inside ``BLAS/withWorkerShare(_:_:)`` with the share its owner gives.
// `parallel.pool`'s threads (TaskPool.swift) each make and own one state; the data pipeline's Lua steps
// (LuaWorkerStage) borrow theirs from ``WorkerStates``, which keeps idle states for reuse.
import CLua
import CLuaShim
import Foundation
import LLMCore
import Synchronization

/// How to make the worker states of one caller: read from the calling state when the pool or step is made.
struct WorkerSetup: Sendable {
    /// The module each worker state requires (its functions are what tasks call).
    let module: String
    let path: String
    let cpath: String
    /// The caller's sandbox: worker states get the same policy (recipe code never runs unconfined).
    let sandbox: SandboxPolicy?
    /// The caller's memory budget (sandboxed callers): worker states get child budgets of it.
    let parentBudget: MemoryBudget?
    /// The caller's time-limit deadline (monotonic seconds; 0: none): worker states stop at the same time.
    let deadline: Double

    init(module: String, path: String, cpath: String, sandbox: SandboxPolicy?, parentBudget: MemoryBudget?, deadline: Double = 0) {
        self.module = module; self.path = path; self.cpath = cpath
        self.sandbox = sandbox; self.parentBudget = parentBudget; self.deadline = deadline
    }

    /// The setup for worker states of the state `L` (package paths, sandbox, budget and deadline read now).
    init(module: String, caller L: OpaquePointer) {
        lua_getglobal(L, "package")
        _ = lua_getfield(L, -1, "path"); _ = lua_getfield(L, -2, "cpath")
        path = llms_tostring(L, -2).map { String(cString: $0) } ?? ""
        cpath = llms_tostring(L, -1).map { String(cString: $0) } ?? ""
        llms_pop(L, 3)
        self.module = module
        sandbox = LuaContext.of(L).sandbox
        parentBudget = sandbox == nil ? nil : MemoryBudget.of(L)
        let sb = llms_sandbox_of(L)
        deadline = sb.map { $0.pointee.limit_s > 0 ? $0.pointee.deadline : 0 } ?? 0
    }

    /// A new worker state with the module loaded. Runs on the thread that will use it.
    func makeState() throws -> WorkerState { try WorkerState(self) }
}

/// One worker Lua state and its task runner. Used by one thread at a time (handed over under a lock).
final class WorkerState: @unchecked Sendable {
    let vm: LuaVM
    /// Registry reference of the runner: `runner()` calls take() for the pending call and runs it.
    private let runner: Int32

    /// The Lua side of a worker: disables llm.setThreads, requires the module, and returns the runner.
    static let runnerSource = """
        local modname, take = ...
        llm.setThreads = function()
          error("llm.setThreads: not available in a parallel worker (its pool shares the caller's thread budget)", 2)
        end
        local M = require(modname)
        if type(M) ~= 'table' then
          error(string.format("module '%s' must return a table of functions (it returned %s)", modname, type(M)), 0)
        end
        local type, error, format, gmatch = type, error, string.format, string.gmatch
        local function resolve(name)
          local v = M[name]
          if type(v) == 'function' then return v end
          v = M
          for part in gmatch(name, '[^.]+') do
            if type(v) ~= 'table' then v = nil; break end
            v = v[part]
          end
          if type(v) ~= 'function' then error(format("module '%s' has no function '%s'", modname, name), 0) end
          return v
        end
        local function call(name, ...) return resolve(name)(...) end
        return function() return call(take()) end
        """

    fileprivate init(_ setup: WorkerSetup) throws {
        vm = try LuaVM(strict: true, sandbox: setup.sandbox, parentBudget: setup.parentBudget)
        let L = vm.L
        if setup.deadline > 0, let sb = llms_sandbox_of(L) { sb.pointee.deadline = setup.deadline }
        lua_getglobal(L, "package")
        lua_pushstring(L, setup.path); lua_setfield(L, -2, "path")
        lua_pushstring(L, setup.cpath); lua_setfield(L, -2, "cpath")
        llms_pop(L, 1)
        guard llms_loadbuffer(L, Self.runnerSource, strlen(Self.runnerSource), "=parallel worker") == LUA_OK else {
            throw LuaError.runtime("parallel: cannot load the worker runner: \(vm.popMessage())")
        }
        lua_pushstring(L, setup.module)
        pushBinding(L, takeBinding, key: "parallel.worker.take")
        let status = llms_pcall(L, 2, 1)
        guard status == LUA_OK else {
            throw LuaError.runtime("cannot load module '\(setup.module)' in a worker state: \(Sandbox.message(L, status: status, vm.popMessage()))")
        }
        runner = luaL_ref(L, llms_registryindex())
    }

    /// Calls the module's function `fn` (dotted names walk nested tables) with `args` under a traceback
    /// handler, inside a worker-share section of `share` threads; `read(L, first, count)` reads the results
    /// while they are on the stack. A Lua error comes back as ``LuaError/script(_:)`` with the traceback.
    func call<R>(_ fn: String, _ args: [CrossStateValue], share: Int, read: (OpaquePointer, Int32, Int32) throws -> R) throws -> R {
        let L = vm.L
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        PendingCalls.set(L, (fn, args))
        defer { PendingCalls.set(L, nil) }
        guard lua_checkstack(L, 4) != 0 else { throw LuaError.runtime("parallel: Lua stack overflow in a worker state") }
        _ = lua_rawgeti(L, llms_registryindex(), lua_Integer(runner))
        let status = BLAS.withWorkerShare(share) { llms_pcall(L, 0, LUA_MULTRET) }
        if status != LUA_OK {
            let msg = llms_tostring(L, -1).map { String(cString: $0) } ?? "(error object is not a string)"
            lua_settop(L, top)
            _ = llms_gc_collect(L)  // what the failed call left (a table that hit the memory limit) counts against the caller's budget
            throw LuaError.script(Sandbox.message(L, status: status, msg))
        }
        return try read(L, top + 1, lua_gettop(L) - top)
    }
}

/// The call each worker state is about to run, by state, for the runner's take() (a state runs one at a time).
private enum PendingCalls {
    typealias Call = (fn: String, args: [CrossStateValue])
    private static let calls = Mutex<[UInt: Call]>([:])

    static func set(_ L: OpaquePointer, _ call: Call?) {
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(L)))
        calls.withLock { $0[key] = call }
    }

    static func get(_ L: OpaquePointer) -> Call? {
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(L)))
        return calls.withLock { $0[key] }
    }
}

/// take() -> fn, args...: the pending call's function name and arguments, built in the worker state
/// inside a native call (so the state's memory budget refuses them with a Lua error, never a panic).
/// Reachable only as an upvalue of the runner.
private let takeBinding = LuaBinding("take", "take() -> string, ...", "The pending call of this worker state (internal).") { a in
    guard let call = PendingCalls.get(a.L) else { throw LuaError.runtime("parallel: no call is pending in this state") }
    guard lua_checkstack(a.L, Int32(clamping: call.args.count + 4)) != 0 else {
        throw LuaError.runtime("parallel: too many arguments (\(call.args.count)) for the Lua stack")
    }
    a.push(call.fn)
    for v in call.args { try v.push(a.L) }
    return Int32(call.args.count + 1)
}

/// Idle worker states of one setup, created on demand and reused (a borrowed state is used by one thread).
final class WorkerStates: @unchecked Sendable {
    let setup: WorkerSetup
    private let idle = Mutex<[WorkerState]>([])

    init(_ setup: WorkerSetup) { self.setup = setup }

    /// Runs `body` with an idle state (made now when none is idle), then returns it to the idle list.
    func borrow<R>(_ body: (WorkerState) throws -> R) throws -> R {
        let state = try idle.withLock { $0.popLast() } ?? setup.makeState()
        defer { idle.withLock { $0.append(state) } }
        return try body(state)
    }
}
