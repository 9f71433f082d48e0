// WarmupCosine: the GPT default schedule, nanoGPT's get_lr(it) exactly (train.py):
//   it < warmup:  maxLR · (it + 1) / (warmup + 1)              (linear warmup, never 0)
//   it > total:   minLR                                        (constant after the decay)
//   otherwise:    minLR + ½(1 + cos(π · (it − warmup)/(total − warmup))) · (maxLR − minLR)
// When warmup == total, the decay has no length: steps ≥ warmup get minLR (nanoGPT would divide by 0).
// A warmup longer than the run is clamped to the run (`--steps=20` with the default `--warmup=100` warms up
// over all 20 steps) rather than rejected: the user asked for a short run, not for a different warmup.
import LLMCore
#if canImport(Glibc)
    import Glibc
#endif

/// Linear warmup over `warmupSteps`, then cosine decay to `minLR` at `totalSteps`, constant after.
///
/// In Lua: `optim.schedule.warmupCosine{maxLR=6e-4, warmupSteps=100, totalSteps=5000, minLR=6e-5}`.
public struct WarmupCosine: LRSchedule {
    /// `warmupSteps` is the effective warmup: the requested one clamped to `totalSteps`.
    public let maxLR: Double, warmupSteps: Int, totalSteps: Int, minLR: Double
    /// The warmup asked for (larger than ``warmupSteps`` when it was clamped to the run).
    public let requestedWarmupSteps: Int

    /// - Throws: on negative rates or step counts. A warmup longer than `totalSteps` is clamped to it.
    public init(maxLR: Double, warmupSteps: Int, totalSteps: Int, minLR: Double = 0) throws {
        try checkLR(maxLR, "maxLR"); try checkLR(minLR, "minLR")
        try checkCount(warmupSteps, "warmupSteps", min: 0); try checkCount(totalSteps, "totalSteps", min: 0)
        self.maxLR = maxLR; self.totalSteps = totalSteps; self.minLR = minLR
        self.requestedWarmupSteps = warmupSteps
        self.warmupSteps = Swift.min(warmupSteps, totalSteps)
    }

    public func lr(at step: Int) -> Double {
        if step < warmupSteps { return maxLR * Double(step + 1) / Double(warmupSteps + 1) }
        if step > totalSteps || totalSteps == warmupSteps { return minLR }
        let ratio = Double(step - warmupSteps) / Double(totalSteps - warmupSteps)
        let coeff = 0.5 * (1.0 + cos(Double.pi * ratio))
        return minLR + coeff * (maxLR - minLR)
    }

    public var description: String {
        let clamped = requestedWarmupSteps != warmupSteps ? " (clamped from \(requestedWarmupSteps))" : ""
        return "WarmupCosine(maxLR=\(formatNumber(maxLR)), warmup=\(warmupSteps)\(clamped), total=\(totalSteps), minLR=\(formatNumber(minLR)))"
    }
}
