// MaskTests: the optimizers' masked path (LLMOptim/Masks.swift) — a pruned weight and its state stay 0
// through steps whose gradients would move it (Adam's moments do not regrow it), kept weights get exactly
// the unmasked update, removing a mask restores plain updates, and bad masks are refused.
import Foundation
import Testing
import LLMCore
@testable import LLMOptim

@Suite struct MaskTests {
    // Five steps of the quadratic L = Σ (p − 1)² from p0; the optimizer made by `make`, optionally masked.
    func run(_ make: ([Tensor]) throws -> Optimizer, mask: [Float]?, p0: [Float] = [0.5, -2, 3, 0.25]) throws -> (Tensor, Optimizer) {
        let p = try Tensor(p0, shape: [2, 2])
        let opt = try make([p])
        if let mask { try opt.setMask(try Tensor(mask, shape: [2, 2]), for: p) }
        for _ in 0..<5 {
            try quadraticGrad(p)
            try opt.step()
        }
        return (p, opt)
    }

    static func make(_ name: String, _ params: [Tensor]) throws -> Optimizer {
        switch name {
        case "Adam": return try Adam(params, lr: 0.1, amsgrad: true)
        case "AdamW": return try AdamW(params, lr: 0.1, weightDecay: 0.1)
        case "SGD": return try SGD(params, lr: 0.1, momentum: 0.9)
        case "RMSprop": return try RMSprop(params, lr: 0.01, momentum: 0.5)
        default: return try Adagrad(params, lr: 0.1)
        }
    }

    @Test(arguments: ["Adam", "AdamW", "SGD", "RMSprop", "Adagrad"]) func prunedWeightsAndStateStayZero(_ name: String) throws {
        let make = { try MaskTests.make(name, $0) }
        let (dense, _) = try run(make, mask: nil)
        let (masked, opt) = try run(make, mask: [1, 0, 1, 0])
        let d = dense.toFloats(), m = masked.toFloats()
        #expect(m[1] == 0 && m[3] == 0)  // pruned: zero, although the gradient pulls them to 1
        #expect(m[0] == d[0] && m[2] == d[2])  // kept: exactly the unmasked update
        let st = try #require(opt.state(ofParameter: 0))
        #expect(!st.buffers.isEmpty)
        for (_, b) in st.buffers {
            let v = b.toFloats()
            #expect(v[1] == 0 && v[3] == 0)  // moments / momentum of pruned weights do not build up
        }
    }

    @Test func removingTheMaskLetsTheWeightLearnAgain() throws {
        let p = try Tensor([0.5, 0.5], shape: [2])
        let opt = try Adam([p], lr: 0.1)
        try opt.setMask(try Tensor([1, 0], shape: [2]), for: p)
        try quadraticGrad(p)
        try opt.step()
        #expect(p.toFloats()[1] == 0)
        #expect(opt.maskCount == 1 && opt.mask(of: p) != nil)
        try opt.setMask(nil, for: p)
        #expect(opt.maskCount == 0 && opt.mask(of: p) == nil)
        try quadraticGrad(p)
        try opt.step()
        #expect(p.toFloats()[1] > 0)
    }

    @Test func theMaskIsCopiedAndBadMasksAreRefused() throws {
        let p = try Tensor([1, 2, 3], shape: [3]), other = try Tensor([1], shape: [1])
        let opt = try SGD([p], lr: 0.1)
        let mask = try Tensor([1, 1, 0], shape: [3])
        try opt.setMask(mask, for: p)
        try mask.fillInPlace(1)
        #expect(opt.mask(of: p)?.toFloats() == [1, 1, 0])
        #expect(message { try opt.setMask(try Tensor([1, 0], shape: [2]), for: p) }?.contains("mask of shape [2] for a parameter of shape [3]") == true)
        #expect(message { try opt.setMask(try Tensor([1], shape: [1]), for: other) }?.contains("not a parameter of this optimizer") == true)
        #expect(opt.mask(of: p)?.toFloats() == [1, 1, 0])  // a refused mask changes nothing
    }
}
