// Shape arithmetic: element counts (overflow-checked, capped), contiguous strides, dim normalization,
// broadcasting. Dims here are 0-based; the Lua bridge converts 1-based dims once, before calling in.

/// Largest element count a tensor may have (2^36); larger requests are errors, not crashes.
public let maxElementCount = 1 << 36

public enum Shape {
    /// Overflow-checked product of the dims; throws on negative dims or when above ``maxElementCount``.
    public static func elementCount(_ shape: [Int]) throws -> Int {
        // `nonzero` caps the product of the non-zero dims too, so an empty tensor cannot carry huge dims
        // (shape [0, 2^62, 2^62]) whose products would overflow in later shape arithmetic.
        var n = 1, nonzero = 1
        for d in shape {
            guard d >= 0 else { throw TensorError.invalid("Invalid shape \(shapeString(shape)): dimensions must be non-negative") }
            let (p, o) = nonzero.multipliedReportingOverflow(by: Swift.max(d, 1))
            guard !o, p <= maxElementCount else {
                throw TensorError.memory("tensor too large: shape \(shapeString(shape)) has more than \(maxElementCount) elements")
            }
            nonzero = p
            n *= d
        }
        return n
    }

    /// Row-major strides of a contiguous tensor of this shape.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s &*= max(shape[i], 1)
        }
        return strides
    }

    /// Normalizes a possibly negative 0-based dim against `rank` (dims count from the end when negative).
    public static func normalize(dim: Int, rank: Int, op: String) throws -> Int {
        let r = max(rank, 1)
        let d = dim < 0 ? dim + r : dim
        guard d >= 0, d < r else {
            throw TensorError.invalid("\(op): dimension \(dim + 1) out of range for a \(rank)-D tensor")
        }
        return d
    }

    /// The broadcast shape of two shapes (NumPy rules), or a shape error naming the op.
    public static func broadcast(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 {
                out[i] = da
            } else if da == 1 {
                out[i] = db
            } else {
                throw TensorError.shape("\(op): shapes \(shapeString(a)) and \(shapeString(b)) cannot be broadcast (dim \(i + 1): \(da) vs \(db))")
            }
        }
        return out
    }

    /// Strides that read a tensor of `shape`/`strides` as if it had the (broadcast) shape `to`: 0 on expanded dims.
    public static func broadcastStrides(shape: [Int], strides: [Int], to: [Int]) -> [Int] {
        let lead = to.count - shape.count
        var out = [Int](repeating: 0, count: to.count)
        for i in 0..<shape.count where shape[i] != 1 || to[i + lead] == 1 {
            out[i + lead] = shape[i] == 1 ? 0 : strides[i]
        }
        return out
    }
}
