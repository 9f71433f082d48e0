// Indexing: indexSelect, gather, scatterAdd, embedding lookup, oneHot, tril/triu masks. Indices are
// 0-based int tensors here (the Lua bridge converts from 1-based); every index is bounds-checked before
// any write. VJPs: indexSelect/gather/embedding scatter-add the gradient back; scatterAdd gathers it.

extension Tensor {
    /// The 0-based integer values of an index tensor, checked against `bound`.
    func indexValues(bound: Int, op: String) throws -> [Int] {
        guard !dtype.isFloatingPoint || toDoubles().allSatisfy({ $0 == $0.rounded() }) else {
            throw TensorError.invalid("\(op): index tensor must hold integers (dtype \(dtype.rawValue))")
        }
        var out: [Int] = []
        out.reserveCapacity(count)
        for v in toDoubles() {
            guard v >= 0, v < Double(bound) else {
                let shown = Int64(exactly: v.rounded()).map(String.init) ?? "\(v)"
                throw TensorError.invalid("\(op): index \(shown) is out of range for size \(bound) (index tensors hold 0-based ids 0..\(bound - 1))")
            }
            out.append(Int(v))
        }
        return out
    }

    /// Rows (slices along `dim`) picked by a 1-D index: out.shape[dim] = index.count.
    public func indexSelect(_ dim: Int, _ index: Tensor) throws -> Tensor {
        guard index.rank <= 1 else { throw TensorError.shape("indexSelect: index must be 1-D, got shape \(shapeString(index.shape))") }
        guard rank > 0 else { throw TensorError.invalid("indexSelect: cannot index a 0-d tensor") }
        let d = try Shape.normalize(dim: dim, rank: rank, op: "indexSelect")
        let idx = try index.indexValues(bound: shape[d], op: "indexSelect")
        let src = try asFloat().detach()
        var outShape = shape
        outShape[d] = idx.count
        let out = try Tensor(shape: outShape, zeroed: false)
        for (i, j) in idx.enumerated() { try out.narrow(d, i, 1).copyFrom(src.narrow(d, j, 1), recordVersion: false) }
        return out.record(.indexSelect(dim: d), [self], saved: [index])
    }
    static func indexSelectVJP(_ g: Tensor, inputShape: [Int], dim: Int, index: Tensor) throws -> Tensor {
        let out = try Tensor(shape: inputShape)
        let idx = try index.indexValues(bound: inputShape[dim], op: "indexSelect")
        for (i, j) in idx.enumerated() {
            let dst = try out.narrow(dim, j, 1)
            try dst.copyFrom(dst.add(g.narrow(dim, i, 1)), recordVersion: false)
        }
        return out
    }

    /// out[i][j][k] = self[index[i][j][k]][j][k] (for dim 1; generally the index replaces the coordinate on `dim`).
    public func gather(_ dim: Int, index: Tensor) throws -> Tensor {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "gather")
        guard index.rank == rank else {
            throw TensorError.shape("gather: index has \(index.rank) dims but the input has \(rank) (\(shapeString(index.shape)) vs \(shapeString(shape)))")
        }
        for i in 0..<rank where i != d && index.shape[i] > shape[i] {
            throw TensorError.shape("gather: index shape \(shapeString(index.shape)) is larger than input \(shapeString(shape)) at dim \(i + 1)")
        }
        let idx = try index.indexValues(bound: rank > 0 ? shape[d] : 1, op: "gather")
        let src = try asFloat()
        let out = try Tensor(shape: index.shape, zeroed: false)
        let ps = src.storage.bytes.assumingMemoryBound(to: Float.self), po = out.f32
        var coords = [Int](repeating: 0, count: rank)
        for (n, j) in idx.enumerated() {
            var o = src.offset
            for a in 0..<rank { o += (a == d ? j : coords[a]) * src.strides[a] }
            po[n] = ps[o]
            Tensor.advance(&coords, index.shape)
        }
        return out.record(.gather(dim: d), [self], saved: [index])
    }
    static func gatherVJP(_ g: Tensor, inputShape: [Int], dim: Int, index: Tensor) throws -> Tensor {
        try Tensor(shape: inputShape).scatterAdd(dim, index: index, source: g)
    }

    /// Returns a copy of self with `source` added at the positions `index` names along `dim`
    /// (out[index[i][j]][j] += source[i][j] for dim 1). Differentiable in self and source.
    public func scatterAdd(_ dim: Int, index: Tensor, source: Tensor) throws -> Tensor {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "scatterAdd")
        guard index.rank == rank, source.rank == rank else {
            throw TensorError.shape(
                "scatterAdd: self \(shapeString(shape)), index \(shapeString(index.shape)) and source \(shapeString(source.shape)) must have the same number of dims")
        }
        for i in 0..<rank where index.shape[i] > source.shape[i] || (i != d && index.shape[i] > shape[i]) {
            throw TensorError.shape("scatterAdd: index \(shapeString(index.shape)) does not fit self \(shapeString(shape)) / source \(shapeString(source.shape)) at dim \(i + 1)")
        }
        let idx = try index.indexValues(bound: rank > 0 ? shape[d] : 1, op: "scatterAdd")
        let out = try GradMode.withoutGrad { try asFloat().detach().clone() }
        let src = try source.asFloat()
        let po = out.f32, ps = src.storage.bytes.assumingMemoryBound(to: Float.self)
        var coords = [Int](repeating: 0, count: rank)
        for j in idx {
            var o = 0, s = src.offset
            for a in 0..<rank {
                o += (a == d ? j : coords[a]) * out.strides[a]
                s += coords[a] * src.strides[a]
            }
            po[o] += ps[s]
            Tensor.advance(&coords, index.shape)
        }
        return out.record(.scatterAdd(dim: d), [self, source], saved: [index])
    }
    static func scatterAddVJP(_ g: Tensor, dim: Int, index: Tensor, srcShape: [Int]) throws -> [Tensor?] {
        // d self = g; d source[i] = g[index[i]] (positions outside index's extent get 0)
        let picked = try g.gather(dim, index: index)
        let gs = picked.shape == srcShape ? picked : try Tensor.zeros(srcShape).narrowTo(picked)
        return [g, gs]
    }
    /// A copy of self with `part` written over its leading corner (helper for uneven scatter shapes).
    func narrowTo(_ part: Tensor) throws -> Tensor {
        var view = self
        for (i, n) in part.shape.enumerated() { view = try view.narrow(i, 0, n) }
        try view.copyFrom(part, recordVersion: false)
        return self
    }

    /// Row-major odometer step.
    @inline(__always) static func advance(_ coords: inout [Int], _ shape: [Int]) {
        var a = shape.count - 1
        while a >= 0 {
            coords[a] += 1
            if coords[a] < shape[a] { return }
            coords[a] = 0
            a -= 1
        }
    }

    /// Embedding lookup: weight (V, C), ids (any shape, 0-based) -> (ids.shape..., C).
    public static func embedding(_ weight: Tensor, _ ids: Tensor) throws -> Tensor {
        guard weight.rank == 2 else { throw TensorError.shape("embedding: weight must be 2-D (vocab, dim), got \(shapeString(weight.shape))") }
        let v = weight.shape[0], c = weight.shape[1]
        let idx = try ids.indexValues(bound: v, op: "embedding")
        let w = try weight.asFloat().contiguous()
        let out = try Tensor(shape: ids.shape + [c], zeroed: false)
        let po = out.f32, pw = w.f32
        for (n, j) in idx.enumerated() { (po + n * c).update(from: pw + j * c, count: c) }
        return out.record(.embedding, [weight], saved: [ids])
    }
    // g: (ids..., C) -> dW: (V, C), rows accumulated
    static func embeddingVJP(_ g: Tensor, weightShape: [Int], ids: Tensor) throws -> Tensor {
        let out = try Tensor(shape: weightShape)
        try embeddingAccumulate(into: out, g, ids: ids)
        return out
    }

    /// acc[ids[n]] += g[n] row by row: the embedding gradient added straight into a contiguous (V, C)
    /// accumulator (autograd uses it when the weight already has one, e.g. the tied head's gradient, so no
    /// dense V×C zero-filled gradient is made and added).
    static func embeddingAccumulate(into acc: Tensor, _ g: Tensor, ids: Tensor) throws {
        let c = acc.shape[1]
        let idx = try ids.indexValues(bound: acc.shape[0], op: "embedding")
        let gc = try g.asFloat().contiguous()
        let po = acc.f32, pg = gc.f32
        for (n, j) in idx.enumerated() {
            let dst = po + j * c, src = pg + n * c
            for k in 0..<c { dst[k] += src[k] }
        }
    }

    /// One-hot encoding of 0-based class ids: (ids..., classes) float32.
    public static func oneHot(_ ids: Tensor, classes: Int) throws -> Tensor {
        guard classes > 0 else { throw TensorError.invalid("oneHot: number of classes must be positive, got \(classes)") }
        let idx = try ids.indexValues(bound: classes, op: "oneHot")
        let out = try Tensor(shape: ids.shape + [classes])
        for (n, j) in idx.enumerated() { out.f32[n * classes + j] = 1 }
        return out
    }

    /// Keeps the lower (tril) or upper (triu) triangle of the last two dims; `diagonal` shifts it.
    public func triangular(upper: Bool, diagonal: Int = 0) throws -> Tensor {
        guard rank >= 2 else { throw TensorError.shape("\(upper ? "triu" : "tril"): needs at least 2 dims, got \(shapeString(shape))") }
        let rows = shape[rank - 2], cols = shape[rank - 1]
        let x = try GradMode.withoutGrad { try asFloat().detach().clone() }
        let p = x.f32, mats = rows * cols == 0 ? 0 : x.count / (rows * cols)
        for b in 0..<mats {
            for i in 0..<rows {
                for j in 0..<cols {
                    let keep = upper ? (j - i >= diagonal) : (j - i <= diagonal)
                    if !keep { p[b * rows * cols + i * cols + j] = 0 }
                }
            }
        }
        return x.record(.triangular(upper: upper, diagonal: diagonal), [self])
    }
}
