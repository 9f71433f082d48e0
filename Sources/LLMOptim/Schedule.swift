// Learning-rate schedules: value types mapping a 0-based step (updates already taken) to a learning rate,
// printable, with `values(steps:)` for printing/plotting. This file: the protocol and the simple PyTorch
// families in closed form — constant, step (StepLR), multi-step (MultiStepLR), exponential (ExponentialLR).
// Warmup-cosine, one-cycle and reduce-on-plateau live in their own files.
import LLMCore
#if canImport(Glibc)
    import Glibc
#endif

/// A learning-rate schedule: `lr(at: step)` for step = 0, 1, 2 ... (step 0 is the first update).
///
/// In Lua: `local s = optim.schedule.step{lr=0.1, stepSize=10, gamma=0.5}; print(s, s(25), #s:values(100))`.
public protocol LRSchedule: CustomStringConvertible, Sendable {
    /// The learning rate for the update number `step` (0-based).
    func lr(at step: Int) -> Double
}

extension LRSchedule {
    /// The learning rates of steps 0..<steps.
    public func values(steps: Int) -> [Double] { (0..<Swift.max(0, steps)).map { lr(at: $0) } }
}

func checkLR(_ v: Double, _ key: String = "lr") throws {
    guard v.isFinite, v >= 0 else { throw TensorError.invalid("Invalid '\(key)': expected a non-negative number, got \(formatNumber(v))") }
}
func checkPositive(_ v: Double, _ key: String) throws {
    guard v.isFinite, v > 0 else { throw TensorError.invalid("Invalid '\(key)': expected a positive number, got \(formatNumber(v))") }
}
func checkCount(_ v: Int, _ key: String, min: Int) throws {
    guard v >= min, v <= 1 << 40 else { throw TensorError.invalid("Invalid '\(key)': expected an integer in \(min)..2^40, got \(v)") }
}

/// A constant learning rate.
public struct ConstantLR: LRSchedule {
    public let value: Double
    public init(lr: Double) throws { try checkLR(lr); value = lr }
    public func lr(at step: Int) -> Double { value }
    public var description: String { "Constant(lr=\(formatNumber(value)))" }
}

/// PyTorch StepLR: `lr · gamma^⌊step / stepSize⌋`.
public struct StepLR: LRSchedule {
    public let base: Double, stepSize: Int, gamma: Double
    public init(lr: Double, stepSize: Int, gamma: Double = 0.1) throws {
        try checkLR(lr); try checkCount(stepSize, "stepSize", min: 1); try checkLR(gamma, "gamma")
        base = lr; self.stepSize = stepSize; self.gamma = gamma
    }
    public func lr(at step: Int) -> Double { base * pow(gamma, Double(Swift.max(0, step) / stepSize)) }
    public var description: String { "Step(lr=\(formatNumber(base)), stepSize=\(stepSize), gamma=\(formatNumber(gamma)))" }
}

/// PyTorch MultiStepLR: `lr · gamma^(number of milestones ≤ step)`.
public struct MultiStepLR: LRSchedule {
    public let base: Double, milestones: [Int], gamma: Double
    public init(lr: Double, milestones: [Int], gamma: Double = 0.1) throws {
        try checkLR(lr); try checkLR(gamma, "gamma")
        for m in milestones { try checkCount(m, "milestones", min: 0) }
        base = lr; self.milestones = milestones.sorted(); self.gamma = gamma
    }
    public func lr(at step: Int) -> Double { base * pow(gamma, Double(milestones.filter { $0 <= step }.count)) }
    public var description: String {
        "MultiStep(lr=\(formatNumber(base)), milestones={\(milestones.map(String.init).joined(separator: ", "))}, gamma=\(formatNumber(gamma)))"
    }
}

/// PyTorch ExponentialLR: `lr · gamma^step`.
public struct ExponentialLR: LRSchedule {
    public let base: Double, gamma: Double
    public init(lr: Double, gamma: Double) throws { try checkLR(lr); try checkLR(gamma, "gamma"); base = lr; self.gamma = gamma }
    public func lr(at step: Int) -> Double { base * pow(gamma, Double(Swift.max(0, step))) }
    public var description: String { "Exponential(lr=\(formatNumber(base)), gamma=\(formatNumber(gamma)))" }
}
