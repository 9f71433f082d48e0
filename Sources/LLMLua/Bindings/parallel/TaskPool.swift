// TaskPool: parallel.pool's engine. N threads, each owning one worker state (WorkerStates.swift, made
// when the pool starts: a module that fails to load fails the pool's creation), take tasks from one FIFO
// queue. A task is a call `fn(args...)` of the init module; its outcome (results copied out, or the
// worker's error with its traceback) is kept in the task until the caller takes it. Cancelling a queued
// task removes it (it never runs); a running one finishes and its outcome is dropped. Closing stops
// accepting tasks, lets the queue drain, and ends the threads (their states close on them); `close(wait:)`
// blocks until then. Each task runs in a worker-share section of `share` threads (budget / workers).
import CLua
import CLuaShim
import Foundation
import LLMCore

/// One submitted call and its outcome.
final class PoolTask: @unchecked Sendable {
    /// Where a task stands; read and written under its pool's lock.
    enum Status {
        case queued
        case running
        case finished([CrossStateValue])
        case failed(String)
        case cancelled
    }

    let fn: String
    let args: [CrossStateValue]
    /// How many results are copied back (map: 1, each: 0); the others are left in the worker.
    let maxResults: Int32
    fileprivate(set) var status: Status = .queued
    /// Cancel asked while running: the outcome is dropped when it ends.
    fileprivate var dropOutcome = false

    init(fn: String, args: [CrossStateValue], maxResults: Int32) { self.fn = fn; self.args = args; self.maxResults = maxResults }

    /// True once the task has an outcome (finished, failed or cancelled).
    var isDone: Bool {
        switch status {
        case .queued, .running: return false
        default: return true
        }
    }
}

/// Worker threads with one Lua state each, fed from a FIFO queue.
final class TaskPool: @unchecked Sendable {
    let setup: WorkerSetup
    let workers: Int
    /// Engine threads each task may use (``BLAS/withWorkerShare(_:_:)``).
    let share: Int
    private let cond = NSCondition()
    private var queue: [PoolTask] = []
    private var head = 0
    private var closing = false
    private var alive = 0
    private var ready = 0
    private var startError: String? = nil

    /// Starts `workers` threads and waits until each has made its state.
    /// - Throws: the first state's failure (module not found, error while loading it); the pool is closed then.
    init(_ setup: WorkerSetup, workers: Int, share: Int) throws {
        self.setup = setup; self.workers = workers; self.share = share
        alive = workers  // before any thread starts: a failing one decrements it under the lock
        for i in 0..<workers {
            let thread = Thread { [self] in self.work() }
            thread.name = "llmscript parallel worker \(i + 1)"
            thread.stackSize = 8 << 20
            thread.start()
        }
        cond.lock()
        while ready < workers && startError == nil { cond.wait() }
        let failure = startError
        cond.unlock()
        if let failure {
            close(wait: true)
            throw LuaError.runtime(failure)
        }
    }

    deinit { close(wait: false) }

    /// True once close was asked.
    var isClosed: Bool { cond.withLock { closing } }

    /// Queues a call whose first `maxResults` results are copied back. - Throws: when the pool is closed.
    func submit(_ fn: String, _ args: [CrossStateValue], maxResults: Int32 = .max) throws -> PoolTask {
        let task = PoolTask(fn: fn, args: args, maxResults: maxResults)
        try cond.withLock {
            guard !closing else { throw LuaError.runtime("parallel.Pool: the pool is closed") }
            queue.append(task)
            cond.signal()
        }
        return task
    }

    /// Blocks until `task` has an outcome, or `timeout` seconds passed (then returns false).
    func wait(_ task: PoolTask, timeout: Double? = nil) -> Bool {
        let deadline = timeout.map { Date(timeIntervalSinceNow: $0) }
        cond.lock()
        defer { cond.unlock() }
        while !task.isDone {
            if let deadline {
                if !cond.wait(until: deadline) && !task.isDone { return false }
            } else {
                cond.wait()
            }
        }
        return true
    }

    /// The task's status, read under the lock.
    func status(_ task: PoolTask) -> PoolTask.Status { cond.withLock { task.status } }

    /// Cancels `task`: a queued task is removed and never runs (returns true); a running one finishes and
    /// its outcome is dropped (returns false); a finished one is left as it is (returns false).
    @discardableResult
    func cancel(_ task: PoolTask) -> Bool {
        cond.withLock {
            switch task.status {
            case .queued:
                task.status = .cancelled
                cond.broadcast()
                return true
            case .running:
                task.dropOutcome = true
                return false
            default: return false
            }
        }
    }

    /// Stops accepting tasks; queued ones still run. With `wait`, blocks until every thread has ended.
    func close(wait: Bool) {
        cond.lock()
        closing = true
        cond.broadcast()
        if wait { while alive > 0 { cond.wait() } }
        cond.unlock()
    }

    /// A worker thread: makes its state, then runs tasks until the pool closes and the queue is empty.
    private func work() {
        let state: WorkerState
        do { state = try setup.makeState() } catch {
            cond.withLock {
                if startError == nil { startError = "parallel.pool: \(error)" }
                alive -= 1
                cond.broadcast()
            }
            return
        }
        cond.withLock {
            ready += 1; cond.broadcast()
        }
        while let task = next() {
            let outcome: PoolTask.Status
            do {
                let results = try state.call(task.fn, task.args, share: share) { L, first, count in
                    try CrossStateValue.readAll(L, from: first, count: Swift.min(count, task.maxResults), what: "result")
                }
                outcome = .finished(results)
            } catch LuaError.script(let message) {
                outcome = .failed(message)
            } catch {
                outcome = .failed("\(error)")
            }
            cond.withLock {
                task.status = task.dropOutcome ? .cancelled : outcome
                cond.broadcast()
            }
        }
        _ = consume state  // the state closes here, on its own thread
        cond.withLock {
            alive -= 1; cond.broadcast()
        }
    }

    /// The next queued task (marked running), or nil when the pool is closing and the queue is empty.
    private func next() -> PoolTask? {
        cond.lock()
        defer { cond.unlock() }
        while true {
            while head < queue.count {
                let task = queue[head]
                head += 1
                if head > 64 && head * 2 > queue.count { queue.removeFirst(head); head = 0 }
                if case .queued = task.status {
                    task.status = .running
                    return task
                }
            }
            if closing { return nil }
            cond.wait()
        }
    }
}
