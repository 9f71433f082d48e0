// TextOpsRandom: seeded random choices for augmenters on LLMCore's Generator (same seed, same choices on
// every machine) and token-level masking of an encoded sequence for denoising objectives (BERT's 80/10/10
// as an option; Devlin et al. 2019, §3.1). Invalid arguments throw TextOpsError; nothing traps.
import LLMCore

/// A bad argument to a text primitive; `description` is the user-facing message.
public struct TextOpsError: UserFacingError, Equatable {
    /// Messages name the argument, not the function: the bridge prefixes the function name.
    public static var prefixedWithFunctionName: Bool { true }
    public let description: String
}

/// How chosen token positions are changed.
public enum TokenMaskMode: String, Sendable, CaseIterable {
    /// Every chosen position becomes the mask id.
    case mask
    /// 80 % mask id, 10 % a random vocabulary id, 10 % unchanged (still counted as chosen).
    case bert
    /// Every chosen position becomes a random vocabulary id.
    case random
}

extension TextOps {
    /// `k` distinct indices of `0..<n` in random order (partial Fisher–Yates); k is capped at n.
    public static func sample(_ n: Int, _ k: Int, generator: Generator) -> [Int] {
        guard n > 0, k > 0 else { return [] }
        let k = min(k, n)
        // A partial Fisher-Yates shuffle of 0..<n; the positions it touches live in a dictionary when k is
        // small next to n, so memory is O(k), not O(n) (same draws, same result as the dense array).
        if n / 4 <= k {
            var pool = Array(0..<n)
            for i in 0..<k { pool.swapAt(i, i + Int(generator.integer(below: UInt64(n - i)))) }
            return Array(pool[0..<k])
        }
        var moved: [Int: Int] = [:]
        moved.reserveCapacity(2 * k)
        var out: [Int] = []
        out.reserveCapacity(k)
        for i in 0..<k {
            let j = i + Int(generator.integer(below: UInt64(n - i)))
            let vi = moved[i] ?? i, vj = moved[j] ?? j
            out.append(vj)
            moved[j] = vi
        }
        return out
    }

    /// Masks a fraction `rate` of the positions of `ids` whose id is not in `protected`:
    /// round(rate × eligible) positions (at least one when rate > 0 and any is eligible).
    /// Returns the new ids and, per position, whether it was chosen (the denoising target mask).
    ///
    /// ```swift
    /// let (ids, chosen) = try TextOps.maskTokens([5, 6, 7, 8], rate: 0.5, maskId: 0, generator: Generator(seed: 1))
    /// ```
    public static func maskTokens(
        _ ids: [Int], rate: Double, maskId: Int?, vocabSize: Int? = nil,
        mode: TokenMaskMode = .mask, protected: Set<Int> = [],
        generator: Generator
    ) throws -> (ids: [Int], chosen: [Bool]) {
        guard rate.isFinite, rate >= 0, rate <= 1 else {
            throw TextOpsError(description: "Invalid 'rate': expected a number in [0, 1], got \(rate)")
        }
        if mode != .random, maskId == nil {
            throw TextOpsError(description: "Invalid 'maskId': expected an integer (mode '\(mode.rawValue)' replaces tokens by it), got nil")
        }
        if mode != .mask {
            guard let v = vocabSize, v > 0 else {
                throw TextOpsError(
                    description: "Invalid 'vocabSize': expected a positive integer (mode '\(mode.rawValue)' draws random ids), got \(vocabSize.map(String.init) ?? "nil")")
            }
        }
        let eligible = ids.indices.filter { !protected.contains(ids[$0]) }
        var n = Int((rate * Double(eligible.count)).rounded())
        if rate > 0 && n == 0 && !eligible.isEmpty { n = 1 }
        var out = ids
        var chosen = [Bool](repeating: false, count: ids.count)
        for k in sample(eligible.count, n, generator: generator) {
            let pos = eligible[k]
            chosen[pos] = true
            switch mode {
            case .mask: out[pos] = maskId ?? 0
            case .random: out[pos] = Int(generator.integer(below: UInt64(vocabSize ?? 1)))
            case .bert:
                let u = generator.uniform()
                if u < 0.8 { out[pos] = maskId ?? 0 } else if u < 0.9 { out[pos] = Int(generator.integer(below: UInt64(vocabSize ?? 1))) }
            }
        }
        return (out, chosen)
    }
}
