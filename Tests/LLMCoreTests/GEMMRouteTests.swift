// GEMMRouteTests: the GEMM library rule (oneDNN or OpenBLAS by shape and CPU level), oneDNN's products
// against OpenBLAS's on every layout (transposes, padded leading dimensions, fused bias, accumulation,
// 1 and 2 threads), bit-identical repeats, refused calls leaving the output untouched, and the Linear
// primitive's forward and gradients on shapes the rule sends to oneDNN, against a double-precision reference.
import CBLAS
import CDNNLShim
import Testing
@testable import LLMCore

@Suite("GEMM routing: OpenBLAS and oneDNN")
struct GEMMRouteTests {
    @Test("the rule: AVX-512 takes oneDNN above the work floor; AVX2 only for short overwriting products")
    func rule() {
        let r = GEMMRoute.rule
        #expect(r(4096, 128, 128, true, .avx512) == .onednn)
        #expect(r(4096, 128, 128, false, .avx512) == .onednn)
        #expect(r(1, 2304, 768, true, .avx512) == .onednn)  // decoding's single rows too, when large
        #expect(r(1, 384, 1152, true, .avx512) == .openblas)
        #expect(r(8, 8, 8, true, .avx512) == .openblas)  // below the work floor
        #expect(r(4096, 384, 128, true, .avx2) == .onednn)
        #expect(r(4096, 128, 512, true, .avx2) == .onednn)
        #expect(r(4096, 128, 513, true, .avx2) == .openblas)  // long reduction
        #expect(r(128, 512, 4096, true, .avx2) == .openblas)  // a weight gradient over 4096 rows
        #expect(r(4096, 384, 128, false, .avx2) == .openblas)  // accumulating
        #expect(r(1, 2304, 768, true, .avx2) == .openblas)  // single row: sgemv
        #expect(r(4096, 128, 128, true, .baseline) == .onednn)
        #expect(GEMMRoute.minimumWork > 0 && GEMMRoute.avx2MaximumK == 512)
    }

    @Test("the route follows LLMSCRIPT_GEMM and whether oneDNN could be loaded")
    func routeAndSummary() {
        let big = GEMMRoute.library(m: 4096, n: 128, k: 128, overwrites: true)
        switch GEMMRoute.policy {
        case .openblas:
            #expect(big == .openblas)
            #expect(GEMMRoute.summary.contains("OpenBLAS for every product"))
        case .onednn, .auto:
            #expect(big == (GEMMRoute.oneDNNUsable ? .onednn : .openblas))
            #expect(GEMMRoute.summary.contains(GEMMRoute.oneDNNUsable ? "oneDNN" : "unavailable"))
        }
        #expect(GEMMRoute.library(m: 4, n: 4, k: 4, overwrites: true) == .openblas || GEMMRoute.policy == .onednn)
        #expect(RuntimeIdentity.current.summary.contains("gemm: "))
    }

    /// Deterministic values in [-1, 1).
    func values(_ n: Int, seed: Int) -> [Float] {
        var s = UInt64(seed &* 2_654_435_761 &+ 1)
        return (0..<n).map { _ in
            s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: s >> 11) % 2_000_000) / 1_000_000 - 1
        }
    }

    /// c = op(a)·op(b) [+ bias] + beta·c through cblas_sgemm (the reference), row-major with leading dims.
    func blasProduct(
        _ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: [Float], _ lda: Int, _ b: [Float], _ ldb: Int,
        _ bias: [Float]?, _ beta: Float, _ c0: [Float], _ ldc: Int
    ) -> [Float] {
        var c = c0
        if let bias { for r in 0..<m { for j in 0..<n { c[r * ldc + j] = bias[j] } } }
        cblas_sgemm(
            CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
            a, Int32(lda), b, Int32(ldb), bias == nil ? beta : 1, &c, Int32(ldc))
        return c
    }

    @Test(
        "oneDNN's products equal OpenBLAS's on every layout, with bias, accumulation and 1 or 2 threads",
        .enabled(if: llms_dnnl_available() != 0, "oneDNN (libdnnl.so.2) is not installed here"))
    func oneDNNMatchesOpenBLAS() throws {
        let shapes = [(37, 53, 29), (64, 96, 128), (1, 70, 33), (130, 7, 300)]
        for (m, n, k) in shapes {
            for ta in [false, true] {
                for tb in [false, true] {
                    for (bias, beta) in [(false, Float(0)), (true, 0), (false, 1)] {
                        for threads in [1, 2] {
                            let pad = 3
                            let lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n
                            let a = values((ta ? k : m) * lda, seed: m + k), b = values((tb ? n : k) * ldb, seed: n * 7 + k)
                            let biasValues = bias ? values(n, seed: 11) : nil, c0 = values(m * ldc, seed: 5)
                            let want = blasProduct(ta, tb, m, n, k, a, lda, b, ldb, biasValues, beta, c0, ldc)
                            var got = c0
                            let status =
                                biasValues.map { bv in
                                    llms_dnnl_gemm(Int32(ta ? 1 : 0), Int32(tb ? 1 : 0), m, n, k, a, lda, b, ldb, bv, beta, &got, ldc, Int32(threads))
                                } ?? llms_dnnl_gemm(Int32(ta ? 1 : 0), Int32(tb ? 1 : 0), m, n, k, a, lda, b, ldb, nil, beta, &got, ldc, Int32(threads))
                            #expect(status == 0)
                            let err = zip(got, want).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
                            #expect(err < 1e-5, "m \(m) n \(n) k \(k) ta \(ta) tb \(tb) bias \(bias) beta \(beta) threads \(threads): \(err)")
                        }
                    }
                }
            }
        }
        #expect(llms_dnnl_cached_primitives() > 0)
    }

    @Test(
        "oneDNN gives bit-identical results when a product repeats, and refuses what it cannot run without writing",
        .enabled(if: llms_dnnl_available() != 0, "oneDNN (libdnnl.so.2) is not installed here"))
    func repeatsAndRefusals() {
        let (m, n, k) = (512, 256, 128)
        let a = values(m * k, seed: 1), b = values(n * k, seed: 2)
        var first = [Float](repeating: 0, count: m * n), second = first
        #expect(llms_dnnl_gemm(0, 1, m, n, k, a, k, b, k, nil, 0, &first, n, 2) == 0)
        for _ in 0..<3 {
            #expect(llms_dnnl_gemm(0, 1, m, n, k, a, k, b, k, nil, 0, &second, n, 2) == 0)
            #expect(first == second)
        }
        var untouched = [Float](repeating: 7, count: m * n)
        #expect(llms_dnnl_gemm(0, 1, m, n, k, a, k, b, k, nil, 0.5, &untouched, n, 2) != 0)  // beta must be 0 or 1
        #expect(llms_dnnl_gemm(0, 1, 0, n, k, a, k, b, k, nil, 0, &untouched, n, 2) != 0)  // empty
        #expect(llms_dnnl_gemm(0, 1, m, n, k, a, k, b, k, nil, 0, &untouched, n, 0) != 0)  // no threads
        #expect(untouched.allSatisfy { $0 == 7 })
    }

    @Test("Linear on shapes routed to oneDNN: forward with the fused bias and both gradients match a double reference")
    func linearOnRoutedShapes() throws {
        let (m, n, k) = (64, 96, 128)  // forward, dx (k = 96) and dW (k = 64) all overwrite with short k
        #expect(GEMMRoute.rule(m: m, n: n, k: k, overwrites: true, level: .avx2) == .onednn)
        let xv = values(m * k, seed: 3), wv = values(n * k, seed: 4), bv = values(n, seed: 5), gv = values(m * n, seed: 6)
        let x = try gradLeaf(xv, [m, k]), w = try gradLeaf(wv, [n, k]), b = try gradLeaf(bv, [n])
        let y = try x.linear(w, b)
        try y.mul(Tensor(gv, shape: [m, n])).sum(dims: [0, 1], keepdim: false).backward()
        var yRef = [Double](repeating: 0, count: m * n), dx = [Double](repeating: 0, count: m * k)
        var dw = [Double](repeating: 0, count: n * k), db = [Double](repeating: 0, count: n)
        for i in 0..<m {
            for j in 0..<n {
                var s = Double(bv[j])
                for p in 0..<k { s += Double(xv[i * k + p]) * Double(wv[j * k + p]) }
                yRef[i * n + j] = s
                let g = Double(gv[i * n + j])
                db[j] += g
                for p in 0..<k {
                    dx[i * k + p] += g * Double(wv[j * k + p])
                    dw[j * k + p] += g * Double(xv[i * k + p])
                }
            }
        }
        func worst(_ t: Tensor?, _ ref: [Double]) throws -> Double {
            let got = try #require(t).toFloats()
            return zip(got, ref).map { Swift.abs(Double($0) - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? .infinity
        }
        #expect(try worst(y, yRef) < 1e-5)
        #expect(try worst(x.grad, dx) < 1e-5)
        #expect(try worst(w.grad, dw) < 1e-5)
        #expect(try worst(b.grad, db) < 1e-5)
    }
}
