// Joining and splitting: cat (primitive, copies into one buffer), stack (unsqueeze + cat), split and
// chunk (narrow views). cat VJP: narrow the gradient back into one piece per input.

extension Tensor {
    /// Concatenates tensors along `dim`; all other dims must match.
    public static func cat(_ ts: [Tensor], dim: Int) throws -> Tensor {
        guard let first = ts.first else { throw TensorError.invalid("cat: expected a non-empty list of tensors") }
        guard first.rank > 0 else { throw TensorError.invalid("cat: zero-dimensional tensors cannot be concatenated; use stack") }
        let d = try Shape.normalize(dim: dim, rank: first.rank, op: "cat")
        let dtype = ts.contains { $0.dtype == .float32 } ? DType.float32 : first.dtype
        var total = 0
        for (i, t) in ts.enumerated() {
            guard t.rank == first.rank else {
                throw TensorError.shape("cat: tensor \(i + 1) has shape \(shapeString(t.shape)), expected \(first.rank) dims like \(shapeString(first.shape))")
            }
            for j in 0..<t.rank where j != d && t.shape[j] != first.shape[j] {
                throw TensorError.shape("cat: tensor \(i + 1) has shape \(shapeString(t.shape)), which does not match \(shapeString(first.shape)) outside dim \(d + 1)")
            }
            total += t.shape[d]
        }
        var outShape = first.shape
        outShape[d] = total
        let out = try Tensor(shape: outShape, dtype: dtype, zeroed: false)
        var start = 0
        for t in ts {
            try out.narrow(d, start, t.shape[d]).copyFrom(t.detach(), recordVersion: false)
            start += t.shape[d]
        }
        // the narrow views above were built with grad off on a fresh tensor: out is still a leaf here
        return out.record(.cat(dim: d, sizes: ts.map { $0.shape[d] }), ts)
    }
    static func catVJP(_ g: Tensor, dim: Int, sizes: [Int]) throws -> [Tensor?] {
        var start = 0
        return try sizes.map { n in
            defer { start += n }; return try g.narrow(dim, start, n)
        }
    }

    /// Stacks same-shaped tensors along a new dim.
    public static func stack(_ ts: [Tensor], dim: Int) throws -> Tensor {
        guard let first = ts.first else { throw TensorError.invalid("stack: expected a non-empty list of tensors") }
        for (i, t) in ts.enumerated() where t.shape != first.shape {
            throw TensorError.shape("stack: tensor \(i + 1) has shape \(shapeString(t.shape)), expected \(shapeString(first.shape))")
        }
        let d = try Shape.normalize(dim: dim, rank: first.rank + 1, op: "stack")
        return try cat(ts.map { try $0.unsqueeze(d) }, dim: d)
    }

    /// Splits along `dim` into pieces of `size` (the last may be smaller). Views.
    public func split(_ size: Int, dim: Int) throws -> [Tensor] {
        guard size > 0 else { throw TensorError.invalid("split: size must be positive, got \(size)") }
        let d = try Shape.normalize(dim: dim, rank: rank, op: "split")
        guard rank > 0 else { throw TensorError.invalid("split: cannot split a 0-d tensor") }
        var out: [Tensor] = []
        var start = 0
        repeat {
            let n = Swift.min(size, shape[d] - start)
            out.append(try narrow(d, start, n))
            start += n
        } while start < shape[d]
        return out
    }

    /// Splits along `dim` into pieces of the given sizes (must sum to the dim's size). Views.
    public func split(sizes: [Int], dim: Int) throws -> [Tensor] {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "split")
        guard rank > 0, sizes.allSatisfy({ $0 >= 0 && $0 <= shape[d] }), sizes.reduce(0, &+) == shape[d] else {
            throw TensorError.invalid("split: sizes \(sizes) do not add up to \(rank > 0 ? shape[d] : 0), the size of dimension \(d + 1)")
        }
        var start = 0
        return try sizes.map { n in
            defer { start += n }; return try narrow(d, start, n)
        }
    }

    /// Splits along `dim` into `chunks` pieces of equal size (the last may be smaller). Views.
    public func chunk(_ chunks: Int, dim: Int) throws -> [Tensor] {
        guard chunks > 0 else { throw TensorError.invalid("chunk: number of chunks must be positive, got \(chunks)") }
        let d = try Shape.normalize(dim: dim, rank: rank, op: "chunk")
        guard rank > 0 else { throw TensorError.invalid("chunk: cannot chunk a 0-d tensor") }
        let size = Swift.max(1, shape[d] / chunks + (shape[d] % chunks == 0 ? 0 : 1))
        return try split(size, dim: d)
    }
}
