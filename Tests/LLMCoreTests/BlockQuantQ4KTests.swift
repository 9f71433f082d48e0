// BlockQuantQ4KTests: the Q4_K k-quant (Quant/BlockQuant+Q4K.swift) bit-exact with llama.cpp's own C quantizer
// (Tests/Fixtures/q4_k.json from scripts/reference/make_q4k_fixtures.py: quantize_row_q4_K_ref and
// dequantize_row_q4_K of libggml-base); the Q4_K product kernel (CKernels quant.c) against x·dequant(W)ᵀ and
// bit-identical at every kernel level; rows not a multiple of 256 refused.
import CKernels
import Foundation
import Testing
@testable import LLMCore

@Suite("Q4_K block quantization", .serialized)
struct BlockQuantQ4KTests {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("q4_k.json")

    func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.utf8.makeIterator()
        while let h = it.next(), let l = it.next() { out.append(UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)!) }
        return out
    }

    func floats(_ hex: String) -> [Float] {
        let b = bytes(hex)
        return stride(from: 0, to: b.count, by: 4).map { i in
            Float(bitPattern: UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24)
        }
    }

    @Test("quantize and dequantize equal llama.cpp's quantize_row_q4_K_ref / dequantize_row_q4_K byte for byte")
    func bitExactWithLlamaCpp() throws {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.url)) as! [String: Any]
        let cases = root["cases"] as! [[String: String]]
        #expect(cases.count >= 10)
        for c in cases {
            let x = floats(c["x"]!), expected = bytes(c["q4_k"]!)
            let q = BlockQuant.q4_k.quantize(x)
            #expect(q == expected, "\(c["name"]!): bytes differ from llama.cpp's")
            let d = BlockQuant.q4_k.dequantize(expected, count: x.count)
            #expect(d.map(\.bitPattern) == floats(c["dequant"]!).map(\.bitPattern), "\(c["name"]!): dequantized values differ")
        }
    }

    /// Deterministic pseudo-random values in [-scale, scale].
    func values(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var s = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (0..<n).map { _ in
            s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Float(s >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

    @Test("the Q4_K product matches x·dequant(W)ᵀ within the activation bound and is identical at every kernel level")
    func productAgainstDequantized() throws {
        let (m, n, k) = (3, 13, 512)
        let x = try Tensor(values(m * k, seed: 21, scale: 2), shape: [m, k])
        let w = try Tensor(values(n * k, seed: 22).map { $0 + 0.3 }, shape: [n, k]), b = try Tensor(values(n, seed: 23), shape: [n])
        let q = try w.quantizeBlocks(.q4_k)
        #expect(q.shape == [n, k / 256 * 144])
        let wd = try q.dequantizeBlocks(.q4_k)
        let ref = try x.linear(wd, b).toFloats(), xs = x.toFloats(), ws = wd.toFloats()
        defer { llmk_kernels_set_level(Int32(LLMK_LEVEL_AVX512)) }
        var results: [[Float]] = []
        for level in [LLMK_LEVEL_BASELINE, LLMK_LEVEL_AVX2, LLMK_LEVEL_AVX512].map(Int32.init) where level <= llmk_kernels_cpu_level() {
            guard llmk_kernels_set_level(level) == level else { continue }
            results.append(try x.blockLinear(q, format: .q4_k, bias: b).toFloats())
        }
        #expect(results.count >= 1)
        for r in results.dropFirst() { #expect(r.map(\.bitPattern) == results[0].map(\.bitPattern), "SIMD differs from the baseline") }
        let y = results[0]
        for r in 0..<m {
            for c in 0..<n {
                var bound: Float = 1e-3
                for j in 0..<k {
                    let s = r * k + j / 32 * 32
                    bound += Swift.abs(ws[c * k + j]) * xs[s..<(s + 32)].map(Swift.abs).max()! / 254 * 1.001
                }
                #expect(Swift.abs(y[r * n + c] - ref[r * n + c]) <= bound, "row \(r) col \(c)")
            }
        }
    }

    @Test("rows not a multiple of 256 are refused; a byte row not whole super-blocks is refused")
    func badShapes() throws {
        #expect(throws: TensorError.self) { try Tensor(values(64, seed: 1), shape: [2, 32]).quantizeBlocks(.q4_k) }
        let w = try Tensor(values(2 * 256, seed: 2), shape: [2, 256]).quantizeBlocks(.q4_k)
        #expect(throws: TensorError.self) { try w.narrow(1, 0, 100).contiguous().dequantizeBlocks(.q4_k) }
        #expect(BlockQuant.q4_k.byteCount(values: 512) == 288 && BlockQuant.q4_k.valuesPerBlock == 256)
    }
}
