// Softmax and log-softmax along a dim, fused (max-shifted, one pass per row) with hand-written VJPs.
// Rows: the dim is moved last and made contiguous; x, y: (rows, n); rows are split over the workers.
// softmax VJP: dx = y · (g − Σ g·y);  log-softmax VJP: dx = g − softmax · Σ g.
import Foundation

extension Tensor {
    /// Applies `body(input row, output row, n)` to every row along `dim`; returns the output in this layout.
    func rowwise(_ dim: Int, _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) throws -> Tensor {
        let x = try GradMode.withoutGrad { try asFloat().detach().transpose(dim, -1).contiguous() }
        let out = try Tensor(shape: x.shape, zeroed: false)
        let n = x.shape.last ?? 1
        let rows = n == 0 ? 0 : x.count / n
        let px = x.f32, po = out.f32
        Parallel.forRanges(rows, cost: n * 4) { range in for r in range { body(px + r * n, po + r * n, n) } }
        return try GradMode.withoutGrad { try out.transpose(dim, -1).contiguous() }
    }

    /// softmax along `dim`: exp(x − max) / Σ exp(x − max).
    public func softmax(dim: Int) throws -> Tensor {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "softmax")
        if rank == 0 { return try Tensor.ones([]).record(.softmax(dim: 0), [self]) }
        return try rowwise(d) { x, y, n in
            var m = -Float.infinity
            for j in 0..<n { m = Swift.max(m, x[j]) }
            var s: Float = 0
            for j in 0..<n { let e = Foundation.exp(x[j] - m); y[j] = e; s += e }
            let inv = 1 / s
            for j in 0..<n { y[j] *= inv }
        }.record(.softmax(dim: d), [self])
    }
    static func softmaxVJP(_ g: Tensor, y: Tensor, dim: Int) throws -> Tensor {
        let gy = try g.mul(y)
        return try gy.sub(y.mul(gy.sum(dims: [dim], keepdim: true)))
    }

    /// log-softmax along `dim`: x − max − log Σ exp(x − max).
    public func logSoftmax(dim: Int) throws -> Tensor {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "logSoftmax")
        if rank == 0 { return try Tensor.zeros([]).record(.logSoftmax(dim: 0), [self]) }
        return try rowwise(d) { x, y, n in
            var m = -Float.infinity
            for j in 0..<n { m = Swift.max(m, x[j]) }
            var s: Double = 0
            for j in 0..<n { s += Double(Foundation.exp(x[j] - m)) }
            let logSum = Float(Foundation.log(s))
            for j in 0..<n { y[j] = (x[j] - m) - logSum }  // (x − m) first: exact for large inputs
        }.record(.logSoftmax(dim: d), [self])
    }
    static func logSoftmaxVJP(_ g: Tensor, y: Tensor, dim: Int) throws -> Tensor {
        if y.rank == 0 { return try g.mul(0) }
        return try g.sub(y.exp().mul(g.sum(dims: [dim], keepdim: true)))
    }
}
