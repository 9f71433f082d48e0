// Splits and windows: split sizes and contents, batch shapes, y = x shifted by one, windows in bounds,
// seeded determinism, exact resume from a saved state, sequential evaluation windows, and errors.
import Testing
import LLMCore
@testable import LLMData

private func rows(_ t: Tensor) -> [[Int64]] {
    var flat: [Int64] = []
    t.forEachOffset { flat.append(t.loadInteger(at: $0)) }
    let w = t.shape[1]
    return stride(from: 0, to: flat.count, by: w).map { Array(flat[$0..<$0 + w]) }
}

/// ids 0..<n as int64 (so a token's value is its position).
private func iota(_ n: Int) throws -> Tensor { try Tensor.from((0..<n).map(Double.init), shape: [n], dtype: .int64) }

@Test func splitIsContiguous() throws {
    let (train, val) = try DataSplit.split(try iota(100), valFraction: 0.1)
    #expect(train.shape == [90] && val.shape == [10])
    #expect(train.loadInteger(at: train.offset) == 0 && val.loadInteger(at: val.offset) == 90)
    let (all, none) = try DataSplit.split(try iota(5), valFraction: 0)
    #expect(all.count == 5 && none.count == 0)
    #expect(throws: DataError.self) { try DataSplit.split(try iota(5), valFraction: 1) }
    #expect(throws: DataError.self) { try DataSplit.split(try iota(5), valFraction: .nan) }
    #expect(throws: DataError.self) { try DataSplit.split(try Tensor.zeros([2, 2], dtype: .int64), valFraction: 0.1) }
}

@Test func randomWindowsShapesShiftAndBounds() throws {
    let n = 50, T = 8
    let gen = Generator(seed: 7)
    for _ in 0..<50 {
        let b = try Windows.random(try iota(n), batchSize: 4, blockSize: T, generator: gen)
        #expect(b.x.shape == [4, T] && b.y.shape == [4, T] && b.x.dtype == .int64)
        for (x, y) in zip(rows(b.x), rows(b.y)) {
            #expect(x.indices.allSatisfy { x[$0] + 1 == y[$0] })  // y is x shifted (values are positions)
            #expect(x.allSatisfy { $0 >= 0 } && y.allSatisfy { $0 < n })
            #expect(zip(x, x.dropFirst()).allSatisfy { $0 + 1 == $1 })  // contiguous
        }
    }
    // the exact fit: n = T + 1 has one window
    let one = try Windows.random(try iota(T + 1), batchSize: 2, blockSize: T, generator: gen)
    #expect(rows(one.x) == [Array(0..<Int64(T)), Array(0..<Int64(T))])
    #expect(throws: DataError.batch("randomWindows: the data has 8 tokens, fewer than blockSize + 1 = 9; use a smaller blockSize or more text")) {
        try Windows.random(try iota(T), batchSize: 1, blockSize: T, generator: gen)
    }
    #expect(throws: DataError.self) { try Windows.random(try iota(n), batchSize: 0, blockSize: T, generator: gen) }
    #expect(throws: DataError.self) { try Windows.random(try Tensor.zeros([n]), batchSize: 1, blockSize: T, generator: gen) }
}

@Test func batcherIsSeededAndResumable() throws {
    let data = try iota(1000)
    let a = try Batcher(tokens: data, batchSize: 3, blockSize: 16, seed: 42)
    let b = try Batcher(tokens: data, batchSize: 3, blockSize: 16, seed: 42)
    let c = try Batcher(tokens: data, batchSize: 3, blockSize: 16, seed: 43)
    var differs = false
    for _ in 0..<5 {
        let (ba, bb, bc) = (try a.next(), try b.next(), try c.next())
        #expect(rows(ba.x) == rows(bb.x) && rows(ba.y) == rows(bb.y))
        differs = differs || rows(ba.x) != rows(bc.x)
    }
    #expect(differs)
    let saved = a.state
    #expect(saved.step == 5 && saved.tokens == 1000 && saved.seed == 42)
    let expected = try (0..<4).map { _ in rows(try a.next().x) }
    let resumed = try Batcher(tokens: data, batchSize: 3, blockSize: 16, seed: 0)
    try resumed.restore(saved)
    #expect(try (0..<4).map { _ in rows(try resumed.next().x) } == expected)
    #expect(resumed.step == 9 && resumed.seed == 42)
    let other = try Batcher(tokens: try iota(999), batchSize: 3, blockSize: 16, seed: 42)
    #expect(throws: DataError.self) { try other.restore(saved) }
    var bad = saved; bad.rng = [0, 0, 0, 0, 0, 0]
    #expect(throws: DataError.self) { try resumed.restore(bad) }
}

@Test func evalWindowsCoverTheDataOnce() throws {
    let w = try EvalWindows(tokens: try iota(23), batchSize: 2, blockSize: 5)
    #expect(w.windowCount == 4 && w.batchCount == 2)  // starts 0, 5, 10, 15 (each needs 6 tokens)
    var xs: [[Int64]] = [], ys: [[Int64]] = []
    while let b = try w.nextBatch() { xs += rows(b.x); ys += rows(b.y) }
    #expect(xs.map { $0[0] } == [0, 5, 10, 15] && ys.last?.last == 20)
    #expect(try w.nextBatch() == nil)  // Batch? compared to nil
    w.reset()
    #expect(try w.nextBatch()?.x.shape == [2, 5])
    let partial = try EvalWindows(tokens: try iota(23), batchSize: 3, blockSize: 5, start: 2)
    #expect(partial.windowCount == 4)
    #expect(try partial.batch(at: 1)?.x.shape == [1, 5])
    #expect(throws: DataError.self) { try EvalWindows(tokens: try iota(5), batchSize: 1, blockSize: 5) }
    #expect(throws: DataError.self) { try EvalWindows(tokens: try iota(50), batchSize: 1, blockSize: 5, start: 50) }
}
