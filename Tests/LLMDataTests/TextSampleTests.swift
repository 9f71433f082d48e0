// TextSampleTests: TextOps.sample draws k distinct values of 0..<n with memory O(k) when k is small next
// to n (a sparse partial Fisher-Yates), giving exactly the dense shuffle's result for the same generator.
import LLMCore
import Testing
@testable import LLMData

@Suite struct TextSampleTests {
    /// The dense partial Fisher-Yates the sparse path must reproduce.
    static func dense(_ n: Int, _ k: Int, _ g: Generator) -> [Int] {
        var pool = Array(0..<n)
        for i in 0..<min(k, n) { pool.swapAt(i, i + Int(g.integer(below: UInt64(n - i)))) }
        return Array(pool[0..<min(k, n)])
    }

    @Test func sparseDrawsEqualTheDenseShuffle() {
        for (n, k) in [(100, 3), (1000, 10), (1000, 249), (37, 1), (10_000, 2000)] {
            #expect(TextOps.sample(n, k, generator: Generator(seed: 7)) == Self.dense(n, k, Generator(seed: 7)), "n \(n) k \(k)")
        }
    }

    @Test func aFewOfAHugeRangeNeedNoPool() {
        let s = TextOps.sample(1 << 62, 5, generator: Generator(seed: 1))
        #expect(s.count == 5 && Set(s).count == 5 && s.allSatisfy { $0 >= 0 && $0 < 1 << 62 })
    }
}
