// Ordering and sampling: sort and topk along a dim (values are gathered through the indices, so they
// are differentiable), and multinomial sampling from probability rows with a seeded generator.
// Indices are 0-based int64. Ties keep the original order (stable).

extension Tensor {
    /// Sorted values and their 0-based int64 indices along `dim`.
    public func sort(dim: Int = -1, descending: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        guard rank > 0 else { return (self, try Tensor.zeros([], dtype: .int64)) }
        let d = try Shape.normalize(dim: dim, rank: rank, op: "sort")
        let idx = try orderIndices(dim: d, k: shape[d], descending: descending)
        return (try gather(d, index: idx), idx)
    }

    /// The k largest (or smallest) values along `dim`, in order, with their 0-based int64 indices.
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true) throws -> (values: Tensor, indices: Tensor) {
        guard rank > 0 else { throw TensorError.invalid("topk: cannot take topk of a 0-d tensor") }
        let d = try Shape.normalize(dim: dim, rank: rank, op: "topk")
        guard k >= 0, k <= shape[d] else { throw TensorError.invalid("topk: k (\(k)) must be between 0 and the size of dimension \(d + 1) (\(shape[d]))") }
        let idx = try orderIndices(dim: d, k: k, descending: largest)
        return (try gather(d, index: idx), idx)
    }

    /// Indices of the first `k` elements of each row along `dim` in sorted order.
    private func orderIndices(dim d: Int, k: Int, descending: Bool) throws -> Tensor {
        let moved = try GradMode.withoutGrad { try asFloat().detach().transpose(d, -1).contiguous() }
        let n = moved.shape.last ?? 1
        var outShape = moved.shape
        outShape[outShape.count - 1] = k
        let out = try Tensor(shape: outShape, dtype: .int64, zeroed: false)
        let rows = n == 0 ? 0 : moved.count / n
        let po = out.storage.bytes.assumingMemoryBound(to: Int64.self)
        var order = [Int](repeating: 0, count: n)
        for r in 0..<rows {
            let row = moved.f32 + r * n
            for j in 0..<n { order[j] = j }
            // NaN sorts as the largest value, like PyTorch
            order.sort { a, b in
                let x = row[a], y = row[b]
                if x.isNaN || y.isNaN {
                    if x.isNaN && y.isNaN { return a < b }
                    return descending ? x.isNaN : y.isNaN
                }
                if x == y { return a < b }
                return descending ? x > y : x < y
            }
            for j in 0..<k { po[r * k + j] = Int64(order[j]) }
        }
        return try GradMode.withoutGrad { try out.transpose(d, -1).contiguous() }
    }

    /// Draws `samples` 0-based class ids from each row of non-negative weights (1-D or 2-D), with replacement.
    public func multinomial(_ samples: Int, generator: Generator = .shared) throws -> Tensor {
        guard rank == 1 || rank == 2 else { throw TensorError.shape("multinomial: probabilities must be 1-D or 2-D, got \(shapeString(shape))") }
        guard samples > 0 else { throw TensorError.invalid("multinomial: number of samples must be positive, got \(samples)") }
        let p = try GradMode.withoutGrad { try asFloat().detach().contiguous() }
        let n = shape[rank - 1], rows = rank == 1 ? 1 : shape[0]
        guard n > 0 else { throw TensorError.invalid("multinomial: the distribution has no categories") }
        let out = try Tensor(shape: rank == 1 ? [samples] : [rows, samples], dtype: .int64, zeroed: false)
        let po = out.storage.bytes.assumingMemoryBound(to: Int64.self)
        for r in 0..<rows {
            let row = p.f32 + r * n
            var total: Double = 0
            for j in 0..<n {
                let w = Double(row[j])
                guard w >= 0, w.isFinite else { throw TensorError.invalid("multinomial: weights must be finite and non-negative, got \(w) in row \(r + 1)") }
                total += w
            }
            guard total > 0 else { throw TensorError.invalid("multinomial: row \(r + 1) has zero total weight") }
            for s in 0..<samples {
                let u = generator.uniform() * total
                var acc: Double = 0, pick = n - 1
                for j in 0..<n { acc += Double(row[j]); if u < acc && row[j] > 0 { pick = j; break } }
                while row[pick] == 0 && pick > 0 { pick -= 1 }  // guard against round-off landing on a zero
                po[r * samples + s] = Int64(pick)
            }
        }
        return out
    }
}
