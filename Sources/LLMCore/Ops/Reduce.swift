// Reductions over any set of dims with keepdim: sum (primitive), mean/var/norm (compositions), max/min
// along a dim with indices (primitive `extremum`), argmax/argmin, logsumexp (primitive, max-shifted).
// Layout trick: permute kept dims first and reduced dims last, make contiguous -> (outer, inner) rows.
import Foundation

extension Tensor {
    /// Rows view for reducing `dims`: returns (contiguous float32 data as (outer, inner), kept shape, keepdim shape).
    func reductionRows(_ dims: [Int]) throws -> (data: Tensor, outer: Int, inner: Int, keptShape: [Int], keepdimShape: [Int]) {
        let x = try asFloat()
        let reduce = Set(dims)
        let kept = (0..<rank).filter { !reduce.contains($0) }
        let order = kept + dims.sorted()
        let data = try GradMode.withoutGrad { try x.detach().permute(order).contiguous() }
        let outer = kept.reduce(1) { $0 * shape[$1] }
        let inner = dims.reduce(1) { $0 * shape[$1] }
        let keepdimShape = (0..<rank).map { reduce.contains($0) ? 1 : shape[$0] }
        return (data, outer, inner, kept.map { shape[$0] }, keepdimShape)
    }

    func normalizedDims(_ dims: [Int]?, op: String) throws -> [Int] {
        guard let dims else { return Array(0..<rank) }
        let ds = try dims.map { try Shape.normalize(dim: $0, rank: rank, op: op) }
        guard Set(ds).count == ds.count else { throw TensorError.invalid("\(op): repeated dimension in \(ds.map { $0 + 1 })") }
        return rank == 0 ? [] : ds
    }

    /// Sum over `dims` (all dims when nil).
    public func sum(dims: [Int]? = nil, keepdim: Bool = false) throws -> Tensor {
        let ds = try normalizedDims(dims, op: "sum")
        // leading dims of a contiguous float32 tensor (bias gradients): column sums, no transposed copy
        if dtype == .float32, isContiguous, !ds.isEmpty, ds.count < rank, ds.sorted() == Array(0..<ds.count) {
            let outer = ds.reduce(1) { $0 * shape[$1] }, inner = count / Swift.max(outer, 1)
            let keptShape = Array(shape[ds.count...])
            let out = try Tensor(shape: keepdim ? ds.map { _ in 1 } + keptShape : keptShape, zeroed: false)
            // f64 column sums; columns are split across workers (each column's order is unchanged)
            let p = f32, o = out.f32
            Parallel.forRanges(inner, cost: outer) { cols in
                var acc = [Double](repeating: 0, count: cols.count)
                acc.withUnsafeMutableBufferPointer { a in
                    for i in 0..<outer {
                        let row = p + i * inner + cols.lowerBound
                        for j in 0..<cols.count { a[j] += Double(row[j]) }
                    }
                    for j in 0..<cols.count { o[cols.lowerBound + j] = Float(a[j]) }
                }
            }
            return out.record(.sum(dims: ds, keepdim: keepdim), [self])
        }
        let r = try reductionRows(ds)
        let out = try Tensor(shape: keepdim ? r.keepdimShape : r.keptShape, zeroed: false)
        let p = r.data.f32, o = out.f32
        for i in 0..<r.outer {
            var acc: Double = 0  // f64 accumulation: sums of many f32 stay accurate
            let row = p + i * r.inner
            for j in 0..<r.inner { acc += Double(row[j]) }
            o[i] = Float(acc)
        }
        return out.record(.sum(dims: ds, keepdim: keepdim), [self])
    }
    // g: reduced shape -> broadcast back to the input shape
    static func sumVJP(_ g: Tensor, inputShape: [Int], dims: [Int], keepdim: Bool) throws -> Tensor {
        var s = inputShape
        for d in dims { s[d] = 1 }
        return try g.reshape(s).expand(inputShape).contiguous()
    }

    /// Mean over `dims` (all when nil).
    public func mean(dims: [Int]? = nil, keepdim: Bool = false) throws -> Tensor {
        let ds = try normalizedDims(dims, op: "mean")
        let n = ds.reduce(1) { $0 * shape[$1] }
        guard n > 0 else { throw TensorError.invalid("mean: cannot take the mean of an empty dimension") }
        return try sum(dims: ds, keepdim: keepdim).mul(Float(1) / Float(n))
    }

    /// Variance over `dims` with Bessel's correction by default (`correction: 1`, like PyTorch).
    public func variance(dims: [Int]? = nil, keepdim: Bool = false, correction: Int = 1) throws -> Tensor {
        let ds = try normalizedDims(dims, op: "var")
        let n = ds.reduce(1) { $0 * shape[$1] }
        guard n - correction > 0 else { throw TensorError.invalid("var: \(n) elements with correction \(correction) leaves no degrees of freedom") }
        let centered = try sub(mean(dims: ds, keepdim: true))
        return try centered.mul(centered).sum(dims: ds, keepdim: keepdim).mul(Float(1) / Float(n - correction))
    }

    /// The p-norm over `dims` (all when nil): (Σ|x|^p)^(1/p); p = 2 by default.
    public func norm(p: Double = 2, dims: [Int]? = nil, keepdim: Bool = false) throws -> Tensor {
        guard p > 0, p.isFinite else { throw TensorError.invalid("norm: p must be a positive finite number, got \(p)") }
        if p == 2 { return try mul(self).sum(dims: dims, keepdim: keepdim).sqrt() }
        if p == 1 { return try abs().sum(dims: dims, keepdim: keepdim) }
        return try abs().pow(p).sum(dims: dims, keepdim: keepdim).pow(1 / p)
    }

    /// Max (or min) along `dim`: values and int64 indices (first occurrence). Differentiable in the values.
    public func extremum(dim: Int, keepdim: Bool = false, max isMax: Bool) throws -> (values: Tensor, indices: Tensor) {
        let op = isMax ? "max" : "min"
        guard rank > 0 else { return (self, try Tensor.zeros([], dtype: .int64)) }
        let d = try Shape.normalize(dim: dim, rank: rank, op: op)
        guard shape[d] > 0 else { throw TensorError.invalid("\(op): cannot reduce an empty dimension \(d + 1)") }
        let r = try reductionRows([d])
        let outShape = keepdim ? r.keepdimShape : r.keptShape
        let values = try Tensor(shape: outShape, zeroed: false)
        let indices = try Tensor(shape: outShape, dtype: .int64, zeroed: false)
        let p = r.data.f32, v = values.f32
        let idx = indices.storage.bytes.assumingMemoryBound(to: Int64.self)
        for i in 0..<r.outer {
            let row = p + i * r.inner
            var best = row[0], bi = 0
            for j in 1..<r.inner {
                let x = row[j]
                if best.isNaN { break }
                if x.isNaN || (isMax ? x > best : x < best) { best = x; bi = j }
            }
            v[i] = best; idx[i] = Int64(bi)
        }
        values.record(.extremum(dim: d, keepdim: keepdim), [self], saved: [indices])
        return (values, indices)
    }
    // g: reduced shape -> the input shape with g at the selected index, zeros elsewhere
    static func extremumVJP(_ g: Tensor, inputShape: [Int], indices: Tensor, dim: Int, keepdim: Bool) throws -> Tensor {
        var s = inputShape
        s[dim] = 1
        let out = try Tensor(shape: inputShape)
        return try out.scatterAdd(dim, index: indices.reshape(s), source: g.reshape(s))
    }

    /// Index of the max (min) along `dim`, or of the flattened tensor when `dim` is nil. int64.
    public func argExtremum(dim: Int?, keepdim: Bool = false, max: Bool) throws -> Tensor {
        if let dim { return try extremum(dim: dim, keepdim: keepdim, max: max).indices }
        return try GradMode.withoutGrad { try reshape([-1]).extremum(dim: 0, max: max).indices }
    }

    /// log Σ exp(x) along `dim`, computed stably (max-shifted).
    public func logsumexp(dim: Int, keepdim: Bool = false) throws -> Tensor {
        guard rank > 0 else { return try clone() }
        let d = try Shape.normalize(dim: dim, rank: rank, op: "logsumexp")
        let r = try reductionRows([d])
        let out = try Tensor(shape: keepdim ? r.keepdimShape : r.keptShape, zeroed: false)
        let p = r.data.f32, o = out.f32
        for i in 0..<r.outer {
            let row = p + i * r.inner
            var m = -Float.infinity
            for j in 0..<r.inner { m = Swift.max(m, row[j]) }
            if !m.isFinite { o[i] = m == -.infinity ? -.infinity : m; continue }
            var acc: Double = 0
            for j in 0..<r.inner { acc += Double(Foundation.exp(row[j] - m)) }
            o[i] = m + Float(Foundation.log(acc))
        }
        return out.record(.logsumexp(dim: d, keepdim: keepdim), [self])
    }
    // dx = g · softmax(x) = g · exp(x - y)
    static func logsumexpVJP(_ g: Tensor, _ x: Tensor, y: Tensor, dim: Int, keepdim: Bool) throws -> Tensor {
        let yk = keepdim ? y : try y.unsqueeze(dim)
        let gk = keepdim ? g : try g.unsqueeze(dim)
        return try x.sub(yk).exp().mul(gk)
    }
}
