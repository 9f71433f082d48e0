// In-place ops (trailing underscore in Lua, `InPlace` in Swift). They write through views into the
// shared storage and bump its version. Refused on a tensor that requires grad while recording, and on
// any non-leaf that requires grad; inside noGrad they may update leaves (how optimizers step). Refused
// always on a read-only tensor (a view of a read-only storage alias: shared from another Lua state).

extension Tensor {
    /// Throws unless this tensor may be modified in place.
    func checkInPlace(_ op: String) throws {
        if storage.isReadOnly {
            throw TensorError.invalid("\(op): the tensor is \(Tensor.readOnlyReason)")
        }
        guard requiresGradFlag else { return }
        if !isLeaf || GradMode.isEnabled {
            throw TensorError.autograd(
                "\(op): cannot modify in place a tensor that requires grad and is part of the autograd graph; use the out-of-place op, detach(), or llm.noGrad")
        }
    }

    /// Writes `value` (broadcast to this shape) into self.
    func assign(_ value: Tensor, op: String) throws {
        guard (try? Shape.broadcast(value.shape, shape, op: op)) == shape else {
            throw TensorError.shape("\(op): result of shape \(shapeString(value.shape)) cannot be written into a tensor of shape \(shapeString(shape))")
        }
        try copyFrom(value.detach())
    }

    /// Applies an out-of-place op without recording and writes its result into self.
    func inPlace(_ op: String, _ compute: () throws -> Tensor) throws -> Tensor {
        try checkInPlace(op)
        let r = try GradMode.withoutGrad { try compute() }
        try assign(r, op: op)
        return self
    }

    @discardableResult public func addInPlace(_ o: Tensor, alpha: Float = 1) throws -> Tensor {
        try inPlace("add_") { alpha == 1 ? try detach().add(o) : try detach().add(o.detach().mul(alpha)) }
    }
    @discardableResult public func subInPlace(_ o: Tensor) throws -> Tensor { try inPlace("sub_") { try detach().sub(o) } }
    @discardableResult public func mulInPlace(_ o: Tensor) throws -> Tensor { try inPlace("mul_") { try detach().mul(o) } }
    @discardableResult public func divInPlace(_ o: Tensor) throws -> Tensor { try inPlace("div_") { try detach().div(o) } }
    @discardableResult public func clampInPlace(min lo: Double?, max hi: Double?) throws -> Tensor {
        try inPlace("clamp_") { try detach().clamp(min: lo, max: hi) }
    }
    @discardableResult public func copyInPlace(_ src: Tensor) throws -> Tensor {
        try checkInPlace("copy_")
        try assign(src, op: "copy_")
        return self
    }
    @discardableResult public func fillInPlace(_ v: Double) throws -> Tensor {
        try checkInPlace("fill_")
        fillUnchecked(v)
        return self
    }
    @discardableResult public func zeroInPlace() throws -> Tensor { try fillInPlace(0) }
    /// Fills with uniform values in [low, high).
    @discardableResult public func uniformInPlace(low: Double, high: Double, generator: Generator = .shared) throws -> Tensor {
        try checkInPlace("uniform_")
        try assign(Tensor.rand(shape, low: low, high: high, generator: generator), op: "uniform_")
        return self
    }
    /// Fills with normal values.
    @discardableResult public func normalInPlace(mean: Double, std: Double, generator: Generator = .shared) throws -> Tensor {
        try checkInPlace("normal_")
        try assign(Tensor.randn(shape, mean: mean, std: std, generator: generator), op: "normal_")
        return self
    }
}

// MARK: initializers that need more than uniform/normal draws

extension Tensor {
    /// Fills with a normal(mean, std) truncated to [a, b] (resampling outside values), like PyTorch trunc_normal_.
    @discardableResult public func truncNormalInPlace(mean: Double, std: Double, a: Double, b: Double, generator: Generator = .shared) throws -> Tensor {
        try checkInPlace("truncNormal_")
        guard std > 0, a < b, mean.isFinite, std.isFinite else {
            throw TensorError.invalid("truncNormal_: need std > 0 and a < b, got std=\(std), a=\(a), b=\(b)")
        }
        // the interval must have some mass, or rejection sampling never ends
        guard (b - mean) / std > -8, (a - mean) / std < 8 else {
            throw TensorError.invalid("truncNormal_: the interval [\(a), \(b)] lies more than 8 std from the mean")
        }
        let values = try Tensor(shape: shape, zeroed: false)
        let p = values.f32
        for i in 0..<count {
            var v = mean + std * generator.normal()
            while v < a || v > b { v = mean + std * generator.normal() }
            p[i] = Float(v)
        }
        try assign(values, op: "truncNormal_")
        return self
    }

    /// Fills a ≥2-D tensor with a (semi-)orthogonal matrix (rows flattened from dim 2 on), scaled by `gain`.
    /// reference: Saxe et al. 2013; PyTorch orthogonal_ (QR of a normal matrix with sign correction).
    @discardableResult public func orthogonalInPlace(gain: Double = 1, generator: Generator = .shared) throws -> Tensor {
        try checkInPlace("orthogonal_")
        guard rank >= 2 else { throw TensorError.shape("orthogonal_: needs at least 2 dims, got \(shapeString(shape))") }
        let rows = shape[0], cols = count / Swift.max(rows, 1)
        guard rows > 0, cols > 0 else { return self }
        // Gram-Schmidt (modified, in f64) on the longer side of a normal matrix
        let (n, m) = rows < cols ? (rows, cols) : (cols, rows)  // n vectors of length m, n <= m
        var q = [[Double]](repeating: [], count: n)
        for i in 0..<n {
            var v = (0..<m).map { _ in generator.normal() }
            for j in 0..<i {
                let dot = zip(v, q[j]).reduce(0) { $0 + $1.0 * $1.1 }
                for k in 0..<m { v[k] -= dot * q[j][k] }
            }
            var norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm < 1e-12 { v = (0..<m).map { $0 == i ? 1 : 0 }; norm = 1 }
            q[i] = v.map { $0 / norm }
        }
        let values = try Tensor(shape: shape, zeroed: false)
        let p = values.f32
        for r in 0..<rows {
            for c in 0..<cols {
                p[r * cols + c] = Float(gain * (rows < cols ? q[r][c] : q[c][r]))
            }
        }
        try assign(values, op: "orthogonal_")
        return self
    }
}
