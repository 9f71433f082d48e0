// OptimizerTests: behaviour beyond the PyTorch fixtures — hyper-parameter validation and wording, groups
// inheriting defaults, runtime changes, skipping params without grads, zeroGrad, state dict round trips
// (identical subsequent steps) and their validation, clipping and penalties, descriptions.
import Foundation
import Testing
import LLMCore
@testable import LLMOptim

func message(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
}

func quadraticGrad(_ p: Tensor) throws {  // L = Σ (p − 1)², g = 2(p − 1)
    p.grad = try Tensor(p.toFloats().map { 2 * ($0 - 1) }, shape: p.shape)
}

@Suite struct OptimizerTests {
    @Test func badHyperParametersUseDesignWording() throws {
        let p = try Tensor([1, 2], shape: [2])
        #expect(message { _ = try SGD([p], lr: -1) } == "Invalid 'lr': expected a non-negative number, got -1")
        #expect(message { _ = try Adam([p], betas: (1, 0.999)) } == "Invalid 'beta1': expected a number in [0, 1), got 1")
        #expect(message { _ = try AdamW([p], eps: -1e-8) } == "Invalid 'eps': expected a non-negative number, got -1e-8")
        #expect(message { _ = try SGD([p], nesterov: true) }?.contains("Nesterov momentum requires a momentum") == true)
        #expect(message { _ = try SGD(groups: [ParamGroup(params: [p])], options: ["lrr": 1]) }?.contains("unknown option 'lrr'") == true)
        #expect(message { _ = try SGD([]) }?.contains("empty parameter list") == true)
        #expect(message { _ = try SGD([p, p]) }?.contains("appears more than once") == true)
        let t = try Tensor.zeros([2, 3]).transpose(0, 1)
        #expect(message { _ = try SGD([t]) }?.contains("contiguous float32") == true)
        let opt = try SGD([p], lr: 0.1)
        #expect(message { try opt.setLR(-0.5) } == "Invalid 'lr': expected a non-negative number, got -0.5")
        #expect(message { try opt.setLR(0.5, group: 3) }?.contains("group 4 out of range") == true)
    }

    @Test func groupsInheritDefaultsAndChangeAtRunTime() throws {
        let a = try Tensor([1, 2], shape: [2]), b = try Tensor([3], shape: [1])
        let opt = try AdamW(
            groups: [ParamGroup(params: [a]), ParamGroup(params: [b], options: ["weightDecay": 0, "lr": 0.5])],
            options: ["lr": 0.01])
        #expect(opt.groups[0].lr == 0.01 && opt.groups[0]["weightDecay"] == 0.01)
        #expect(opt.groups[1].lr == 0.5 && opt.groups[1]["weightDecay"] == 0 && opt.groups[1]["beta2"] == 0.999)
        try opt.setLR(0.02)
        #expect(opt.groups.map(\.lr) == [0.02, 0.02])
        try opt.set("lr", 0.3, group: 1)
        #expect(try opt.get("lr", group: 1) == 0.3 && opt.lr == 0.02)
        #expect(opt.description.contains("2 groups, 2 params"))
    }

    @Test func skipsParamsWithoutGradAndZeroGradClears() throws {
        let a = try Tensor([1, 2], shape: [2]), b = try Tensor([3], shape: [1])
        let opt = try SGD([a, b], lr: 0.1, momentum: 0.9)
        try quadraticGrad(a)
        try opt.step()
        #expect(b.toFloats() == [3] && opt.state(ofParameter: 1) == nil)
        #expect(opt.state(ofParameter: 0)?.step == 1)
        opt.zeroGrad()
        #expect(a.grad == nil)
    }

    @Test func stateDictRoundTripGivesIdenticalSteps() throws {
        for make in [
            { try AdamW($0, lr: 0.05, amsgrad: true) as Optimizer }, { try SGD($0, lr: 0.1, momentum: 0.9) },
            { try RMSprop($0, momentum: 0.5, centered: true) }, { try Adagrad($0, lrDecay: 0.1) }
        ] as [([Tensor]) throws -> Optimizer] {
            let p = try Tensor([0.5, -1, 2], shape: [3])
            let opt = try make([p])
            for _ in 0..<3 { try quadraticGrad(p); try opt.step() }
            let saved = try opt.stateDict(), savedP = p.toFloats()
            var after: [[Float]] = []
            for _ in 0..<3 { try quadraticGrad(p); try opt.step(); after.append(p.toFloats()) }
            // a fresh optimizer over a parameter restored to the saved values continues identically
            let q = try Tensor(savedP, shape: [3])
            let fresh = try make([q])
            try fresh.loadStateDict(saved)
            for k in 0..<3 { try quadraticGrad(q); try fresh.step(); #expect(q.toFloats() == after[k], "\(opt.name) step \(k)") }
        }
    }

    @Test func loadStateDictValidates() throws {
        let p = try Tensor([1, 2], shape: [2])
        let opt = try Adam([p])
        try quadraticGrad(p); try opt.step()
        var sd = try opt.stateDict()
        let other = try Adam([try Tensor([1, 2, 3], shape: [3])])
        #expect(message { try other.loadStateDict(sd) }?.contains("has shape [2] but parameter 0 has shape [3]") == true)
        #expect(message { try SGD([p]).loadStateDict(sd) }?.contains("unknown hyper-parameter") == true)
        sd["group.0.lr"] = .number(-1)
        #expect(message { try opt.loadStateDict(sd) } == "Invalid 'lr': expected a non-negative number, got -1")
        sd["group.0.lr"] = .number(0.1)
        sd["state.5.step"] = .number(1)
        #expect(message { try opt.loadStateDict(sd) }?.contains("names parameter 5") == true)
        sd["state.5.step"] = nil
        sd["group.0.numParams"] = .number(3)
        #expect(message { try opt.loadStateDict(sd) }?.contains("group 1 has 1 parameters but the state dict has 3") == true)
        sd["group.0.numParams"] = nil
        #expect(message { try opt.loadStateDict(sd) }?.contains("missing key 'group.0.numParams'") == true)
        #expect(opt.lr == 1e-3)  // nothing changed by the failed loads
    }

    @Test("clipGradNorm over large gradients (SIMD blocks over the workers) matches a double-precision sum, and a strided gradient takes the element path")
    func clipGradNormLarge() throws {
        let n = 300_001  // several 4096-element blocks per worker, plus a ragged tail
        let values = (0..<n).map { Float(sin(Double($0) * 0.013)) }
        let p = try Tensor(shape: [n]), q = try Tensor(shape: [3, 4])
        p.grad = try Tensor(values, shape: [n])
        q.grad = try Tensor((0..<12).map { Float($0) }, shape: [4, 3]).transpose(0, 1)  // not contiguous
        let sumP: Double = values.reduce(0.0) { $0 + Double($1) * Double($1) }
        let sumQ: Double = (0..<12).reduce(0.0) { (acc: Double, i: Int) in acc + Double(i * i) }
        let expected = (sumP + sumQ).squareRoot()
        let total = try clipGradNorm([p, q], maxNorm: 2)
        #expect(Swift.abs(total - expected) / expected < 1e-6, "\(total) vs \(expected)")
        let coef = Float(2 / (expected + 1e-6))
        let g = try #require(p.grad).toFloats()
        #expect(Swift.abs(g[12345] - values[12345] * coef) < 1e-6)
        #expect(Swift.abs(try #require(q.grad).toFloats()[7] - 10 * coef) < 1e-5)  // element (1, 3) of the transposed view = 10
        let again = try clipGradNorm([p, q], maxNorm: 100)  // below maxNorm: unchanged
        #expect(Swift.abs(again - 2) < 1e-4)
        #expect(try #require(p.grad).toFloats()[12345] == g[12345])
    }

    @Test func clipGradNormAndPenalties() throws {
        let a = try Tensor([3, 4], shape: [2]), b = try Tensor([1], shape: [1])
        a.grad = try Tensor([3, 4], shape: [2])
        let total = try clipGradNorm([a, b], maxNorm: 1)
        #expect(Swift.abs(total - 5) < 1e-9)
        let g = a.grad?.toFloats() ?? []
        #expect(Swift.abs(g[0] - 0.6) < 1e-6 && Swift.abs(g[1] - 0.8) < 1e-6)
        #expect(message { _ = try clipGradNorm([a], maxNorm: -1) }?.contains("Invalid 'maxNorm'") == true)
        #expect(try clipGradNorm([b], maxNorm: 1) == 0)
        try a.setRequiresGrad(true)
        let l1 = try l1Penalty([a], lambda: 0.5), l2 = try l2Penalty([a], lambda: 0.5)
        #expect(try l1.item() == 3.5 && l2.item() == 12.5)
        a.grad = nil
        try l2.backward()
        #expect(a.grad?.toFloats() == [3, 4])
    }

    @Test func descriptionsAreReadable() throws {
        let p = try Tensor([1], shape: [1])
        #expect(
            try AdamW([p], lr: 6e-4, betas: (0.9, 0.95), weightDecay: 0.1).description
                == "AdamW(lr=6e-4, betas=(0.9, 0.95), eps=1e-8, weightDecay=0.1, amsgrad=false; 1 param)")
        #expect(
            try SGD([p], lr: 0.1, momentum: 0.9, nesterov: true).description
                == "SGD(lr=0.1, momentum=0.9, dampening=0, weightDecay=0, nesterov=true; 1 param)")
        #expect(formatNumber(6e-5) == "6e-5" && formatNumber(0.00025) == "2.5e-4" && formatNumber(-1) == "-1" && formatNumber(0.001) == "0.001")
    }
}
