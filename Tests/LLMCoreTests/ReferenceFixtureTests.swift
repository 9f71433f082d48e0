// ReferenceFixtureTests: checks LLMCore's forward results and gradients against PyTorch.
// The fixture Tests/Fixtures/core_ops.json is written by scripts/reference/make_core_fixtures.py (PyTorch,
// reference computed in float64 from float32-exact inputs). Every case holds its inputs, a fixed weight w
// for the first output, the outputs, and dL/dinput for L = Σ out·w. Here each case name maps to a closure
// that rebuilds the op through the public API; the output is back-propagated with gradient w.
// Tolerance: |got − want| ≤ atol + rtol·|want|, 1e-6 / 1e-5 unless a case needs float32 slack.
import Foundation
import Testing
@testable import LLMCore

// MARK: fixture model

struct FixtureTensor: Decodable, Sendable {
    let name: String?
    let shape: [Int]
    let dtype: String
    let requires_grad: Bool?
    let data: [Double]
}

struct FixtureCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let op: String
    let inputs: [FixtureTensor]
    let weight: FixtureTensor
    let outputs: [FixtureTensor]
    let grads: [FixtureTensor?]
    var testDescription: String { name }
}

struct FixtureFile: Decodable, Sendable {
    let meta: [String: String]
    let cases: [FixtureCase]
}

enum CoreFixture {
    /// Tests/Fixtures/core_ops.json, found relative to this source file.
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("core_ops.json")

    static let loaded: Result<FixtureFile, any Error> = Result {
        try JSONDecoder().decode(FixtureFile.self, from: Data(contentsOf: url))
    }

    static var cases: [FixtureCase] { (try? loaded.get())?.cases ?? [] }

    static func tensor(_ f: FixtureTensor) throws -> Tensor {
        let dtype: DType = f.dtype == "int64" ? .int64 : .float32
        let t = try Tensor.from(f.data, shape: f.shape, dtype: dtype)
        if f.requires_grad == true { try t.setRequiresGrad(true) }
        return t
    }
}

// MARK: the ops, one closure per fixture case (inputs in fixture order)

typealias FixtureOp = @Sendable ([Tensor]) throws -> [Tensor]

let fixtureOps: [String: FixtureOp] = [
    "add_row": { [try $0[0].add($0[1])] },
    "add_col": { [try $0[0].add($0[1])] },
    "sub_row": { [try $0[0].sub($0[1])] },
    "sub_col": { [try $0[0].sub($0[1])] },
    "mul_row": { [try $0[0].mul($0[1])] },
    "mul_col": { [try $0[0].mul($0[1])] },
    "div_row": { [try $0[0].div($0[1])] },
    "div_col": { [try $0[0].div($0[1])] },
    "pow_row": { [try $0[0].pow($0[1])] },
    "pow_col": { [try $0[0].pow($0[1])] },
    "neg": { [try $0[0].neg()] },
    "exp": { [try $0[0].exp()] },
    "log": { [try $0[0].log()] },
    "sqrt": { [try $0[0].sqrt()] },
    "rsqrt": { [try $0[0].rsqrt()] },
    "abs": { [try $0[0].abs()] },
    "tanh": { [try $0[0].tanh()] },
    "sigmoid": { [try $0[0].sigmoid()] },
    "relu": { [try $0[0].relu()] },
    "gelu_exact": { [try $0[0].gelu(approximate: false)] },
    "gelu_tanh": { [try $0[0].gelu(approximate: true)] },
    "silu": { [try $0[0].silu()] },
    "pow_scalar3": { [try $0[0].pow(3.0)] },
    "clamp": { [try $0[0].clamp(min: -0.5, max: 0.5)] },
    "where": { [try Tensor.where($0[0], $0[1], $0[2])] },
    "sum_dim1_keepdim": { [try $0[0].sum(dims: [1], keepdim: true)] },
    "mean_all": { [try $0[0].mean()] },
    "var_dim1": { [try $0[0].variance(dims: [1], correction: 1)] },
    "max_dim1": {
        let r = try $0[0].extremum(dim: 1, max: true); return [r.values, r.indices]
    },
    "logsumexp_dim1": { [try $0[0].logsumexp(dim: 1)] },
    "softmax_dim1": { [try $0[0].softmax(dim: 1)] },
    "log_softmax_dim0": { [try $0[0].logSoftmax(dim: 0)] },
    "norm_p2": { [try $0[0].norm(p: 2)] },
    "norm_p3_dim1": { [try $0[0].norm(p: 3, dims: [1])] },
    "matmul_2d": { [try $0[0].matmul($0[1])] },
    "matmul_batched_bcast": { [try $0[0].matmul($0[1])] },
    "matmul_transposed_a": { [try $0[0].transpose(0, 1).matmul($0[1])] },
    "matmul_transposed_b": { [try $0[0].matmul($0[1].transpose(0, 1))] },
    "reshape": { [try $0[0].reshape([4, 6])] },
    "permute": { [try $0[0].permute([2, 0, 1])] },
    "permute_reshape": { [try $0[0].permute([2, 0, 1]).reshape([4, 6])] },
    "narrow": { [try $0[0].narrow(2, 1, 2)] },
    "expand": { [try $0[0].expand([2, 3, 4])] },
    "cat_dim1": { [try Tensor.cat([$0[0], $0[1]], dim: 1)] },
    "stack_dim0": { [try Tensor.stack([$0[0], $0[1]], dim: 0)] },
    "index_select_dim0": { [try $0[0].indexSelect(0, $0[1])] },
    "gather_dim1": { [try $0[0].gather(1, index: $0[1])] },
    "scatter_add_dim1": { [try $0[0].scatterAdd(1, index: $0[1], source: $0[2])] },
    "embedding": { [try Tensor.embedding($0[0], $0[1])] },
    "tril": { [try $0[0].triangular(upper: false, diagonal: 0)] },
    "triu": { [try $0[0].triangular(upper: true, diagonal: 0)] },
    "triu_diag1": { [try $0[0].triangular(upper: true, diagonal: 1)] },
    "tril_diag_neg1": { [try $0[0].triangular(upper: false, diagonal: -1)] }
]

/// Per-case (rtol, atol) for cases whose float32 arithmetic needs more slack than the default.
/// Empty today: every case also passes at rtol 1e-6 / atol 1e-7 (measured with torch 2.15).
let fixtureTolerance: [String: (rtol: Double, atol: Double)] = [:]

// MARK: comparison

/// Describes the elements of `got` that differ from `want` beyond tolerance (empty when all match).
func mismatches(_ got: [Double], _ want: [Double], rtol: Double, atol: Double) -> [String] {
    guard got.count == want.count else { return ["count \(got.count) vs \(want.count)"] }
    var out: [String] = []
    for (i, (g, w)) in zip(got, want).enumerated() {
        let ok = g == w || Swift.abs(g - w) <= atol + rtol * Swift.abs(w)
        if !ok { out.append("[\(i)] got \(g), want \(w) (diff \(g - w))") }
    }
    return out
}

// MARK: tests

@Suite("PyTorch reference fixtures")
struct ReferenceFixtureTests {
    @Test("fixture loads and every case has an op, every op a case")
    func fixtureCoverage() throws {
        let file = try CoreFixture.loaded.get()
        let names = Set(file.cases.map(\.name))
        #expect(names.count == file.cases.count, "duplicate case names")
        #expect(
            names == Set(fixtureOps.keys),
            "fixture-only: \(names.subtracting(fixtureOps.keys).sorted()), test-only: \(Set(fixtureOps.keys).subtracting(names).sorted())")
        #expect(file.meta["torch"] != nil)
    }

    @Test("forward and gradient match PyTorch", arguments: CoreFixture.cases)
    func matchesReference(_ c: FixtureCase) throws {
        let op = try #require(fixtureOps[c.name], "no op for fixture case \(c.name)")
        let tol = fixtureTolerance[c.name] ?? (rtol: 1e-5, atol: 1e-6)
        let inputs = try c.inputs.map(CoreFixture.tensor)
        let outs = try op(inputs)
        try #require(outs.count == c.outputs.count, "\(c.name): \(outs.count) outputs, fixture has \(c.outputs.count)")
        for (k, (got, want)) in zip(outs, c.outputs).enumerated() {
            #expect(got.shape == want.shape, "\(c.name) output \(k): shape")
            if want.dtype == "int64" {
                #expect(!got.dtype.isFloatingPoint, "\(c.name) output \(k): expected integer dtype, got \(got.dtype)")
                #expect(got.toDoubles() == want.data, "\(c.name) output \(k): indices")
            } else {
                let bad = mismatches(got.toDoubles(), want.data, rtol: tol.rtol, atol: tol.atol)
                #expect(bad.isEmpty, "\(c.name) output \(k) forward:\n\(bad.joined(separator: "\n"))")
            }
        }
        // backward with gradient w is dL/d out for L = Σ out·w
        try outs[0].backward(CoreFixture.tensor(c.weight))
        for (k, (x, want)) in zip(inputs, c.grads).enumerated() {
            guard let want else {
                #expect(x.grad == nil, "\(c.name) input \(k) should get no gradient")
                continue
            }
            let g = try #require(x.grad, "\(c.name) input \(k): no gradient")
            #expect(g.shape == want.shape, "\(c.name) input \(k): grad shape \(g.shape) vs \(want.shape)")
            let bad = mismatches(g.toDoubles(), want.data, rtol: tol.rtol, atol: tol.atol)
            #expect(bad.isEmpty, "\(c.name) input \(k) gradient:\n\(bad.joined(separator: "\n"))")
        }
    }
}
