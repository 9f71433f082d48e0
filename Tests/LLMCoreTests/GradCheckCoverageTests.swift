// GradCheckCoverageTests: a finite-difference gradient check for every autograd primitive.
// `gradCase(for:)` is an exhaustive switch over PrimitiveKind, so a new primitive does not compile until
// it has a check here. Each case builds tiny inputs (≤ 12 elements, away from kinks and domain edges)
// and a function whose *last* recorded op is that primitive; the test also asserts that, so a check
// cannot silently exercise a different op.
import Testing
@testable import LLMCore

/// Inputs and the function to check for one primitive.
struct GradCase {
    let inputs: [Tensor]
    let f: ([Tensor]) throws -> Tensor
}

/// A leaf that requires grad holding `values` (row-major) in `shape`.
func gradLeaf(_ values: [Float], _ shape: [Int]) throws -> Tensor {
    let t = try Tensor(values, shape: shape)
    try t.setRequiresGrad(true)
    return t
}

/// Deterministic values in roughly [-1.2, 1.2], none within 0.1 of 0 (smooth for abs/relu).
func smoothValues(_ n: Int, seed: Int = 0) -> [Float] {
    (0..<n).map { i in
        let v = Float(((i + seed) * 7) % 11 - 5) / 4.5 + 0.05 * Float(i % 3)
        return Swift.abs(v) < 0.1 ? v + 0.3 : v
    }
}

func indexTensor(_ values: [Double], _ shape: [Int]) throws -> Tensor {
    try Tensor.from(values, shape: shape, dtype: .int64)
}

func gradCase(for kind: PrimitiveKind) throws -> GradCase {
    func unaryCase(_ values: [Float], _ f: @escaping (Tensor) throws -> Tensor) throws -> GradCase {
        GradCase(inputs: [try gradLeaf(values, [2, 3])]) { try f($0[0]) }
    }
    let positive: [Float] = [0.3, 0.7, 1.1, 1.6, 2.2, 2.9]
    let mixed = smoothValues(6)
    switch kind {
    case .add:
        return GradCase(inputs: [try gradLeaf(mixed, [2, 3]), try gradLeaf([0.5, -1, 2], [3])]) { try $0[0].add($0[1]) }
    case .sub:
        return GradCase(inputs: [try gradLeaf(mixed, [2, 3]), try gradLeaf([0.5, -1], [2, 1])]) { try $0[0].sub($0[1]) }
    case .mul:
        return GradCase(inputs: [try gradLeaf(mixed, [2, 3]), try gradLeaf([0.5, -1.5, 2], [3])]) { try $0[0].mul($0[1]) }
    case .div:
        return GradCase(inputs: [try gradLeaf(mixed, [2, 3]), try gradLeaf([0.8, -1.5], [2, 1])]) { try $0[0].div($0[1]) }
    case .pow:
        return GradCase(inputs: [try gradLeaf(positive, [2, 3]), try gradLeaf([0.5, -1.2, 2.1], [3])]) { try $0[0].pow($0[1]) }
    case .neg: return try unaryCase(mixed) { try $0.neg() }
    case .exp: return try unaryCase(mixed) { try $0.exp() }
    case .log: return try unaryCase(positive) { try $0.log() }
    case .sqrt: return try unaryCase(positive) { try $0.sqrt() }
    case .rsqrt: return try unaryCase(positive) { try $0.rsqrt() }
    case .abs: return try unaryCase(mixed) { try $0.abs() }
    case .tanh: return try unaryCase(mixed) { try $0.tanh() }
    case .sigmoid: return try unaryCase(mixed) { try $0.sigmoid() }
    case .relu: return try unaryCase(mixed) { try $0.relu() }
    case .geluTanh: return try unaryCase(mixed) { try $0.gelu(approximate: true) }
    case .geluExact: return try unaryCase(mixed) { try $0.gelu(approximate: false) }
    case .silu: return try unaryCase(mixed) { try $0.silu() }
    // piecewise constant: values away from the jumps (integers, halves, 0), where the gradient is 0
    case .round: return try unaryCase([-1.3, -0.7, -0.2, 0.3, 0.8, 1.7]) { try $0.round() }
    case .floor: return try unaryCase([-1.3, -0.7, -0.2, 0.3, 0.8, 1.7]) { try $0.floor() }
    case .ceil: return try unaryCase([-1.3, -0.7, -0.2, 0.3, 0.8, 1.7]) { try $0.ceil() }
    case .sign: return try unaryCase(mixed) { try $0.sign() }
    case .powScalar: return try unaryCase(mixed) { try $0.pow(3.0) }
    case .clamp:
        // values kept ≥ 0.1 away from the bounds ±0.5
        return try unaryCase([-1.1, -0.3, 0.2, 0.7, 0.05, -0.75]) { try $0.clamp(min: -0.5, max: 0.5) }
    case .where:
        let cond = try Tensor([1, 0, 1, 0, 0, 1], shape: [2, 3])
        return GradCase(inputs: [cond, try gradLeaf(mixed, [2, 3]), try gradLeaf([0.5, -1, 2], [3])]) {
            try Tensor.where($0[0], $0[1], $0[2])
        }
    case .sum:
        return GradCase(inputs: [try gradLeaf(smoothValues(12), [2, 3, 2])]) { try $0[0].sum(dims: [0, 2], keepdim: false) }
    case .extremum:
        // distinct values per row: no ties, so max is differentiable
        return GradCase(inputs: [try gradLeaf([0.1, 0.9, -0.4, 1.3, -0.2, 0.6, 0.2, -1.0, 0.0, 0.45, 0.8, -0.7], [3, 4])]) {
            try $0[0].extremum(dim: 1, max: true).values
        }
    case .logsumexp:
        return GradCase(inputs: [try gradLeaf(smoothValues(12), [3, 4])]) { try $0[0].logsumexp(dim: 0, keepdim: true) }
    case .softmax:
        return GradCase(inputs: [try gradLeaf(smoothValues(12), [3, 4])]) { try $0[0].softmax(dim: 1) }
    case .logSoftmax:
        return GradCase(inputs: [try gradLeaf(smoothValues(12), [3, 4])]) { try $0[0].logSoftmax(dim: 0) }
    case .matmul:
        // both operands batched: (2,2,3)·(2,3,2) runs the batched GEMM (a 2-D right operand would fold into one
        // GEMM between reshapes, so the last recorded op would be reshape)
        return GradCase(inputs: [try gradLeaf(smoothValues(12), [2, 2, 3]), try gradLeaf(smoothValues(12, seed: 3), [2, 3, 2])]) {
            try $0[0].matmul($0[1])
        }
    case .linear:
        // batched rows folded into one GEMM with the bias prefilled (other paths: FusedKernelTests)
        let x = try gradLeaf(smoothValues(12), [2, 2, 3]), w = try gradLeaf(smoothValues(12, seed: 3), [4, 3]), b = try gradLeaf([0.1, -0.2, 0.3, 0.4], [4])
        return GradCase(inputs: [x, w, b]) { try $0[0].linear($0[1], $0[2]) }
    case .reshape:
        return GradCase(inputs: [try gradLeaf(smoothValues(6), [2, 3])]) { try $0[0].reshape([3, 2]) }
    case .permute:
        return GradCase(inputs: [try gradLeaf(smoothValues(12), [2, 3, 2])]) { try $0[0].permute([2, 0, 1]) }
    case .expand:
        return GradCase(inputs: [try gradLeaf([0.5, -1, 2], [3, 1])]) { try $0[0].expand([2, 3, 2]) }
    case .narrow:
        return GradCase(inputs: [try gradLeaf(smoothValues(12), [3, 4])]) { try $0[0].narrow(1, 1, 2) }
    case .copy:
        // the transposed view is not contiguous, so contiguous() copies
        return GradCase(inputs: [try gradLeaf(smoothValues(6), [2, 3])]) { try $0[0].detachedTransposeCopy() }
    case .cat:
        return GradCase(inputs: [try gradLeaf(smoothValues(4), [2, 2]), try gradLeaf(smoothValues(6, seed: 1), [2, 3])]) {
            try Tensor.cat([$0[0], $0[1]], dim: 1)
        }
    case .indexSelect:
        return GradCase(inputs: [try gradLeaf(smoothValues(8), [4, 2]), try indexTensor([3, 0, 3], [3])]) {
            try $0[0].indexSelect(0, $0[1])
        }
    case .gather:
        return GradCase(inputs: [try gradLeaf(smoothValues(12), [3, 4]), try indexTensor([3, 0, 1, 1, 2, 2], [3, 2])]) {
            try $0[0].gather(1, index: $0[1])
        }
    case .scatterAdd:
        return GradCase(inputs: [
            try gradLeaf(smoothValues(8), [2, 4]), try indexTensor([1, 1, 3, 0], [2, 2]),
            try gradLeaf([0.5, -1, 2, 0.25], [2, 2])
        ]) {
            try $0[0].scatterAdd(1, index: $0[1], source: $0[2])
        }
    case .embedding:
        return GradCase(inputs: [try gradLeaf(smoothValues(8), [4, 2]), try indexTensor([3, 0, 3, 1], [2, 2])]) {
            try Tensor.embedding($0[0], $0[1])
        }
    case .triangular:
        return GradCase(inputs: [try gradLeaf(smoothValues(12), [3, 4])]) { try $0[0].triangular(upper: true, diagonal: 1) }
    case .cumsum:
        return GradCase(inputs: [try gradLeaf(smoothValues(12), [3, 4])]) { try $0[0].cumsum(dim: 1) }
    case .layerNorm:
        let x = try gradLeaf(smoothValues(12), [3, 4]), w = try gradLeaf([0.5, 1.5, -0.7, 1.1], [4]), b = try gradLeaf([0.1, -0.2, 0.3, 0.4], [4])
        return GradCase(inputs: [x, w, b]) { try $0[0].layerNorm(weight: $0[1], bias: $0[2]) }
    case .rmsNorm:
        let x = try gradLeaf(smoothValues(12), [3, 4]), w = try gradLeaf([0.5, 1.5, -0.7, 1.1], [4])
        return GradCase(inputs: [x, w]) { try $0[0].rmsNorm(weight: $0[1]) }
    case .attention:
        let q = try gradLeaf(smoothValues(12), [1, 2, 2, 3]), k = try gradLeaf(smoothValues(12, seed: 3), [1, 2, 2, 3])
        let v = try gradLeaf(smoothValues(12, seed: 5), [1, 2, 2, 3])
        return GradCase(inputs: [q, k, v]) { try Tensor.attention($0[0], $0[1], $0[2], causal: true) }
    case .rope:
        let x = try gradLeaf(smoothValues(12), [1, 1, 3, 4])
        return GradCase(inputs: [x]) { try $0[0].rope(positions: indexTensor([2, 5, 9], [3]), base: 100, scaling: .linear(2)) }
    case .swiglu: return GradCase(inputs: [try gradLeaf(smoothValues(12), [3, 4])]) { try $0[0].swiglu() }
    case .geglu: return GradCase(inputs: [try gradLeaf(smoothValues(12), [3, 4])]) { try $0[0].geglu() }
    case .crossEntropy:
        let logits = try gradLeaf(smoothValues(12), [3, 4])
        let targets = try indexTensor([2, 0, 3], [3])
        return GradCase(inputs: [logits]) { try $0[0].crossEntropy(targets, labelSmoothing: 0.1) }
    case .custom:
        // y = 2·x computed unrecorded, with the VJP given as a closure (as LLMDistributed's collectives do)
        let double = CustomFunction(name: "double") { g in [try g.mul(2)] }
        return GradCase(inputs: [try gradLeaf(mixed, [2, 3])]) { xs in
            try GradMode.withoutGrad { try xs[0].mul(2) }.recordCustom(double, inputs: [xs[0]])
        }
    }
}

extension Tensor {
    /// transpose (a view) then contiguous(): the final recorded op is `copy`.
    func detachedTransposeCopy() throws -> Tensor { try transpose(0, 1).contiguous() }
}

@Suite("Gradient checks of every primitive")
struct GradCheckCoverageTests {
    @Test("finite differences agree with autograd", arguments: PrimitiveKind.allCases)
    func gradCheck(_ kind: PrimitiveKind) throws {
        let c = try gradCase(for: kind)
        for x in c.inputs { #expect(x.count <= 12, "keep grad-check inputs tiny") }
        let y = try c.f(c.inputs)
        #expect(y.gradNode?.op.kind == kind, "the checked function for \(kind) ends in \(String(describing: y.gradNode?.op.kind))")
        let result = try GradCheck.run(inputs: c.inputs, eps: 1e-3, atol: 2e-3, rtol: 2e-3, c.f)
        #expect(result.passed, "\(kind): \(result.report)")
    }

    @Test("PrimitiveKind names every Primitive case and every UnaryOp")
    func kindsCoverUnaryOps() {
        let unaryKinds = Set(UnaryOp.allCases.map { $0.kind })
        #expect(unaryKinds.count == UnaryOp.allCases.count)
        #expect(unaryKinds.isSubset(of: Set(PrimitiveKind.allCases)))
    }

    @Test("gradcheck detects a wrong gradient")
    func gradCheckFailsOnWrongVJP() throws {
        // detach() cuts the graph inside f, so autograd sees 0 for the second term: the check must fail
        let x = try gradLeaf([0.5, -1, 2], [3])
        let r = try GradCheck.run(inputs: [x]) { xs in try xs[0].mul(xs[0].detach()) }
        #expect(!r.passed)
    }
}
