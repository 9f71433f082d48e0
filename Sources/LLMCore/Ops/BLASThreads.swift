// BLASThreads: the process's thread budget and OpenBLAS's thread count. The budget is what the user set
// (`llm.setThreads`, `--threads`), or OpenBLAS's own count until then; it sizes the engine's workers too,
// so OpenBLAS and the engine never run more busy threads than it. Parallel kernels whose workers each call
// BLAS (attention's batch×head pairs) run OpenBLAS single-threaded for their duration through
// ``BLAS/withSingleThreaded(_:)``: concurrent and nested sections share one count, and OpenBLAS gets the
// budget back when the last one ends (each caller saving and restoring the current count could leave it
// at 1 when two sections overlapped). Worker threads that share the budget (parallel.pool's workers, the
// pipeline's Lua steps) run their tasks through ``BLAS/withWorkerShare(_:_:)``: a single-threaded section
// whose thread also sees its share as `threads`, so the engine's loops on that thread split only that many
// ways and workers × threads stays within the budget.
import CBLAS
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// BLAS thread control (OpenBLAS) and the engine's thread budget.
public enum BLAS {
    /// The budget; 0 until first read or set.
    private static let budget = Atomic<Int>(0)
    /// How many single-threaded sections are running now.
    private static let singleThreadedSections = Mutex<Int>(0)

    /// Sets the thread budget (OpenBLAS's count, and the engine's workers).
    ///
    /// In Lua: `llm.setThreads(2)`.
    public static func setThreads(_ n: Int) {
        let n = Swift.max(1, n)
        singleThreadedSections.withLock { depth in
            budget.store(n, ordering: .relaxed)
            if depth == 0 { openblas_set_num_threads(Int32(clamping: n)) }
        }
    }

    /// The thread budget; on a thread inside ``withWorkerShare(_:_:)``, that worker's share of it.
    public static var threads: Int {
        let b = budgetThreads, share = Int(bitPattern: pthread_getspecific(shareKey))
        return share > 0 ? Swift.min(share, b) : b
    }

    /// The calling thread's share of the budget (0: none set), kept in a pthread key.
    private static let shareKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// The process's budget, whatever thread asks.
    private static var budgetThreads: Int {
        let b = budget.load(ordering: .relaxed)
        if b > 0 { return b }
        let n = Swift.max(1, Int(openblas_get_num_threads()))
        _ = budget.compareExchange(expected: 0, desired: n, ordering: .relaxed)
        return budget.load(ordering: .relaxed)
    }

    /// The number of threads OpenBLAS itself uses right now (1 inside single-threaded sections).
    public static var activeThreads: Int { Int(openblas_get_num_threads()) }

    /// Runs `body` with OpenBLAS on one thread (for workers that each call BLAS).
    static func withSingleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        let budget = budgetThreads
        singleThreadedSections.withLock { depth in
            if depth == 0 { openblas_set_num_threads(1) }
            depth += 1
        }
        defer {
            singleThreadedSections.withLock { depth in
                depth -= 1
                if depth == 0 { openblas_set_num_threads(Int32(clamping: Swift.max(budget, self.budgetThreads))) }
            }
        }
        return try body()
    }

    /// Runs `body` as one of several workers sharing the budget: OpenBLAS on one thread for its duration
    /// (a single-threaded section), and ``threads`` on this thread reports `share` (at least 1, at most the
    /// budget), so engine loops started here split `share` ways. Nested calls keep the innermost share.
    ///
    /// Used by `parallel.pool` (share = budget / workers) and the pipeline's Lua steps (share 1).
    public static func withWorkerShare<R>(_ share: Int, _ body: () throws -> R) rethrows -> R {
        let saved = pthread_getspecific(shareKey)
        pthread_setspecific(shareKey, UnsafeRawPointer(bitPattern: Swift.max(1, share)))
        defer { pthread_setspecific(shareKey, saved) }
        return try withSingleThreaded(body)
    }
}
