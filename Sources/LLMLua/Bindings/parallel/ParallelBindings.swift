// ParallelBindings: the `parallel` namespace. `parallel.pool{workers=, init=}` starts worker Lua states
// (TaskPool.swift) that each require the init module; `pool:map`, `pool:each` and `pool:submit` call its
// functions by name with arguments copied into the workers, and results copied back (CrossStateValue:
// tensors shared, read-only on the other side). Errors raised in a worker are raised again in the caller,
// with the worker's traceback in the message. `parallel.Future` is a submitted call (`wait`, `cancel`,
// `done`, `cancelled`). Pools never oversubscribe the thread budget: workers <= llm.getThreads(), and each
// task runs with llm.getThreads() // workers engine threads (OpenBLAS on one).
import CLua
import CLuaShim
import LLMCore

/// `parallel.Pool`: a started pool (closing it does not free it; uses after close are errors).
final class ParallelPool: LuaBridged {
    static var luaTypeName: String { "parallel.Pool" }
    let pool: TaskPool
    init(_ pool: TaskPool) { self.pool = pool }
    /// Collected without close(): the queue drains and the threads end on their own (never blocks the GC).
    deinit { pool.close(wait: false) }
}

/// `parallel.Future`: one submitted call.
final class ParallelFuture: LuaBridged {
    static var luaTypeName: String { "parallel.Future" }
    let pool: TaskPool
    let task: PoolTask
    init(_ pool: TaskPool, _ task: PoolTask) { self.pool = pool; self.task = task }
}

enum ParallelLib: LuaLibrary {
    static let namespace = "parallel"

    static let functions: [LuaBinding] = [
        LuaBinding(
            "pool", "parallel.pool{init: string, [workers: int = llm.getThreads()]} -> parallel.Pool",
            "Starts `workers` worker Lua states (threads), each doing require(init) with this state's package path, sandbox and (child) memory budget; workers share the thread budget (at most llm.getThreads() workers, each task runs with llm.getThreads() // workers engine threads and llm.setThreads disabled). Close it with pool:close() or a <close> variable."
        ) { a in
            let o = try a.options(1, allowed: ["init", "workers"])
            guard !a.isNoneOrNil(1) else { throw LuaError.argument(1, "expected an options table {init = 'module.name', [workers = n]}") }
            guard let module = try o.string("init"), !module.isEmpty else {
                throw LuaError.runtime("Invalid 'init': expected the name of the module the workers require, got nil")
            }
            let budget = BLAS.threads
            let workers = try o.integer("workers") ?? budget
            guard workers >= 1 else { throw LuaError.runtime("Invalid 'workers': expected at least 1, got \(workers)") }
            guard workers <= budget else {
                throw LuaError.runtime(
                    "Invalid 'workers': \(workers) workers would oversubscribe the thread budget of \(budget) (llm.getThreads(); raise it with llm.setThreads or --threads)")
            }
            let pool = try TaskPool(WorkerSetup(module: module, caller: a.L), workers: workers, share: Swift.max(1, budget / workers))
            Userdata.push(a.L, ParallelPool(pool), typeName: ParallelPool.luaTypeName)
            return 1
        }
    ]

    static let classes = [
        LuaClass(ParallelPool.luaTypeName, methods: poolMethods, metamethods: poolMeta, methodsPath: ParallelPool.luaTypeName),
        LuaClass(ParallelFuture.luaTypeName, methods: futureMethods, metamethods: futureMeta, methodsPath: ParallelFuture.luaTypeName)
    ]

    /// The open pool at argument 1.
    static func openPool(_ a: LuaArgs) throws -> TaskPool {
        let pool = try a.object(1, ParallelPool.self).pool
        guard !pool.isClosed else { throw LuaError.runtime("parallel.Pool: the pool is closed") }
        return pool
    }

    /// The function name at argument `i`.
    static func functionName(_ a: LuaArgs, _ i: Int32) throws -> String {
        guard a.type(i) == LUA_TSTRING else {
            throw LuaError.argument(i, "expected the name of a function of the init module (a string), got \(a.typeName(i))")
        }
        return try a.string(i)
    }

    /// The items of the list at argument 3, copied (all of them before anything runs).
    static func items(_ a: LuaArgs) throws -> [CrossStateValue] {
        guard a.type(3) == LUA_TTABLE else { throw LuaError.argument(3, "expected a list of items, got \(a.typeName(3))") }
        let n = Int(lua_rawlen(a.L, 3))
        var out: [CrossStateValue] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            _ = lua_rawgeti(a.L, 3, lua_Integer(i + 1))
            out.append(try CrossStateValue.read(a.L, -1, what: "item \(i + 1)"))
            llms_pop(a.L, 1)
        }
        return out
    }

    /// Runs `fn(item)` for every item, waits for all in order; on the first failure cancels the rest and
    /// raises it. Returns each call's first result (none are copied back for `each`).
    static func runAll(_ a: LuaArgs, _ what: String) throws -> [CrossStateValue] {
        let pool = try openPool(a)
        let fn = try functionName(a, 2)
        let keep: Int32 = what == "each" ? 0 : 1
        let tasks = try items(a).map { try pool.submit(fn, [$0], maxResults: keep) }
        var results: [CrossStateValue] = []
        results.reserveCapacity(tasks.count)
        for (i, task) in tasks.enumerated() {
            _ = pool.wait(task)
            switch pool.status(task) {
            case .finished(let r): results.append(r.first ?? .none)
            case .failed(let message):
                for t in tasks[(i + 1)...] { pool.cancel(t) }
                throw LuaError.runtime("parallel: \(what)('\(fn)'): item \(i + 1) failed in a worker: \(message)")
            default:
                for t in tasks[(i + 1)...] { pool.cancel(t) }
                throw LuaError.runtime("parallel: \(what)('\(fn)'): item \(i + 1) was cancelled")
            }
        }
        return results
    }

    static let poolMethods: [LuaBinding] = [
        LuaBinding(
            "map", "pool:map(fn: string, list: table) -> table",
            "Calls the init module's function fn(item) for every item of list in the workers (dotted names such as 'a.b' reach nested tables); returns the first results in list order. Items and results cross by copy (tensors shared, read-only on the other side). A worker error is raised here with its traceback; the remaining items are cancelled."
        ) { a in
            let results = try runAll(a, "map")
            try a.reserve(lua: results.reduce(LuaSize.table) { $0 &+ LuaSize.arraySlot &+ $1.luaBytes })
            lua_createtable(a.L, Int32(clamping: results.count), 0)
            for (i, r) in results.enumerated() {
                try r.push(a.L)
                lua_rawseti(a.L, -2, lua_Integer(i + 1))
            }
            return 1
        },
        LuaBinding(
            "each", "pool:each(fn: string, list: table)",
            "Like pool:map but for the side effects: calls fn(item) for every item in the workers, waits for all; results stay in the workers (nothing is copied back), errors are raised as by map."
        ) { a in
            _ = try runAll(a, "each")
            return 0
        },
        LuaBinding(
            "submit", "pool:submit(fn: string, ...) -> parallel.Future",
            "Queues one call fn(...) of the init module (arguments copied now) and returns its future at once; tasks start in submission order."
        ) { a in
            let pool = try openPool(a)
            let fn = try functionName(a, 2)
            let args = try CrossStateValue.readAll(a.L, from: 3, count: Swift.max(0, a.count - 2), what: "argument")
            let task = try pool.submit(fn, args)
            Userdata.push(a.L, ParallelFuture(pool, task), typeName: ParallelFuture.luaTypeName)
            return 1
        },
        LuaBinding(
            "close", "pool:close()",
            "Stops accepting tasks, lets the queued ones finish, and ends the workers (waits for them). Closing twice is fine; other uses after close are errors. A <close> variable closes the pool the same way; a pool collected unclosed drains its queue in the background."
        ) { a in
            try a.object(1, ParallelPool.self).pool.close(wait: true)
            return 0
        },
        LuaBinding("workers", "pool:workers() -> integer", "The number of worker states (threads).") { a in
            a.push(try a.object(1, ParallelPool.self).pool.workers); return 1
        }
    ]

    static let poolMeta: [LuaBinding] = [
        LuaBinding("__close", "local pool <close> = parallel.pool{...}", "Closes the pool (as pool:close()).") { a in
            try a.object(1, ParallelPool.self).pool.close(wait: true)
            return 0
        },
        LuaBinding("__tostring", "tostring(pool)", "parallel.Pool(init, workers)") { a in
            let pool = try a.object(1, ParallelPool.self).pool
            a.push("parallel.Pool(init='\(pool.setup.module)', workers=\(pool.workers)\(pool.isClosed ? ", closed" : ""))")
            return 1
        }
    ]

    static let futureMethods: [LuaBinding] = [
        LuaBinding(
            "wait", "future:wait([timeout: number]) -> ...",
            "Blocks until the call ends and returns its results (copied; tensors read-only). Raises the worker's error with its traceback, 'cancelled' for a cancelled call, or a timeout error after `timeout` seconds (the call keeps running). Waiting again returns the results again."
        ) { a in
            let f = try a.object(1, ParallelFuture.self)
            let timeout = a.isNoneOrNil(2) ? nil : try a.number(2)
            if let timeout, !(timeout >= 0) { throw LuaError.argument(2, "expected a timeout in seconds >= 0, got \(timeout)") }
            guard f.pool.wait(f.task, timeout: timeout) else {
                throw LuaError.runtime("parallel: '\(f.task.fn)' is not done after \(timeout ?? 0) s (timeout)")
            }
            switch f.pool.status(f.task) {
            case .finished(let results):
                try a.reserve(lua: results.reduce(0) { $0 &+ $1.luaBytes })
                guard lua_checkstack(a.L, Int32(clamping: results.count + 4)) != 0 else {
                    throw LuaError.runtime("parallel: too many results (\(results.count)) for the Lua stack")
                }
                for r in results { try r.push(a.L) }
                return Int32(results.count)
            case .failed(let message): throw LuaError.runtime("parallel: '\(f.task.fn)' failed in a worker: \(message)")
            default: throw LuaError.runtime("parallel: '\(f.task.fn)' was cancelled")
            }
        },
        LuaBinding(
            "cancel", "future:cancel() -> boolean",
            "Cancels the call: a queued call never runs (returns true); a running one finishes but its results are dropped (returns false); a finished one keeps them (returns false). wait() on a cancelled call raises 'cancelled'."
        ) { a in
            let f = try a.object(1, ParallelFuture.self)
            a.push(f.pool.cancel(f.task)); return 1
        },
        LuaBinding("done", "future:done() -> boolean", "True once the call has ended (results, error or cancelled); never blocks.") { a in
            let f = try a.object(1, ParallelFuture.self)
            switch f.pool.status(f.task) {
            case .queued, .running: a.push(false)
            default: a.push(true)
            }
            return 1
        },
        LuaBinding("cancelled", "future:cancelled() -> boolean", "True when the call was cancelled (it did not run, or its results were dropped).") { a in
            let f = try a.object(1, ParallelFuture.self)
            if case .cancelled = f.pool.status(f.task) { a.push(true) } else { a.push(false) }
            return 1
        }
    ]

    static let futureMeta: [LuaBinding] = [
        LuaBinding("__tostring", "tostring(future)", "parallel.Future(fn, state)") { a in
            let f = try a.object(1, ParallelFuture.self)
            let state: String
            switch f.pool.status(f.task) {
            case .queued: state = "queued"
            case .running: state = "running"
            case .finished: state = "finished"
            case .failed: state = "failed"
            case .cancelled: state = "cancelled"
            }
            a.push("parallel.Future('\(f.task.fn)', \(state))")
            return 1
        }
    ]
}
