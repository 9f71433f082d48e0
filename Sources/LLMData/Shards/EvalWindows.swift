// EvalWindows: deterministic, non-overlapping windows for evaluation. Window k starts at
// start + k*T and holds T+1 tokens (its last token is the next window's first), so every token after
// `start` is predicted once. Windows are grouped into batches of up to B rows; the last batch may be
// smaller. A cursor (`nextBatch`, `reset`) serves iteration; `batch(at:)` gives random access.
import LLMCore

/// Sequential (x, y) batches over a token tensor, for validation loss.
///
/// ```swift
/// let windows = try EvalWindows(tokens: val, batchSize: 8, blockSize: 64)
/// while let b = try windows.nextBatch() { /* loss over b.x, b.y */ }
/// ```
public final class EvalWindows: @unchecked Sendable {
    public let batchSize: Int
    public let blockSize: Int
    /// Token index of the first window.
    public let start: Int
    /// Number of windows.
    public let windowCount: Int
    /// Index of the batch `nextBatch()` returns next.
    public private(set) var position = 0
    private let source: TokenSource

    /// Windows over the 1-D integer tensor `tokens` from token `start` (0-based).
    /// - Throws: ``DataError/batch(_:)`` for bad sizes, a bad start, or fewer than `blockSize + 1` tokens after `start`.
    public init(tokens: Tensor, batchSize: Int, blockSize: Int, start: Int = 0) throws {
        source = try TokenSource(tokens, what: "evalWindows")
        guard start >= 0 && start < source.count else {
            throw DataError.batch("Invalid 'start': expected a token index in 0..\(source.count - 1), got \(start)")
        }
        try source.check(batchSize: batchSize, blockSize: blockSize, what: "evalWindows", available: source.count - start)
        self.batchSize = batchSize
        self.blockSize = blockSize
        self.start = start
        windowCount = (source.count - 1 - start) / blockSize
    }

    /// Number of batches (the last may hold fewer than `batchSize` windows).
    public var batchCount: Int { (windowCount + batchSize - 1) / batchSize }

    /// Batch `i` (0-based), or nil past the end.
    public func batch(at i: Int) throws -> Batch? {
        guard i >= 0 && i < batchCount else { return nil }
        let first = i * batchSize
        let rows = min(batchSize, windowCount - first)
        let starts = (0..<rows).map { start + (first + $0) * blockSize }
        return try source.gather(starts, blockSize: blockSize)
    }

    /// The next batch of the pass, or nil at the end (then `reset()` starts over).
    public func nextBatch() throws -> Batch? {
        guard let b = try batch(at: position) else { return nil }
        position += 1
        return b
    }

    /// Starts the pass over.
    public func reset() { position = 0 }
}
