// Creation: constructors of new tensors (zeros, ones, full, arange, linspace, eye, rand, randn, randint,
// from values). All return leaves; all validate sizes before allocating.

extension Tensor {
    /// A 0-d float32 tensor holding `v`.
    public static func scalar(_ v: Float) throws -> Tensor { try Tensor([v], shape: []) }

    /// A tensor of `shape` filled with `value`.
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32) throws -> Tensor {
        let t = try Tensor(shape: shape, dtype: dtype, zeroed: value == 0)
        if value != 0 { t.fillUnchecked(value) }
        return t
    }
    public static func zeros(_ shape: [Int], dtype: DType = .float32) throws -> Tensor { try full(shape, 0, dtype: dtype) }
    public static func ones(_ shape: [Int], dtype: DType = .float32) throws -> Tensor { try full(shape, 1, dtype: dtype) }

    /// Writes `value` into every element (no autograd checks; used by constructors and in-place ops).
    func fillUnchecked(_ value: Double) {
        storage.bumpVersion()
        if dtype == .float32 {
            let v = Float(value), base = storage.bytes.assumingMemoryBound(to: Float.self)
            if isContiguous { let p = f32; for i in 0..<count { p[i] = v } } else { forEachOffset { base[$0] = v } }
        } else {
            forEachOffset { store(value, at: $0) }
        }
    }

    /// Values `start, start+step, ...` below `end` (like Python's range). 1-D.
    public static func arange(_ start: Double, _ end: Double, _ step: Double = 1, dtype: DType = .float32) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw TensorError.invalid("arange: step must be a finite non-zero number and bounds finite, got start=\(start), end=\(end), step=\(step)")
        }
        let n = Swift.max(0, ((end - start) / step).rounded(.up))
        guard n <= Double(maxElementCount) else { throw TensorError.memory("arange: \(n) elements is too many") }
        let t = try Tensor(shape: [Int(n)], dtype: dtype, zeroed: false)
        for i in 0..<Int(n) { t.store(start + Double(i) * step, at: i) }
        return t
    }

    /// `steps` evenly spaced values from `start` to `end` inclusive. 1-D float32.
    public static func linspace(_ start: Double, _ end: Double, _ steps: Int) throws -> Tensor {
        guard steps >= 0 else { throw TensorError.invalid("linspace: steps must be non-negative, got \(steps)") }
        let t = try Tensor(shape: [steps], zeroed: false)
        let step = steps > 1 ? (end - start) / Double(steps - 1) : 0
        for i in 0..<steps { t.f32[i] = Float(i == steps - 1 && steps > 1 ? end : start + Double(i) * step) }
        return t
    }

    /// The n×m identity matrix (m defaults to n).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32) throws -> Tensor {
        let cols = m ?? n
        let t = try Tensor(shape: [n, cols], dtype: dtype)
        for i in 0..<Swift.min(n, cols) { t.store(1, at: i * cols + i) }
        return t
    }

    /// Uniform values in [low, high).
    public static func rand(_ shape: [Int], low: Double = 0, high: Double = 1, generator: Generator = .shared) throws -> Tensor {
        guard low <= high, low.isFinite, high.isFinite else { throw TensorError.invalid("rand: need finite low <= high, got \(low), \(high)") }
        let t = try Tensor(shape: shape, zeroed: false)
        let p = t.f32
        for i in 0..<t.count { p[i] = Float(low + (high - low) * generator.uniform()) }
        return t
    }

    /// Normal values with the given mean and standard deviation.
    public static func randn(_ shape: [Int], mean: Double = 0, std: Double = 1, generator: Generator = .shared) throws -> Tensor {
        guard std >= 0, std.isFinite, mean.isFinite else { throw TensorError.invalid("randn: need a finite mean and std >= 0, got \(mean), \(std)") }
        let t = try Tensor(shape: shape, zeroed: false)
        let p = t.f32
        for i in 0..<t.count { p[i] = Float(mean + std * generator.normal()) }
        return t
    }

    /// Uniform integers in [low, high) as int64.
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64, generator: Generator = .shared) throws -> Tensor {
        guard low < high else { throw TensorError.invalid("randint: low (\(low)) must be less than high (\(high))") }
        let (span, o) = high.subtractingReportingOverflow(low)
        guard !o else { throw TensorError.invalid("randint: range \(low)..\(high) is too large") }
        let t = try Tensor(shape: shape, dtype: dtype, zeroed: false)
        for i in 0..<t.count { t.store(Double(low + Int(generator.integer(below: UInt64(span)))), at: i) }
        return t
    }

    /// A tensor from row-major `values` (converted to `dtype`).
    public static func from(_ values: [Double], shape: [Int], dtype: DType = .float32) throws -> Tensor {
        let t = try Tensor(shape: shape, dtype: dtype, zeroed: false)
        guard values.count == t.count else {
            throw TensorError.shape("tensor: \(values.count) values do not fill shape \(shapeString(shape))")
        }
        if dtype == .float32 { let p = t.f32; for (i, v) in values.enumerated() { p[i] = Float(v) } } else { for (i, v) in values.enumerated() { t.store(v, at: i) } }
        return t
    }
}
