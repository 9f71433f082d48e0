// Batcher: random training batches of contiguous windows (nanoGPT's get_batch). Each of the B window
// starts is drawn uniformly from [0, N - T) by a private seeded Generator, so the same seed gives the
// same batches. `state` (seed, step, generator words, token count) can be saved and restored, so a
// resumed run draws exactly the batches the uninterrupted run would have drawn.
import LLMCore

/// Seeded random windows of `blockSize + 1` tokens, as (x, y) batches.
///
/// ```swift
/// let batcher = try Batcher(tokens: train, batchSize: 8, blockSize: 64, seed: 1337)
/// let b = try batcher.next()            // b.x, b.y: (8, 64) int64
/// let saved = batcher.state             // store in a checkpoint
/// try batcher.restore(saved)            // later: continue exactly
/// ```
public final class Batcher: @unchecked Sendable {
    /// The saved position of a batcher: plain integers, so checkpoints and Lua tables can hold it.
    public struct State: Equatable, Sendable {
        /// The seed the batcher started from.
        public var seed: UInt64
        /// Batches drawn so far.
        public var step: Int
        /// The generator's words (see ``Generator/state``).
        public var rng: [UInt64]
        /// Number of tokens of the data it was drawing from (checked on restore).
        public var tokens: Int

        public init(seed: UInt64, step: Int, rng: [UInt64], tokens: Int) {
            self.seed = seed; self.step = step; self.rng = rng; self.tokens = tokens
        }
    }

    public let batchSize: Int
    public let blockSize: Int
    public private(set) var seed: UInt64
    /// Batches drawn so far.
    public private(set) var step: Int = 0
    private let source: TokenSource
    private let generator: Generator

    /// A batcher over the 1-D integer tensor `tokens`.
    /// - Throws: ``DataError/batch(_:)`` for non-positive sizes or data shorter than `blockSize + 1`.
    public init(tokens: Tensor, batchSize: Int, blockSize: Int, seed: UInt64) throws {
        source = try TokenSource(tokens, what: "Batcher")
        try source.check(batchSize: batchSize, blockSize: blockSize, what: "Batcher")
        self.batchSize = batchSize
        self.blockSize = blockSize
        self.seed = seed
        generator = Generator(seed: seed)
    }

    /// Number of tokens drawn from.
    public var tokenCount: Int { source.count }

    /// The next random batch.
    public func next() throws -> Batch {
        let starts = try Windows.randomStarts(count: batchSize, tokens: source.count, blockSize: blockSize, generator: generator)
        step += 1
        return try source.gather(starts, blockSize: blockSize)
    }

    /// The current position, for checkpoints.
    public var state: State { State(seed: seed, step: step, rng: generator.state, tokens: source.count) }

    /// Continues from a saved position.
    /// - Throws: ``DataError/batch(_:)`` when the state is malformed or was saved for data of another length.
    public func restore(_ s: State) throws {
        guard s.rng.count == 6, s.rng[0...3].contains(where: { $0 != 0 }) else {
            throw DataError.batch("Batcher:setState: 'rng' must hold the 6 generator words saved by state()")
        }
        guard s.step >= 0 else { throw DataError.batch("Batcher:setState: 'step' must be non-negative, got \(s.step)") }
        guard s.tokens == source.count else {
            throw DataError.batch("Batcher:setState: the state was saved for \(s.tokens) tokens, this batcher has \(source.count)")
        }
        seed = s.seed
        step = s.step
        generator.state = s.rng
    }
}

/// Stateless window helpers.
public enum Windows {
    /// One random batch of windows from `tokens`, drawn with `generator` (advancing it).
    ///
    /// ```swift
    /// let b = try Windows.random(ids, batchSize: 4, blockSize: 8, generator: Generator(seed: 1))
    /// ```
    public static func random(_ tokens: Tensor, batchSize: Int, blockSize: Int, generator: Generator) throws -> Batch {
        let src = try TokenSource(tokens, what: "randomWindows")
        try src.check(batchSize: batchSize, blockSize: blockSize, what: "randomWindows")
        let starts = try randomStarts(count: batchSize, tokens: src.count, blockSize: blockSize, generator: generator)
        return try src.gather(starts, blockSize: blockSize)
    }

    /// `count` window starts uniform in [0, tokens - blockSize).
    static func randomStarts(count: Int, tokens: Int, blockSize: Int, generator: Generator) throws -> [Int] {
        let span = tokens - blockSize
        guard span > 0 else { throw DataError.batch("randomWindows: not enough tokens for one window") }
        return (0..<count).map { _ in Int(generator.integer(below: UInt64(span))) }
    }
}
