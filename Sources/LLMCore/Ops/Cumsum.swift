// Cumulative sum along a dim (a primitive: its VJP is the reverse cumulative sum of the gradient).
// x: any shape; the dim is moved last and scanned row by row in f64.

extension Tensor {
    /// Running sums along `dim`.
    public func cumsum(dim: Int) throws -> Tensor {
        guard rank > 0 else { return try clone() }
        let d = try Shape.normalize(dim: dim, rank: rank, op: "cumsum")
        return try scan(dim: d, reverse: false).record(.cumsum(dim: d), [self])
    }

    /// Inclusive prefix (or suffix, when `reverse`) sums along `d`, not recorded.
    func scan(dim d: Int, reverse: Bool) throws -> Tensor {
        try rowwise(d) { x, y, n in
            var acc: Double = 0
            if reverse {
                for j in stride(from: n - 1, through: 0, by: -1) { acc += Double(x[j]); y[j] = Float(acc) }
            } else {
                for j in 0..<n { acc += Double(x[j]); y[j] = Float(acc) }
            }
        }
    }
}
