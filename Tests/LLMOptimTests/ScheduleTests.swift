// ScheduleTests: schedule edge cases and descriptions beyond the PyTorch fixtures: warmup-cosine bounds
// and the warmup == total case, one-cycle clamping past the end, plateau cooldown, validation wording.
import Testing
import LLMCore
@testable import LLMOptim

@Suite struct ScheduleTests {
    @Test func warmupCosineShape() throws {
        let s = try WarmupCosine(maxLR: 6e-4, warmupSteps: 100, totalSteps: 5000, minLR: 6e-5)
        #expect(s.description == "WarmupCosine(maxLR=6e-4, warmup=100, total=5000, minLR=6e-5)")
        #expect(s.lr(at: 0) == 6e-4 / 101 && s.lr(at: 100) == 6e-4)
        #expect(Swift.abs(s.lr(at: 5000) - 6e-5) < 1e-15 && s.lr(at: 9999) == 6e-5)
        let v = s.values(steps: 5001)
        #expect(zip(v.dropFirst(100), v.dropFirst(101)).allSatisfy { $0 >= $1 })  // monotone decay after warmup
        let flat = try WarmupCosine(maxLR: 1, warmupSteps: 3, totalSteps: 3, minLR: 0.1)
        #expect(flat.values(steps: 5) == [0.25, 0.5, 0.75, 0.1, 0.1])
        // a warmup longer than the run is clamped to it: the same rates as warmup == total
        let clamped = try WarmupCosine(maxLR: 1, warmupSteps: 100, totalSteps: 3, minLR: 0.1)
        #expect(clamped.warmupSteps == 3 && clamped.values(steps: 5) == flat.values(steps: 5))
        #expect(clamped.description == "WarmupCosine(maxLR=1, warmup=3 (clamped from 100), total=3, minLR=0.1)")
        #expect(message { _ = try WarmupCosine(maxLR: 1, warmupSteps: 10, totalSteps: -5) }?.contains("Invalid 'totalSteps'") == true)
    }

    @Test func simpleFamilies() throws {
        #expect(try ConstantLR(lr: 0.1).values(steps: 3) == [0.1, 0.1, 0.1])
        #expect(try StepLR(lr: 1, stepSize: 2, gamma: 0.5).values(steps: 5) == [1, 1, 0.5, 0.5, 0.25])
        #expect(try MultiStepLR(lr: 1, milestones: [3, 1], gamma: 0.1).description == "MultiStep(lr=1, milestones={1, 3}, gamma=0.1)")
        #expect(message { _ = try StepLR(lr: 1, stepSize: 0) } == "Invalid 'stepSize': expected an integer in 1..2^40, got 0")
        #expect(message { _ = try ExponentialLR(lr: -2, gamma: 0.9) } == "Invalid 'lr': expected a non-negative number, got -2")
    }

    @Test func oneCycleEndsAtMinimumAndClamps() throws {
        let s = try OneCycle(maxLR: 1, totalSteps: 100)
        #expect(Swift.abs(s.lr(at: 0) - 0.04) < 1e-12)
        #expect(Swift.abs(s.lr(at: 99) - 0.04 / 1e4) < 1e-12 && s.lr(at: 500) == s.lr(at: 99))
        #expect(message { _ = try OneCycle(maxLR: 1, totalSteps: 10, anneal: "cosine") }?.contains("expected one of 'cos', 'linear'") == true)
    }

    @Test func plateauWithCooldown() throws {
        var s = try ReduceOnPlateau(lr: 1, factor: 0.5, patience: 0, cooldown: 2, minLR: 0.2)
        let lrs = [1.0, 1, 1, 1, 1, 1, 1, 1].map { s.observe($0) }
        #expect(lrs == [1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2])
        #expect(s.lr(at: 123) == 0.2)
        #expect(message { _ = try ReduceOnPlateau(lr: 1, mode: "up") } == "Invalid 'mode': expected one of 'min', 'max', got 'up'")
    }
}
