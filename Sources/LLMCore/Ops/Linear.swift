// Fused affine map over the last dim, one primitive with its own backward (PyTorch's F.linear).
// Shapes: x (..., K), weight (N, K), bias (N) -> y (..., N); the leading dims fold into M rows.
// Forward: one GEMM y = x·Wᵀ + b: oneDNN fuses the bias into its kernel; on OpenBLAS the rows start as the
// bias and the GEMM adds x·Wᵀ (beta = 1: no zeroing pass, no separate add). GEMMRoute picks the library.
// Backward: dx = g·W (M,K); dW = gᵀ·x (N,K), already in the weight's layout; db = column sums of g.
// A single row (decoding) uses sgemv. Saved: nothing beyond the inputs (x and W are read back).
import CKernels

extension Tensor {
    /// Affine map over the last dim: x·wᵀ + b, with weight (out, in) as in PyTorch's Linear.
    public func linear(_ weight: Tensor, _ bias: Tensor?) throws -> Tensor {
        guard weight.rank == 2 else { throw TensorError.shape("linear: weight must be 2-D (out, in), got \(shapeString(weight.shape))") }
        guard rank >= 1, shape[rank - 1] == weight.shape[1] else {
            throw TensorError.shape("linear: input \(shapeString(shape)) does not match weight \(shapeString(weight.shape)) (expected last dim \(weight.shape[1]))")
        }
        if let bias, bias.shape != [weight.shape[0]] {
            throw TensorError.shape("linear: bias has shape \(shapeString(bias.shape)), expected [\(weight.shape[0])]")
        }
        let (n, k) = (weight.shape[0], weight.shape[1])
        guard Int32(exactly: n) != nil, Int32(exactly: k) != nil, Int32(exactly: count / Swift.max(k, 1)) != nil else {
            throw TensorError.shape("linear: dimensions of \(shapeString(shape)) x \(shapeString(weight.shape)) exceed BLAS's 32-bit limit")
        }
        let m = k == 0 ? count : count / k
        let out = try Tensor(shape: Array(shape.dropLast()) + [n], zeroed: bias == nil && k == 0)  // else the GEMM writes every element
        try GradMode.withoutGrad {
            let b = try bias?.asFloat().contiguous()
            guard m > 0, n > 0 else { return }
            guard k > 0 else {
                if let b { Tensor.fillRows(out.f32, with: b.f32, m: m, n: n) }
                return
            }
            let x = try asFloat().detach().reshape([m, k]), w = try weight.asFloat().detach()
            try Tensor.gemm(x, transposeB: true, w, into: out.f32, m: m, n: n, k: k, bias: b.map { UnsafePointer($0.f32) }, beta: 0)
        }
        return out.record(.linear(hasBias: bias != nil), [self, weight] + (bias.map { [$0] } ?? []))
    }

    /// out (m,n) = a (m,k) · (b or bᵀ) [+ bias row] + beta·out, with b (k,n), or (n,k) when `transposeB`; any
    /// BLAS-compatible strides (other layouts are copied once); the library as ``gemmRows`` picks it.
    static func gemm(
        _ a: Tensor, transposeB: Bool, _ b: Tensor, into out: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int,
        bias: UnsafePointer<Float>? = nil, beta: Float
    ) throws {
        let (pa, ta, lda) = try blasOperand(a, m, k)
        let (pb, tb0, ldb) = try blasOperand(b, transposeB ? n : k, transposeB ? k : n)
        gemmRows(
            pa.f32, transposedA: ta, lda: lda, pb.f32, transposedB: tb0 != transposeB, ldb: ldb, m: m, n: n, k: k,
            bias: bias, beta: beta, into: out)
    }

    // g: (..., N); inputs x (..., K), weight (N, K), [bias (N)] -> [dx, dweight, dbias]
    static func linearVJP(_ g: Tensor, _ inputs: [Tensor]) throws -> [Tensor?] {
        let x = inputs[0], w = inputs[1], bias = inputs.count > 2 ? inputs[2] : nil
        let (n, k) = (w.shape[0], w.shape[1])
        let m = k == 0 ? x.count : x.count / k
        return try GradMode.withoutGrad {
            let gr = try g.asFloat().detach().contiguous().reshape([m, n])
            var dx: Tensor? = nil, dw: Tensor? = nil, db: Tensor? = nil
            if x.requiresGrad {
                let d = try Tensor(shape: x.shape, zeroed: m == 0 || n == 0 || k == 0)
                if m > 0, n > 0, k > 0 { try gemm(gr, transposeB: false, w.asFloat().detach(), into: d.f32, m: m, n: k, k: n, beta: 0) }
                dx = d
            }
            if w.requiresGrad {
                let d = try Tensor(shape: [n, k], zeroed: m == 0 || n == 0 || k == 0)
                if m > 0, n > 0, k > 0 {
                    let xr = try x.asFloat().detach().reshape([m, k])
                    try gemm(gr.transpose(0, 1), transposeB: false, xr, into: d.f32, m: n, n: k, k: m, beta: 0)
                }
                dw = d
            }
            if let bias, bias.requiresGrad {
                let d = try Tensor(shape: [n])
                let pg = gr.f32, pd = d.f32
                if m > 0 { Parallel.forRanges(n, cost: m) { cols in llmk_add_column_sums(pd + cols.lowerBound, pg + cols.lowerBound, m, cols.count, n) } }
                db = d
            }
            return [dx, dw] + (bias == nil ? [] : [db])
        }
    }
}
