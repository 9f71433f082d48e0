// OneCycle: PyTorch OneCycleLR's learning rate (two phases, the default; or three): from maxLR/divFactor
// up to maxLR over pctStart·totalSteps − 1 steps, then down to initial/finalDivFactor at totalSteps − 1,
// annealed by cos (½(1+cos(π·pct)) interpolation) or linearly. Steps past the end keep the final rate
// (PyTorch raises instead). Momentum cycling is not part of this schedule.
import LLMCore
#if canImport(Glibc)
    import Glibc
#endif

/// The 1cycle policy (Smith & Topin, 2017), as torch.optim.lr_scheduler.OneCycleLR.
///
/// In Lua: `optim.schedule.oneCycle{maxLR=1e-2, totalSteps=1000}` (pctStart 0.3, anneal 'cos', divFactor 25,
/// finalDivFactor 1e4, threePhase false).
public struct OneCycle: LRSchedule {
    public let maxLR: Double, totalSteps: Int, pctStart: Double, cosine: Bool
    public let divFactor: Double, finalDivFactor: Double, threePhase: Bool

    public init(
        maxLR: Double, totalSteps: Int, pctStart: Double = 0.3, anneal: String = "cos",
        divFactor: Double = 25, finalDivFactor: Double = 1e4, threePhase: Bool = false
    ) throws {
        try checkLR(maxLR, "maxLR"); try checkCount(totalSteps, "totalSteps", min: 1)
        guard pctStart >= 0, pctStart <= 1 else {
            throw TensorError.invalid("Invalid 'pctStart': expected a number in [0, 1], got \(formatNumber(pctStart))")
        }
        guard anneal == "cos" || anneal == "linear" else {
            throw TensorError.invalid("Invalid 'anneal': expected one of 'cos', 'linear', got '\(anneal)'")
        }
        try checkPositive(divFactor, "divFactor"); try checkPositive(finalDivFactor, "finalDivFactor")
        self.maxLR = maxLR; self.totalSteps = totalSteps; self.pctStart = pctStart; cosine = anneal == "cos"
        self.divFactor = divFactor; self.finalDivFactor = finalDivFactor; self.threePhase = threePhase
    }

    /// (end step, start lr, end lr) of each phase, as PyTorch builds them.
    var phases: [(end: Double, from: Double, to: Double)] {
        let initial = maxLR / divFactor, minLR = initial / finalDivFactor
        let up = pctStart * Double(totalSteps) - 1, last = Double(totalSteps - 1)
        if threePhase {
            return [(up, initial, maxLR), (2 * pctStart * Double(totalSteps) - 2, maxLR, initial), (last, initial, minLR)]
        }
        return [(up, initial, maxLR), (last, maxLR, minLR)]
    }

    public func lr(at step: Int) -> Double {
        let s = Double(Swift.min(Swift.max(0, step), totalSteps - 1))
        var start = 0.0
        let ps = phases
        for (i, p) in ps.enumerated() {
            if s <= p.end || i == ps.count - 1 {
                let span = p.end - start
                let pct = span == 0 ? 1 : (s - start) / span
                return cosine ? p.to + (p.from - p.to) / 2 * (cos(Double.pi * pct) + 1) : (p.to - p.from) * pct + p.from
            }
            start = p.end
        }
        return ps.last?.to ?? maxLR
    }

    public var description: String {
        "OneCycle(maxLR=\(formatNumber(maxLR)), total=\(totalSteps), pctStart=\(formatNumber(pctStart)), anneal=\(cosine ? "cos" : "linear"), divFactor=\(formatNumber(divFactor)), finalDivFactor=\(formatNumber(finalDivFactor))\(threePhase ? ", threePhase" : ""))"
    }
}
