// RandomTests: the seeded generator behind every random op. Same seed -> same tensors, different seeds
// differ, the normal and uniform distributions have the right moments and ranges, and the saved state
// (including the cached second Box–Muller value) reproduces the sequence, as checkpoints need.
// Every test uses its own Generator, never `Generator.shared`, so tests can run in parallel.
import Testing
@testable import LLMCore

@Suite("Random numbers")
struct RandomTests {
    @Test func sameSeedSameValues() throws {
        let a = try Tensor.randn([4, 3], generator: Generator(seed: 42))
        let b = try Tensor.randn([4, 3], generator: Generator(seed: 42))
        #expect(a.toFloats() == b.toFloats())
        let u = try Tensor.rand([5], generator: Generator(seed: 7))
        let v = try Tensor.rand([5], generator: Generator(seed: 7))
        #expect(u.toFloats() == v.toFloats())
        let g = Generator(seed: 3)
        let first = (0..<4).map { _ in g.next() }
        g.seed(3)
        #expect((0..<4).map { _ in g.next() } == first)
    }

    @Test func differentSeedsDiffer() throws {
        let a = try Tensor.randn([8], generator: Generator(seed: 1)).toFloats()
        let b = try Tensor.randn([8], generator: Generator(seed: 2)).toFloats()
        #expect(a != b)
        #expect(zip(a, b).filter { $0 == $1 }.count == 0)
        #expect(Generator(seed: 0).next() != Generator(seed: 1).next())
    }

    @Test("randn: mean ≈ 0, std ≈ 1 over 10k samples; mean/std options apply")
    func normalMoments() throws {
        let x = try Tensor.randn([10_000], generator: Generator(seed: 123)).toDoubles()
        let mean = x.reduce(0, +) / Double(x.count)
        let std = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count - 1)).squareRoot()
        #expect(Swift.abs(mean) < 0.04)  // 4 standard errors
        #expect(Swift.abs(std - 1) < 0.03)
        #expect(x.filter { Swift.abs($0) > 1.96 }.count > 350 && x.filter { Swift.abs($0) > 1.96 }.count < 650)  // ~5%
        let y = try Tensor.randn([10_000], mean: 5, std: 0.5, generator: Generator(seed: 9)).toDoubles()
        let my = y.reduce(0, +) / Double(y.count)
        #expect(Swift.abs(my - 5) < 0.02)
    }

    @Test func uniformRange() throws {
        let x = try Tensor.rand([2_000], low: -2, high: 3, generator: Generator(seed: 5)).toDoubles()
        #expect(x.allSatisfy { $0 >= -2 && $0 < 3 })
        let mean = x.reduce(0, +) / Double(x.count)
        #expect(Swift.abs(mean - 0.5) < 0.15)
        let g = Generator(seed: 11)
        #expect(
            (0..<1000).allSatisfy { _ in
                let u = g.uniform(); return u >= 0 && u < 1
            })
    }

    @Test func randintRange() throws {
        let t = try Tensor.randint(-3, 4, [2_000], generator: Generator(seed: 8))
        #expect(t.dtype == .int64)
        let v = t.toDoubles()
        #expect(v.allSatisfy { $0 >= -3 && $0 < 4 && $0 == $0.rounded() })
        #expect(Set(v) == Set((-3..<4).map(Double.init)))  // every value appears
        let one = try Tensor.randint(5, 6, [10], generator: Generator(seed: 1)).toDoubles()
        #expect(one.allSatisfy { $0 == 5 })
        #expect(throws: TensorError.self) { _ = try Tensor.randint(3, 3, [2]) }
        let g = Generator(seed: 4)
        #expect((0..<500).allSatisfy { _ in g.integer(below: 3) < 3 })
    }

    @Test("state save/restore reproduces the sequence, including a cached normal")
    func stateRoundTrip() throws {
        let g = Generator(seed: 99)
        _ = try Tensor.randn([3], generator: g)  // odd count: a second normal is cached
        let saved = g.state
        let a = try Tensor.randn([5], generator: g).toFloats()
        let b = try Tensor.rand([4], generator: g).toFloats()
        g.state = saved
        #expect(try Tensor.randn([5], generator: g).toFloats() == a)
        #expect(try Tensor.rand([4], generator: g).toFloats() == b)
        // the state also moves to a fresh generator
        let h = Generator(seed: 0)
        h.state = saved
        #expect(try Tensor.randn([5], generator: h).toFloats() == a)
        // re-seeding clears the cached normal
        let s1 = Generator(seed: 5)
        _ = s1.normal()
        s1.seed(5)
        #expect(s1.normal() == Generator(seed: 5).normal())
    }

    @Test func inPlaceFillsUseTheGenerator() throws {
        let x = try Tensor.zeros([6])
        try x.normalInPlace(mean: 0, std: 1, generator: Generator(seed: 21))
        #expect(x.toFloats() == (try Tensor.randn([6], generator: Generator(seed: 21)).toFloats()))
        try x.uniformInPlace(low: 0, high: 1, generator: Generator(seed: 22))
        #expect(x.toFloats() == (try Tensor.rand([6], generator: Generator(seed: 22)).toFloats()))
    }
}
