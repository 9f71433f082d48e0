// In-place ops (trailing underscore in Lua, `InPlace` in Swift). They write through views into the
// shared storage and bump its version. Refused on a tensor that requires grad while recording, and on
// any non-leaf that requires grad; inside noGrad they may update leaves (how optimizers step).

extension Tensor {
    /// Throws unless this tensor may be modified in place.
    func checkInPlace(_ op: String) throws {
        guard requiresGradFlag else { return }
        if !isLeaf || GradMode.isEnabled {
            throw TensorError.autograd("\(op): cannot modify in place a tensor that requires grad and is part of the autograd graph; use the out-of-place op, detach(), or llm.noGrad")
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
