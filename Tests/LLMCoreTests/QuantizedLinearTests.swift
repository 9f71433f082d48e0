// QuantizedLinearTests: the quantized products of Quant/QuantizedLinear.swift (CKernels quant.c) against a float
// reference within each format's error bound; every kernel version this CPU runs (AVX2, AVX-512) bit-identical
// to the baseline; round-to-nearest-even in the quantizers and the round op; casts that truncate and saturate;
// bad input (already quantized, a row not a multiple of 32, shape mismatches, a gradient-requiring input).
import CKernels
import Testing
@testable import LLMCore

@Suite("Quantized linear kernels", .serialized)
struct QuantizedLinearTests {
    /// Deterministic pseudo-random values in [-scale, scale].
    func values(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var s = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (0..<n).map { _ in
            s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Float(s >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

    /// Runs `body` at each kernel level this CPU can run (baseline first); restores the automatic choice.
    func atEachLevel(_ body: () throws -> [Float]) throws -> [[Float]] {
        defer { llmk_kernels_set_level(Int32(LLMK_LEVEL_AVX512)) }
        var out: [[Float]] = []
        for level in [LLMK_LEVEL_BASELINE, LLMK_LEVEL_AVX2, LLMK_LEVEL_AVX512].map(Int32.init) where level <= llmk_kernels_cpu_level() {
            guard llmk_kernels_set_level(level) == level else { continue }
            out.append(try body())
        }
        return out
    }

    @Test("Q8_0 and Q4_0 products match x·dequant(W)ᵀ within the activation quantization's bound")
    func blockFormatsAgainstFloat() throws {
        let (m, n, k) = (3, 20, 96)
        let x = try Tensor(values(m * k, seed: 1, scale: 2), shape: [m, k])
        let w = try Tensor(values(n * k, seed: 2), shape: [n, k]), b = try Tensor(values(n, seed: 3), shape: [n])
        for format in [BlockQuant.q8_0, .q4_0] {  // Q4_K (rows of 256): BlockQuantQ4KTests
            let q = try w.quantizeBlocks(format)
            #expect(q.dtype == .uint8 && q.shape == [n, k / 32 * format.bytesPerBlock])
            let wd = try q.dequantizeBlocks(format)
            #expect(wd.toFloats() == format.dequantize(format.quantize(w.toFloats()), count: n * k))  // the gguf-exact quantizer
            let y = try x.blockLinear(q, format: format, bias: b).toFloats(), ref = try x.linear(wd, b).toFloats()
            let xs = x.toFloats(), ws = wd.toFloats()
            for r in 0..<m {
                for c in 0..<n {
                    // each activation is off by at most half a step: max|x| over its 32-block / 254
                    var bound: Float = 1e-4
                    for j in 0..<k {
                        let blk = xs[(r * k + j / 32 * 32)..<(r * k + j / 32 * 32 + 32)].map(Swift.abs).max()!
                        bound += Swift.abs(ws[c * k + j]) * blk / 254 * 1.001
                    }
                    #expect(Swift.abs(y[r * n + c] - ref[r * n + c]) <= bound, "\(format) row \(r) col \(c)")
                }
            }
        }
    }

    @Test("int8 per channel: the product matches x·dequant(W)ᵀ within the per-token activation bound")
    func int8AgainstFloat() throws {
        let (m, n, k) = (2, 9, 70)  // k not a multiple of 32: the int8 kernel's tail
        let x = try Tensor(values(m * k, seed: 4, scale: 3), shape: [m, k]), w = try Tensor(values(n * k, seed: 5), shape: [n, k])
        let (q, s) = try w.quantizePerChannelInt8()
        let wd = try q.dequantizePerChannelInt8(scales: s)
        let y = try x.int8Linear(q, scales: s, bias: nil).toFloats(), ref = try x.linear(wd, nil).toFloats()
        let xs = x.toFloats(), ws = wd.toFloats()
        for r in 0..<m {
            let amax = xs[(r * k)..<(r * k + k)].map(Swift.abs).max()!
            for c in 0..<n {
                let bound = (0..<k).reduce(Float(1e-4)) { $0 + Swift.abs(ws[c * k + $1]) * amax / 254 * 1.001 }
                #expect(Swift.abs(y[r * n + c] - ref[r * n + c]) <= bound)
            }
        }
        // a static activation scale quantizes with that scale
        let fixed = try x.int8Linear(q, scales: s, bias: nil, activationScale: 0.05).toFloats()
        #expect(fixed.count == m * n)
    }

    @Test("f16 and bf16 weights: the product equals the float product of the converted weight")
    func halfWeights() throws {
        let (m, n, k) = (3, 11, 45)
        let x = try Tensor(values(m * k, seed: 13), shape: [m, k]), w = try Tensor(values(n * k, seed: 14), shape: [n, k])
        let b = try Tensor(values(n, seed: 15), shape: [n])
        for dtype in [DType.float16, .bfloat16] {
            let h = try w.toDType(dtype)
            let y = try x.halfLinear(h, bias: b).toFloats(), ref = try x.linear(h.toDType(.float32), b).toFloats()
            #expect(zip(y, ref).allSatisfy { Swift.abs($0 - $1) < 1e-5 }, "\(dtype)")
        }
        #expect(throws: TensorError.self) { try x.halfLinear(w, bias: nil) }
    }

    @Test("the AVX2 and AVX-512 versions agree bit for bit with the baseline (integer paths)")
    func kernelVersionsAgree() throws {
        let (m, n, k) = (4, 37, 256)
        let x = try Tensor(values(m * k, seed: 7, scale: 5), shape: [m, k]), w = try Tensor(values(n * k, seed: 8), shape: [n, k])
        let b = try Tensor(values(n, seed: 9), shape: [n])
        for format in BlockQuant.allCases {
            let q = try w.quantizeBlocks(format)
            let runs = try atEachLevel { try x.blockLinear(q, format: format, bias: b).toFloats() }
            for r in runs.dropFirst() { #expect(r.map(\.bitPattern) == runs[0].map(\.bitPattern), "\(format)") }
        }
        let (q, s) = try w.quantizePerChannelInt8()
        let x2 = try Tensor(values(m * 77, seed: 10), shape: [m, 77]), w2 = try Tensor(values(n * 77, seed: 11), shape: [n, 77])
        let (q2, s2) = try w2.quantizePerChannelInt8()
        for (xi, qi, si) in [(x, q, s), (x2, q2, s2)] {
            let runs = try atEachLevel { try xi.int8Linear(qi, scales: si, bias: b).toFloats() }
            for r in runs.dropFirst() { #expect(r.map(\.bitPattern) == runs[0].map(\.bitPattern), "int8") }
        }
    }

    @Test("quantizers and round() round halves to even; casts to int8 truncate toward zero and saturate")
    func roundingAndCasts() throws {
        let t = try Tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51], shape: [8])
        #expect(try t.round().toFloats() == [-2, -2, -0, 0, 2, 2, 0, -1])
        #expect(try t.floor().toFloats() == [-3, -2, -1, 0, 1, 2, 0, -1])
        #expect(try t.ceil().toFloats() == [-2, -1, -0, 1, 2, 3, 1, -0])
        #expect(try t.sign().toFloats() == [-1, -1, -1, 1, 1, 1, 1, -1])
        // scale = 127/127 = 1: the quants are the values rounded half to even
        var row: [Float] = [127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5]
        row += [Float](repeating: 0, count: 24)
        let (q, s) = try Tensor(row, shape: [1, 32]).quantizePerChannelInt8()
        #expect(s.toFloats() == [1])
        #expect(Array(q.toFloats().prefix(8)) == [127, 0, 2, 2, 0, -2, -2, 4])
        let casted = try Tensor([-3.9, 3.9, 300, -300, 127.9, -0.7], shape: [6]).toDType(.int8)
        #expect(casted.toFloats() == [-3, 3, 127, -128, 127, 0])
    }

    @Test("bad input: already quantized, rows not a multiple of 32, shape mismatches, gradients")
    func badInput() throws {
        let w = try Tensor(values(4 * 64, seed: 12), shape: [4, 64])
        let q = try w.quantizeBlocks(.q8_0)
        #expect(throws: TensorError.self) { try q.quantizeBlocks(.q8_0) }
        #expect(throws: TensorError.self) { try q.quantizePerChannelInt8() }
        #expect(throws: TensorError.self) { try Tensor(values(4 * 33, seed: 1), shape: [4, 33]).quantizeBlocks(.q4_0) }
        #expect(throws: TensorError.self) { try Tensor(values(8, seed: 1), shape: [8]).quantizeBlocks(.q8_0) }
        #expect(throws: TensorError.self) { try Tensor(values(2 * 32, seed: 1), shape: [2, 32]).blockLinear(q, format: .q8_0, bias: nil) }
        #expect(throws: TensorError.self) { try Tensor(values(64, seed: 1), shape: [1, 64]).blockLinear(q, format: .q4_0, bias: nil) }
        #expect(throws: TensorError.self) { try Tensor(values(64, seed: 1), shape: [1, 64]).blockLinear(q, format: .q8_0, bias: Tensor(shape: [3])) }
        let x = try gradLeaf(values(64, seed: 2), [1, 64])
        #expect(throws: TensorError.self) { try x.blockLinear(q, format: .q8_0, bias: nil) }
        #expect(try GradMode.withoutGrad { try x.blockLinear(q, format: .q8_0, bias: nil) }.shape == [1, 4])
    }
}
