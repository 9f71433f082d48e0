// Matrix multiplication through cblas_sgemm: 1-D (dot / matrix-vector), 2-D and batched with broadcast
// batch dims. Transposed views are passed to BLAS as transposes (no copy); other strided layouts are
// copied once; single-row products (decoding) go through sgemv.
// Shapes: a (..., m, k) · b (..., k, n) -> (..., m, n). VJP: da = g·bᵀ, db = aᵀ·g.
import CBLAS

extension Tensor {
    /// Matrix product with PyTorch's `matmul` semantics for 1-D, 2-D and batched operands.
    public func matmul(_ other: Tensor) throws -> Tensor {
        guard rank >= 1, other.rank >= 1 else {
            throw TensorError.shape("matmul: both arguments need at least 1 dimension, got \(shapeString(shape)) and \(shapeString(other.shape))")
        }
        if rank == 1 && other.rank == 1 {
            return try unsqueeze(0).matmul(other.unsqueeze(1)).reshape([])
        }
        if rank == 1 { return try unsqueeze(0).matmul(other).squeeze(-2) }
        if other.rank == 1 { return try matmul(other.unsqueeze(1)).squeeze(-1) }
        // (..., m, k) · (k, n): one GEMM over all rows when the leading dims fold into m without a copy
        if rank > 2 && other.rank == 2, Tensor.viewStrides(shape, strides, [count / Swift.max(shape[rank - 1], 1), shape[rank - 1]]) != nil,
            shape[rank - 1] > 0
        {
            let rows = try reshape([-1, shape[rank - 1]])
            return try rows.matmul(other).reshape(Array(shape.dropLast()) + [other.shape[1]])
        }
        return try Tensor.batchedMatmul(self, other).record(.matmul, [self, other])
    }

    /// Row-major BLAS layout of a strided matrix: (transposed?, leading dimension), or nil if neither fits.
    static func blasLayout(rows: Int, cols: Int, rowStride: Int, colStride: Int) -> (trans: Bool, ld: Int)? {
        if (colStride == 1 || cols == 1) && (rows == 1 || rowStride >= cols) {
            return (false, Swift.max(rows == 1 ? cols : rowStride, cols, 1))
        }
        if (rowStride == 1 || rows == 1) && (cols == 1 || colStride >= rows) {
            return (true, Swift.max(cols == 1 ? rows : colStride, rows, 1))
        }
        return nil
    }

    /// out (m,n) = op(a) (m,k) · op(b) (k,n) [+ bias on every row] + beta·out on row-major BLAS operands (op =
    /// transpose when flagged, leading dimensions lda/ldb; a bias only with beta 0). ``GEMMRoute`` picks the
    /// library: oneDNN (bias fused into its kernel) or OpenBLAS (bias prefilled into the rows, then beta 1),
    /// where a single row (decoding with a KV cache) goes through sgemv, which streams b once without packing it.
    static func gemmRows(
        _ a: UnsafePointer<Float>, transposedA ta: Bool, lda: Int, _ b: UnsafePointer<Float>, transposedB tb: Bool,
        ldb: Int, m: Int, n: Int, k: Int, bias: UnsafePointer<Float>? = nil, beta: Float,
        into out: UnsafeMutablePointer<Float>
    ) {
        precondition(bias == nil || beta == 0, "gemmRows: a bias goes with beta 0")
        if GEMMRoute.runOnOneDNN(a, transposedA: ta, lda: lda, b, transposedB: tb, ldb: ldb, m: m, n: n, k: k, bias: bias, beta: beta, into: out) {
            return
        }
        var beta = beta
        if let bias {
            fillRows(out, with: bias, m: m, n: n)
            beta = 1
        }
        if m == 1 {
            let incx = Int32(ta ? lda : 1)
            if tb {  // b = Wᵀ with W (n, k) row-major: out = W · a
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, b, Int32(ldb), a, incx, beta, out, 1)
            } else {  // b (k, n) row-major: out = bᵀ · a
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), 1, b, Int32(ldb), a, incx, beta, out, 1)
            }
            return
        }
        cblas_sgemm(
            CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, out, Int32(n))
    }

    /// Writes the n values of `row` into each of the m rows of `out` (a bias before a beta-1 GEMM).
    static func fillRows(_ out: UnsafeMutablePointer<Float>, with row: UnsafePointer<Float>, m: Int, n: Int) {
        Parallel.forRanges(m, cost: n) { rows in for r in rows { (out + r * n).update(from: row, count: n) } }
    }

    /// The (rows, cols) matrices in the last two dims of `t` as a BLAS operand: (tensor, transposed?, leading
    /// dimension). Transposed views stay views; other strided layouts are copied once.
    static func blasOperand(_ t: Tensor, _ rows: Int, _ cols: Int) throws -> (Tensor, Bool, Int) {
        if let l = blasLayout(rows: rows, cols: cols, rowStride: t.strides[t.rank - 2], colStride: t.strides[t.rank - 1]),
            Int32(exactly: l.ld) != nil
        {
            return (t, l.trans, l.ld)
        }
        let c = try GradMode.withoutGrad { try t.detach().clone() }
        return (c, false, Swift.max(cols, 1))
    }

    // a: (..., m, k), b: (..., k, n) -> out: (batch..., m, n), batch dims broadcast
    static func batchedMatmul(_ a0: Tensor, _ b0: Tensor) throws -> Tensor {
        let a = try a0.asFloat(), b = try b0.asFloat()
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
        guard k == k2 else {
            throw TensorError.shape("matmul: cannot multiply \(shapeString(a.shape)) by \(shapeString(b.shape)) (inner dimensions \(k) and \(k2) differ)")
        }
        guard let batch = try? Shape.broadcast(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), op: "matmul") else {
            throw TensorError.shape("matmul: cannot multiply \(shapeString(a.shape)) by \(shapeString(b.shape)) (batch dimensions cannot be broadcast)")
        }
        let out = try Tensor(shape: batch + [m, n], zeroed: k == 0)
        guard Int32(exactly: m) != nil, Int32(exactly: n) != nil, Int32(exactly: k) != nil else {
            throw TensorError.shape("matmul: dimensions of \(shapeString(a.shape)) x \(shapeString(b.shape)) exceed BLAS's 32-bit limit")
        }
        if out.count == 0 || k == 0 { return out }
        let (pa, ta, lda) = try blasOperand(a, m, k)
        let (pb, tb, ldb) = try blasOperand(b, k, n)
        let sa = Shape.broadcastStrides(shape: Array(pa.shape.dropLast(2)), strides: Array(pa.strides.dropLast(2)), to: batch)
        let sb = Shape.broadcastStrides(shape: Array(pb.shape.dropLast(2)), strides: Array(pb.strides.dropLast(2)), to: batch)
        let baseA = pa.storage.bytes.assumingMemoryBound(to: Float.self), baseB = pb.storage.bytes.assumingMemoryBound(to: Float.self)
        var o = out.f32
        forEachStridedOffset2(shape: batch, sa, pa.offset, sb, pb.offset) { oa, ob in
            Tensor.gemmRows(baseA + oa, transposedA: ta, lda: lda, baseB + ob, transposedB: tb, ldb: ldb, m: m, n: n, k: k, beta: 0, into: o)
            o += m * n
        }
        return out
    }

    // g: (batch..., m, n); a: (..., m, k); b: (..., k, n)
    // When b is a 2-D transposed view (Linear's weightᵀ), db is computed as (gᵀ·a)ᵀ: stored in the layout
    // of the weight itself, so the gradient reaching the weight after the transpose is contiguous.
    static func matmulVJP(_ g: Tensor, _ a: Tensor, _ b: Tensor) throws -> [Tensor?] {
        let ga = a.requiresGrad ? try batchedMatmul(g, b.transpose(-1, -2)).sumTo(a.shape) : nil
        let gb: Tensor?
        if b.requiresGrad && b.rank == 2 && a.rank == 2 && g.rank == 2 && b.strides[0] == 1 && b.shape[1] > 1 {
            gb = try batchedMatmul(g.transpose(0, 1), a).transpose(0, 1)
        } else {
            gb = b.requiresGrad ? try batchedMatmul(a.transpose(-1, -2), g).sumTo(b.shape) : nil
        }
        return [ga, gb]
    }
}
