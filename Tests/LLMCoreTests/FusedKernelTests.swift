// FusedKernelTests: the fused linear primitive on every path (GEMM with the bias prefilled, a single row
// through sgemv, no bias, a transposed input, frozen operands), and the SIMD kernels of CKernels: the
// polynomials against libm, and every kernel version this CPU can run (AVX2+FMA, AVX-512) against the baseline.
import CKernels
import Foundation
import Testing
@testable import LLMCore

@Suite("Fused linear and SIMD kernels", .serialized)
struct FusedKernelTests {
    /// x·wᵀ + b through matmul and add (the unfused reference).
    func reference(_ x: Tensor, _ w: Tensor, _ b: Tensor?) throws -> Tensor {
        let y = try x.matmul(w.transpose(0, 1))
        return try b.map { try y.add($0) } ?? y
    }

    func maxDiff(_ a: Tensor, _ b: Tensor) throws -> Float {
        zip(a.toFloats(), b.toFloats()).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    @Test("linear matches matmul + add on every path, and its gradients pass finite differences")
    func linearPaths() throws {
        let w = try gradLeaf(smoothValues(12, seed: 3), [4, 3]), b = try gradLeaf([0.1, -0.2, 0.3, 0.4], [4])
        let cases: [(String, Tensor, (Tensor) throws -> Tensor)] = [
            ("single row (sgemv)", try gradLeaf(smoothValues(3), [3]), { $0 }),
            ("batched rows", try gradLeaf(smoothValues(12), [2, 2, 3]), { $0 }),
            ("transposed input", try gradLeaf(smoothValues(6), [3, 2]), { try $0.transpose(0, 1) })
        ]
        for (name, leaf, input) in cases {
            for bias in [b, nil] {
                #expect(try maxDiff(input(leaf).linear(w, bias), reference(input(leaf), w, bias)) < 1e-6, "\(name)")
                let leaves = [leaf, w] + (bias.map { [$0] } ?? [])
                let r = try GradCheck.run(inputs: leaves, eps: 1e-3, atol: 2e-3, rtol: 2e-3) { try input($0[0]).linear($0[1], $0.count > 2 ? $0[2] : nil) }
                #expect(r.passed, "\(name), bias \(bias != nil): \(r.report)")
            }
        }
        // a frozen weight gets no gradient, the input still does
        let frozen = try Tensor(smoothValues(12, seed: 3), shape: [4, 3])
        let x = try gradLeaf(smoothValues(6), [2, 3])
        try x.linear(frozen, nil).sum(dims: [0, 1], keepdim: false).backward()
        #expect(frozen.grad == nil)
        #expect(try maxDiff(#require(x.grad), frozen.sum(dims: [0], keepdim: true).expand([2, 3])) < 1e-6)
    }

    @Test("a tied weight (embedding + linear head) gets the sum of both gradients, accumulated in place")
    func tiedWeightGradient() throws {
        let ids = try Tensor.from([2, 0, 2, 4], shape: [4], dtype: .int64)  // a repeated id
        let values = smoothValues(15, seed: 2)
        func grads(embedding: Bool, head: Bool) throws -> [Float] {
            let w = try gradLeaf(values, [5, 3])
            let h = try Tensor.embedding(w, ids)  // (4, 3)
            let x = embedding ? h : h.detach()
            let logits = try x.linear(head ? w : w.detach(), nil)  // (4, 5)
            try logits.mul(try Tensor(smoothValues(20, seed: 4), shape: [4, 5])).sum().backward()
            return try #require(w.grad).toFloats()
        }
        let tied = try grads(embedding: true, head: true)
        let separate = zip(try grads(embedding: true, head: false), try grads(embedding: false, head: true)).map { $0 + $1 }
        #expect(zip(tied, separate).allSatisfy { Swift.abs($0 - $1) < 1e-6 })
    }

    @Test("linear rejects mismatched shapes with the op and both shapes")
    func linearErrors() throws {
        let w = try Tensor(shape: [4, 3])
        #expect(throws: TensorError.self) { try Tensor(shape: [2, 5]).linear(w, nil) }
        #expect(throws: TensorError.self) { try Tensor(shape: [2, 3]).linear(w, Tensor(shape: [3])) }
        #expect(throws: TensorError.self) { try Tensor(shape: [2, 3]).linear(Tensor(shape: [4]), nil) }
    }

    @Test(
        "blocked causal attention (64-row blocks skipping the masked triangle) equals the unfused reference",
        arguments: [(130, 130), (70, 90), (64, 64)])
    func blockedCausalAttention(_ sizes: (Int, Int)) throws {
        let (t, s, d) = (sizes.0, sizes.1, 8)
        func leaf(_ n: Int, _ shape: [Int], _ f: Double) throws -> Tensor {
            try gradLeaf((0..<n).map { Float(sin(Double($0) * f)) }, shape)
        }
        let q = try leaf(2 * t * d, [1, 2, t, d], 0.31), k = try leaf(2 * s * d, [1, 2, s, d], 0.17), v = try leaf(2 * s * d, [1, 2, s, d], 0.23)
        let g = try Tensor((0..<(2 * t * d)).map { Float(cos(Double($0) * 0.07)) }, shape: [1, 2, t, d])
        let fused = try Tensor.attention(q, k, v, causal: true)
        try fused.mul(g).sum().backward()
        let fusedGrads = try [q, k, v].map { try #require($0.grad).toFloats() }
        for x in [q, k, v] { x.grad = nil }
        // reference: query i sees keys j ≤ i + S − T
        let mask = try Tensor.from((0..<(t * s)).map { ($0 % s) <= $0 / s + s - t ? 0 : -1e9 }, shape: [t, s])
        let scale = 1 / Float(d).squareRoot()
        let p = try q.matmul(k.transpose(2, 3)).mul(scale).add(mask).softmax(dim: 3)
        let reference = try p.matmul(v)
        try reference.mul(g).sum().backward()
        #expect(try maxDiff(fused, reference) < 2e-6)
        for (x, fg) in zip([q, k, v], fusedGrads) {
            let worst = zip(fg, try #require(x.grad).toFloats()).map { Swift.abs($0 - $1) }.max() ?? 0
            #expect(worst < 5e-6, "t \(t), s \(s)")
        }
    }

    @Test("exp and tanh polynomials agree with libm")
    func polynomials() {
        var worstExp: Float = 0, worstTanh: Float = 0
        for i in -8000...8000 {
            let x = Float(i) / 100  // [-80, 80]
            let e = Foundation.exp(Double(x))
            worstExp = Swift.max(worstExp, Float(Swift.abs(Double(llmk_exp(x)) - e) / e))
            let t = Foundation.tanh(Double(x))
            worstTanh = Swift.max(worstTanh, Float(Swift.abs(Double(llmk_tanh(x)) - t) / Swift.max(Swift.abs(t), 1e-30)))
        }
        #expect(worstExp < 5e-7)
        #expect(worstTanh < 1e-6)
        #expect(llmk_exp(.nan).isNaN && llmk_tanh(.nan).isNaN)
    }

    @Test("GELU (tanh form) is relatively accurate everywhere, including the negative tail")
    func geluAccuracy() {
        let xs = (-1000...1000).map { Float($0) / 100 }  // [-10, 10]
        var y = [Float](repeating: 0, count: xs.count), d = y
        let ones = [Float](repeating: 1, count: xs.count)
        llmk_gelu_tanh_forward(xs, &y, xs.count)
        llmk_gelu_tanh_backward(ones, xs, &d, xs.count)
        var worstY = 0.0, worstD = 0.0
        for (i, xf) in xs.enumerated() {
            // in double, in the stable form 0.5·(1 + tanh u) = σ(2u) (1 + tanh u itself cancels in the tail)
            let x = Double(xf), u = 0.7978845608028654 * (x + 0.044715 * x * x * x), s = 1 / (1 + Foundation.exp(-2 * u))
            let ref = x * s
            let dref = s + 2 * x * s * (1 - s) * 0.7978845608028654 * (1 + 3 * 0.044715 * x * x)
            if Swift.abs(ref) > 1e-30 { worstY = Swift.max(worstY, Swift.abs(Double(y[i]) - ref) / Swift.abs(ref)) }
            worstD = Swift.max(worstD, Swift.abs(Double(d[i]) - dref) / Swift.max(Swift.abs(dref), 1e-3))
        }
        #expect(worstY < 1e-5, "GELU relative error \(worstY)")  // 0.5·x·(1 + tanh u) in float32 reaches ~1e-3 at x = −4
        #expect(worstD < 1e-5, "GELU' error \(worstD)")
    }

    /// The kernel outputs and gradients of one pass over every CKernels entry point the ops use (GELU, layer
    /// and RMS norm, attention rows, cross-entropy, tanh), with whichever kernel version is selected.
    func kernelOutputs() throws -> [[Float]] {
        let n = 4 * 1031  // not a multiple of 8 or 16: the scalar tails run too
        let x = try Tensor((0..<n).map { Float(sin(Double($0) * 0.37) * 4) }, shape: [4, 1031])
        let g = try Tensor((0..<n).map { Float(cos(Double($0) * 0.11)) }, shape: [4, 1031])
        let w = try Tensor((0..<1031).map { Float(1 + 0.1 * sin(Double($0))) }, shape: [1031])
        let targets = try Tensor.from([3, 0, 1030, 17], shape: [4], dtype: .int64)
        let xs = x.detach(), ws = w.detach()
        try xs.setRequiresGrad(true); try ws.setRequiresGrad(true)
        let gelu = try xs.gelu(approximate: true), ln = try xs.layerNorm(weight: ws, bias: nil)
        let qkv = try xs.narrow(1, 0, 1024).reshape([1, 2, 64, 32])  // attention rows of up to 64 keys
        let rms = try xs.rmsNorm(weight: ws), sm = try Tensor.attention(qkv, qkv.mul(0.5), qkv, causal: true)
        let ce = try xs.crossEntropy(targets)
        let total = try gelu.mul(g).add(ln.mul(g)).add(rms.mul(g)).sum(dims: [0, 1], keepdim: false)
            .add(sm.sum(dims: [0, 1, 2, 3], keepdim: false)).add(ce).add(xs.tanh().sum(dims: [0, 1], keepdim: false))
        try total.backward()
        return [
            gelu.toFloats(), ln.toFloats(), rms.toFloats(), sm.toFloats(), ce.toFloats(),
            try #require(xs.grad).toFloats(), try #require(ws.grad).toFloats()
        ]
    }

    /// Runs the kernels at `level` and at baseline and expects them to agree within 2e-6 (relative to each
    /// output's scale); restores the automatic choice.
    func expectAgreesWithBaseline(level: Int32) throws {
        defer { llmk_kernels_set_level(Int32(LLMK_LEVEL_AVX512)) }
        try #require(llmk_kernels_set_level(level) == level, "kernel level \(level) not selectable (LLMSCRIPT_NO_AVX2/NO_AVX512 set?)")
        let fast = try kernelOutputs()
        #expect(llmk_kernels_set_level(Int32(LLMK_LEVEL_BASELINE)) == Int32(LLMK_LEVEL_BASELINE))
        #expect(llmk_kernels_avx2() == 0)
        let base = try kernelOutputs()
        for (i, (a, b)) in zip(fast, base).enumerated() {
            let scale = b.map { Swift.abs($0) }.max() ?? 1
            let worst = zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
            #expect(worst <= 2e-6 * Swift.max(scale, 1), "output \(i): level \(level) vs baseline differ by \(worst)")
        }
    }

    @Test(
        "AVX2+FMA and baseline kernels give the same results",
        .enabled(if: llmk_kernels_cpu_level() >= LLMK_LEVEL_AVX2, "this CPU runs the baseline kernels only"))
    func isaVersionsAgree() throws {
        try expectAgreesWithBaseline(level: Int32(LLMK_LEVEL_AVX2))
    }

    @Test(
        "AVX-512 and baseline kernels give the same results",
        .enabled(
            if: llmk_kernels_cpu_level() >= LLMK_LEVEL_AVX512,
            "this CPU or OS lacks AVX-512 F/BW/VL/DQ, so the AVX-512 kernels cannot run here; the test runs on AVX-512 machines"))
    func avx512VersionsAgree() throws {
        try expectAgreesWithBaseline(level: Int32(LLMK_LEVEL_AVX512))
    }

    @Test("the automatic kernel choice is the CPU's level, capped by LLMSCRIPT_NO_AVX2 / LLMSCRIPT_NO_AVX512")
    func automaticChoice() {
        let env = ProcessInfo.processInfo.environment
        let cap = env["LLMSCRIPT_NO_AVX2"] == "1" ? 0 : env["LLMSCRIPT_NO_AVX512"] == "1" ? 1 : 2
        #expect(llmk_kernels_set_level(Int32(LLMK_LEVEL_AVX512)) == Swift.min(llmk_kernels_cpu_level(), Int32(cap)))
        #expect(Int(llmk_kernels_level()) == CPUInfo.kernels.rawValue)
        llmk_kernels_allow_avx2(0)
        #expect(llmk_kernels_level() == 0)
        llmk_kernels_allow_avx2(1)
        #expect(llmk_kernels_level() == Swift.min(llmk_kernels_cpu_level(), Int32(cap)))
    }
}
