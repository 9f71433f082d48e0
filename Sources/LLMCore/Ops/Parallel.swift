// Parallel: the engine's threading policy. Kernels that split work across threads (attention over
// batch×head pairs) use as many workers as the BLAS thread budget (llm.setThreads, default: cores), and
// run BLAS single-threaded inside each worker, so the cores are never oversubscribed; the budget is
// restored afterwards. Elementwise and row loops split over the same number of workers above a grain
// size (forRanges). Chunks are contiguous index ranges; bodies write disjoint memory.
import Dispatch

/// The engine's loop parallelism (public so optimizers can split their fused loops the same way).
public enum Parallel {
    /// Workers used for `n` independent items: min(n, BLAS thread budget), at least 1.
    static func workers(_ n: Int) -> Int { Swift.max(1, Swift.min(n, BLAS.threads)) }

    /// Calls `body(worker, range)` for `workers(n)` contiguous chunks of 0..<n, concurrently when more
    /// than one; with `blasInside`, BLAS runs on one thread per worker for the duration.
    static func forEachChunk(_ n: Int, blasInside: Bool, _ body: (Int, Range<Int>) -> Void) {
        let w = workers(n)
        if w <= 1 { body(0, 0..<n); return }
        withoutActuallyEscaping(body) { fn in
            let box = UncheckedBox(fn)
            let run = { DispatchQueue.concurrentPerform(iterations: w) { i in box.value(i, (i * n / w)..<((i + 1) * n / w)) } }
            if blasInside { BLAS.withSingleThreaded(run) } else { run() }
        }
    }
}

extension Parallel {
    /// Elements below which a loop stays on the calling thread (dispatch costs a few µs).
    static let grain = 1 << 15

    /// Calls `body(range)` over 0..<n split into contiguous chunks, one per worker, when n·cost is at
    /// least ``grain`` (cost: relative work per item, e.g. the row length for row loops); else inline.
    public static func forRanges(_ n: Int, cost: Int = 1, _ body: (Range<Int>) -> Void) {
        let w = Swift.min(Swift.max(1, BLAS.threads), Swift.max(1, (n * Swift.max(cost, 1)) / grain), Swift.max(n, 1))
        if w <= 1 { body(0..<n); return }
        withoutActuallyEscaping(body) { fn in
            let box = UncheckedBox(fn)
            DispatchQueue.concurrentPerform(iterations: w) { i in box.value((i * n / w)..<((i + 1) * n / w)) }
        }
    }

    /// Like ``forRanges(_:cost:_:)`` but tells the body its worker index and returns the worker count
    /// first through `prepare` (for per-worker partial sums).
    public static func forRangesIndexed(_ n: Int, cost: Int = 1, prepare: (Int) -> Void, _ body: (Int, Range<Int>) -> Void) {
        let w = Swift.min(Swift.max(1, BLAS.threads), Swift.max(1, (n * Swift.max(cost, 1)) / grain), Swift.max(n, 1))
        prepare(w)
        if w <= 1 { body(0, 0..<n); return }
        withoutActuallyEscaping(body) { fn in
            let box = UncheckedBox(fn)
            DispatchQueue.concurrentPerform(iterations: w) { i in box.value(i, (i * n / w)..<((i + 1) * n / w)) }
        }
    }
}

/// Carries a non-Sendable value into concurrentPerform (the callers hand each worker disjoint memory).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}
