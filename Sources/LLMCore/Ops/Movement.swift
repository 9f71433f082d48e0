// Movement ops: views that share storage (reshape/view, permute/transpose, narrow/select, unsqueeze/squeeze,
// expand) and copies (contiguous, clone, dtype conversion). Views record reshape/permute/narrow/expand
// primitives so gradients flow through them; no data moves unless the layout requires it.

extension Tensor {
    /// Resolves a target shape with at most one -1 against this tensor's element count.
    func inferShape(_ target: [Int], op: String) throws -> [Int] {
        var out = target
        var infer = -1, known = 1, knownNonzero = 1  // knownNonzero: caps huge dims next to a 0
        for (i, d) in target.enumerated() {
            if d == -1 {
                guard infer < 0 else { throw TensorError.invalid("\(op): only one dimension can be -1, got \(shapeString(target))") }
                infer = i
            } else {
                guard d >= 0 else { throw TensorError.invalid("\(op): invalid size \(d) in \(shapeString(target))") }
                let (p, o) = known.multipliedReportingOverflow(by: d)
                let (pn, on) = knownNonzero.multipliedReportingOverflow(by: Swift.max(d, 1))
                guard !o, !on, pn <= maxElementCount else { throw TensorError.memory("\(op): shape \(shapeString(target)) is too large") }
                known = p; knownNonzero = pn
            }
        }
        if infer >= 0 {
            guard known > 0, count % known == 0 else {
                throw TensorError.shape("\(op): cannot reshape \(shapeString(shape)) (\(count) elements) into \(shapeString(target))")
            }
            out[infer] = count / known
        } else if known != count {
            throw TensorError.shape("\(op): cannot reshape \(shapeString(shape)) (\(count) elements) into \(shapeString(target)) (\(known) elements)")
        }
        return out
    }

    /// A tensor with the same elements in a new shape (one dim may be -1). A view when contiguous, else a copy.
    public func reshape(_ target: [Int]) throws -> Tensor {
        let s = try inferShape(target, op: "reshape")
        if s == shape { return self }
        if let st = Tensor.viewStrides(shape, strides, s) {
            return view(shape: s, strides: st, offset: offset).record(.reshape(from: shape), [self])
        }
        let src = try GradMode.withoutGrad { try contiguous() }
        return src.view(shape: s, strides: Shape.contiguousStrides(s), offset: src.offset).record(.reshape(from: shape), [self])
    }

    /// Strides that view `old`/`oldStrides` as `new` without copying, or nil when impossible.
    /// reference: PyTorch aten/src/ATen/TensorUtils.cpp computeStride.
    static func viewStrides(_ old: [Int], _ oldStrides: [Int], _ new: [Int]) -> [Int]? {
        if old.contains(0) || old.isEmpty { return old.isEmpty && new.allSatisfy({ $0 == 1 }) ? new.map { _ in 1 } : (old.contains(0) ? Shape.contiguousStrides(new) : nil) }
        var newStrides = [Int](repeating: 0, count: new.count)
        var viewD = new.count - 1
        var chunkBaseStride = oldStrides[old.count - 1]
        var tensorNumel = 1, viewNumel = 1
        for tensorD in stride(from: old.count - 1, through: 0, by: -1) {
            tensorNumel *= old[tensorD]
            if tensorD == 0 || (old[tensorD - 1] != 1 && oldStrides[tensorD - 1] != tensorNumel * chunkBaseStride) {
                while viewD >= 0 && (viewNumel < tensorNumel || new[viewD] == 1) {
                    newStrides[viewD] = viewNumel * chunkBaseStride
                    viewNumel *= new[viewD]
                    viewD -= 1
                }
                if viewNumel != tensorNumel { return nil }
                if tensorD > 0 { chunkBaseStride = oldStrides[tensorD - 1]; tensorNumel = 1; viewNumel = 1 }
            }
        }
        return viewD == -1 ? newStrides : nil
    }

    /// Like reshape, but never copies: errors on a non-contiguous tensor.
    public func viewAs(_ target: [Int]) throws -> Tensor {
        guard isContiguous else {
            throw TensorError.invalid("view: the tensor is not contiguous (shape \(shapeString(shape)), strides \(shapeString(strides))); use reshape or contiguous() first")
        }
        return try reshape(target)
    }

    /// Reorders the dims: out.shape[i] = shape[order[i]]. A view.
    public func permute(_ order: [Int]) throws -> Tensor {
        guard order.count == rank, Set(order).count == rank, order.allSatisfy({ $0 >= 0 && $0 < rank }) else {
            throw TensorError.invalid("permute: \(order.map { $0 + 1 }) is not a permutation of the \(rank) dims of \(shapeString(shape))")
        }
        if order == Array(0..<rank) { return self }
        return view(shape: order.map { shape[$0] }, strides: order.map { strides[$0] }, offset: offset).record(.permute(order), [self])
    }
    static func permuteVJP(_ g: Tensor, _ order: [Int]) throws -> Tensor {
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return try g.permute(inverse)
    }

    /// Swaps two dims. A view.
    public func transpose(_ d0: Int, _ d1: Int) throws -> Tensor {
        let a = try Shape.normalize(dim: d0, rank: rank, op: "transpose"), b = try Shape.normalize(dim: d1, rank: rank, op: "transpose")
        guard rank >= 1 else { return self }
        var order = Array(0..<rank)
        order.swapAt(a, b)
        return try permute(order)
    }

    /// Elements `start ..< start+length` along `dim`. A view.
    public func narrow(_ dim: Int, _ start: Int, _ length: Int) throws -> Tensor {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "narrow")
        guard rank > 0 else { throw TensorError.invalid("narrow: cannot narrow a 0-d tensor") }
        guard start >= 0, length >= 0, start <= shape[d], length <= shape[d] - start else {
            throw TensorError.invalid("narrow: range \(start &+ 1)..\(start &+ length) is out of bounds for dimension \(d + 1) of size \(shape[d])")
        }
        if start == 0 && length == shape[d] { return self }
        var s = shape
        s[d] = length
        return view(shape: s, strides: strides, offset: offset + start * strides[d])
            .record(.narrow(dim: d, start: start, length: length), [self])
    }
    // g: narrowed shape -> zeros of the input shape with g placed at [start, start+length)
    static func narrowVJP(_ g: Tensor, inputShape: [Int], dim: Int, start: Int, length: Int) throws -> Tensor {
        let out = try Tensor(shape: inputShape)
        try out.narrow(dim, start, length).copyFrom(g)
        return out
    }

    /// The slice at `index` along `dim`, with that dim removed. A view.
    public func select(_ dim: Int, _ index: Int) throws -> Tensor {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "select")
        guard rank > 0 else { throw TensorError.invalid("select: cannot index a 0-d tensor") }
        guard index >= 0, index < shape[d] else {
            throw TensorError.invalid("select: index \(index + 1) is out of range for dimension \(d + 1) of size \(shape[d])")
        }
        var s = shape
        s.remove(at: d)
        return try narrow(d, index, 1).reshape(s)
    }

    /// Inserts a dim of size 1 at position `dim` (0...rank). A view.
    public func unsqueeze(_ dim: Int) throws -> Tensor {
        let d = try Shape.normalize(dim: dim, rank: rank + 1, op: "unsqueeze")
        var s = shape
        s.insert(1, at: d)
        return try reshape(s)
    }

    /// Removes dim `dim` if it has size 1, or every size-1 dim when `dim` is nil. A view.
    public func squeeze(_ dim: Int? = nil) throws -> Tensor {
        if let dim {
            let d = try Shape.normalize(dim: dim, rank: rank, op: "squeeze")
            guard rank > 0, shape[d] == 1 else { return self }
            var s = shape
            s.remove(at: d)
            return try reshape(s)
        }
        return try reshape(shape.filter { $0 != 1 })
    }

    /// Flattens dims `start...end` into one.
    public func flatten(_ start: Int = 0, _ end: Int = -1) throws -> Tensor {
        if rank == 0 { return try reshape([1]) }
        let a = try Shape.normalize(dim: start, rank: rank, op: "flatten"), b = try Shape.normalize(dim: end, rank: rank, op: "flatten")
        guard a <= b else { throw TensorError.invalid("flatten: start dim \(a + 1) is after end dim \(b + 1)") }
        let merged = shape[a...b].reduce(1, *)
        return try reshape(Array(shape[..<a]) + [merged] + Array(shape[(b + 1)...]))
    }

    /// Broadcasts size-1 dims (and new leading dims) to `target` without copying (-1 keeps a dim).
    public func expand(_ target: [Int]) throws -> Tensor {
        guard target.count >= rank else {
            throw TensorError.shape("expand: cannot expand \(shapeString(shape)) to fewer dims \(shapeString(target))")
        }
        let lead = target.count - rank
        var out = target
        var st = [Int](repeating: 0, count: target.count)
        for i in 0..<target.count {
            if i < lead {
                guard target[i] >= 0 else { throw TensorError.shape("expand: size -1 is not allowed for a new leading dim") }
                continue
            }
            let d = shape[i - lead]
            if target[i] == -1 || target[i] == d {
                out[i] = d; st[i] = strides[i - lead]
            } else if d == 1 {
                guard target[i] >= 0 else { throw TensorError.shape("expand: invalid size \(target[i])") }; st[i] = 0
            } else {
                throw TensorError.shape("expand: cannot expand \(shapeString(shape)) to \(shapeString(target)) (dim \(i + 1): \(d) vs \(target[i]))")
            }
        }
        _ = try Shape.elementCount(out)
        if out == shape { return self }
        return view(shape: out, strides: st, offset: offset).record(.expand(from: shape), [self])
    }

    /// A contiguous tensor with the same values (self when already contiguous).
    public func contiguous() throws -> Tensor {
        if isContiguous { return self }
        return try copied()
    }

    /// A new contiguous tensor with a copy of the values (recorded: gradients flow back).
    public func clone() throws -> Tensor { try copied() }

    private func copied() throws -> Tensor {
        let out = try Tensor(shape: shape, dtype: dtype, zeroed: false)
        try out.copyFrom(self, recordVersion: false)
        return out.record(.copy, [self])
    }

    /// Writes `src` (broadcast to this shape, converted to this dtype) into this tensor's elements.
    func copyFrom(_ src: Tensor, recordVersion: Bool = true) throws {
        let s = src.shape == shape ? src : try src.detach().expand(shape)
        if recordVersion { storage.bumpVersion() }
        if dtype == s.dtype && isContiguous && s.isContiguous {
            rawPointer.copyMemory(from: s.rawPointer, byteCount: count * dtype.itemSize)
            return
        }
        let sd = Shape.broadcastStrides(shape: s.shape, strides: s.strides, to: shape)
        if dtype == s.dtype && rank >= 1 && strides[rank - 1] == 1 && sd[rank - 1] == 1 && shape[rank - 1] >= 8 {
            // unit-stride rows on both sides (narrow views, head splits): one memcpy per row
            let inner = shape[rank - 1], item = dtype.itemSize
            let pd = storage.bytes, ps = s.storage.bytes
            var rows: [(Int, Int)] = []
            rows.reserveCapacity(count / Swift.max(inner, 1))
            forEachStridedOffset2(shape: Array(shape.dropLast()), Array(strides.dropLast()), offset, Array(sd.dropLast()), s.offset) { od, os in
                rows.append((od, os))
            }
            rows.withUnsafeBufferPointer { rp in
                Parallel.forRanges(rp.count, cost: inner) { r in
                    for i in r { (pd + rp[i].0 * item).copyMemory(from: ps + rp[i].1 * item, byteCount: inner * item) }
                }
            }
            return
        }
        if dtype == .float32 && s.dtype == .float32 {
            let pd = storage.bytes.assumingMemoryBound(to: Float.self), ps = s.storage.bytes.assumingMemoryBound(to: Float.self)
            forEachStridedOffset2(shape: shape, strides, offset, sd, s.offset) { od, os in pd[od] = ps[os] }
        } else {
            forEachStridedOffset2(shape: shape, strides, offset, sd, s.offset) { od, os in store(s.load(at: os), at: od) }
        }
    }

    /// A copy converted to `dtype` (self when it already has it). Not differentiable across dtypes.
    public func toDType(_ target: DType) throws -> Tensor {
        if target == dtype { return self }
        let out = try Tensor(shape: shape, dtype: target, zeroed: false)
        try out.copyFrom(self.detach(), recordVersion: false)
        return out
    }
}
