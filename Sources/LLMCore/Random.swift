// Random: a seeded, reproducible generator (xoshiro256** seeded through splitmix64) used by every random
// op. The same seed gives the same tensors on every machine. Its state can be saved and restored, so a
// checkpoint can carry it. reference: Blackman & Vigna, "Scrambled linear pseudorandom number generators".
import Foundation

/// A pseudo-random generator. `Generator.shared` backs `llm.manualSeed` and the random constructors.
public final class Generator: @unchecked Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var spareNormal: Double? = nil

    /// The process-wide default generator (seeded with 0 at start-up, like a fresh `torch.manual_seed(0)`).
    nonisolated(unsafe) public static var shared = Generator(seed: 0)

    public init(seed: UInt64) { self.seed(seed) }

    /// Re-seeds the generator.
    public func seed(_ seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
        spareNormal = nil
    }

    /// The full state (for checkpoints): four words plus the cached normal, if any.
    public var state: [UInt64] {
        get { [s.0, s.1, s.2, s.3, spareNormal.map { $0.bitPattern } ?? 0, spareNormal == nil ? 0 : 1] }
        set {
            guard newValue.count == 6 else { return }
            s = (newValue[0], newValue[1], newValue[2], newValue[3])
            spareNormal = newValue[5] != 0 ? Double(bitPattern: newValue[4]) : nil
        }
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits.
    public func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal (Box–Muller, polar-free form; the second value is cached).
    public func normal() -> Double {
        if let v = spareNormal { spareNormal = nil; return v }
        var u1 = uniform()
        while u1 <= 0 { u1 = uniform() }
        let u2 = uniform()
        let r = (-2 * Foundation.log(u1)).squareRoot(), theta = 2 * Double.pi * u2
        spareNormal = r * Foundation.sin(theta)
        return r * Foundation.cos(theta)
    }

    /// Uniform integer in [0, n) without modulo bias (n > 0).
    public func integer(below n: UInt64) -> UInt64 {
        let limit = UInt64.max - UInt64.max % n
        var v = next()
        while v >= limit { v = next() }
        return v % n
    }
}
