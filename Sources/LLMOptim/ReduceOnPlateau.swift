// ReduceOnPlateau: PyTorch ReduceLROnPlateau. `observe(metric)` once per evaluation: a metric better than
// the best by the threshold (rel: best·(1∓threshold), abs: best∓threshold) resets the bad count; after
// more than `patience` bad observations lr becomes max(lr·factor, minLR) (skipped when the change is
// ≤ 1e-8), then `cooldown` observations are ignored. `lr(at:)` returns the current rate, whatever the step.
import LLMCore

/// Lowers the learning rate when a metric stops improving.
///
/// In Lua: `local s = optim.schedule.reduceOnPlateau{lr=0.1, patience=2}; s:step(valLoss); opt:setLR(s(0))`.
public struct ReduceOnPlateau: LRSchedule {
    public let initialLR: Double, maximize: Bool, factor: Double, patience: Int
    public let threshold: Double, relative: Bool, cooldown: Int, minLR: Double
    /// The current learning rate.
    public private(set) var current: Double
    /// Best metric so far.
    public private(set) var best: Double
    /// Observations since the last improvement.
    public private(set) var badCount = 0
    var cooldownLeft = 0

    public init(
        lr: Double, mode: String = "min", factor: Double = 0.1, patience: Int = 10, threshold: Double = 1e-4,
        thresholdMode: String = "rel", cooldown: Int = 0, minLR: Double = 0
    ) throws {
        try checkLR(lr)
        guard mode == "min" || mode == "max" else { throw TensorError.invalid("Invalid 'mode': expected one of 'min', 'max', got '\(mode)'") }
        guard thresholdMode == "rel" || thresholdMode == "abs" else {
            throw TensorError.invalid("Invalid 'thresholdMode': expected one of 'rel', 'abs', got '\(thresholdMode)'")
        }
        guard factor >= 0, factor < 1 else { throw TensorError.invalid("Invalid 'factor': expected a number in [0, 1), got \(formatNumber(factor))") }
        try checkCount(patience, "patience", min: 0); try checkCount(cooldown, "cooldown", min: 0)
        try checkLR(threshold, "threshold"); try checkLR(minLR, "minLR")
        initialLR = lr; maximize = mode == "max"; self.factor = factor; self.patience = patience
        self.threshold = threshold; relative = thresholdMode == "rel"; self.cooldown = cooldown; self.minLR = minLR
        current = lr; best = maximize ? -.infinity : .infinity
    }

    func isBetter(_ a: Double) -> Bool {
        switch (maximize, relative) {
        case (false, true): return a < best * (1 - threshold)
        case (false, false): return a < best - threshold
        case (true, true): return a > best * (threshold + 1)
        case (true, false): return a > best + threshold
        }
    }

    /// Records one metric value; returns the (possibly reduced) learning rate.
    @discardableResult
    public mutating func observe(_ metric: Double) -> Double {
        if isBetter(metric) { best = metric; badCount = 0 } else { badCount += 1 }
        if cooldownLeft > 0 { cooldownLeft -= 1; badCount = 0 }
        if badCount > patience {
            let reduced = Swift.max(current * factor, minLR)
            if current - reduced > 1e-8 { current = reduced }
            cooldownLeft = cooldown
            badCount = 0
        }
        return current
    }

    public func lr(at step: Int) -> Double { current }

    public var description: String {
        "ReduceOnPlateau(lr=\(formatNumber(current)), mode=\(maximize ? "max" : "min"), factor=\(formatNumber(factor)), patience=\(patience), threshold=\(formatNumber(threshold))\(relative ? "" : " abs"), cooldown=\(cooldown), minLR=\(formatNumber(minLR)))"
    }
}
