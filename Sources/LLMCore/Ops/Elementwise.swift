// Elementwise binary ops with NumPy broadcasting (add, sub, mul, div, pow), comparisons, where, and
// sumTo (the reduction that undoes broadcasting in backward). Forward kernels and VJPs side by side.
// Shapes: out = broadcast(a, b); inputs are read through 0-strides on broadcast dims, never copied.
import Foundation

/// A binary float function, as a type so generic kernels specialize and inline it.
protocol BinaryFn { func callAsFunction(_ a: Float, _ b: Float) -> Float }
struct AddFn: BinaryFn { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b } }
struct SubFn: BinaryFn { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b } }
struct MulFn: BinaryFn { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b } }
struct DivFn: BinaryFn { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b } }
struct ClosureFn: BinaryFn {
    let f: (Float, Float) -> Float
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { f(a, b) }
}

/// Binary arithmetic kinds; float32 compute (integer inputs are promoted to float32).
enum BinaryKind { case add, sub, mul, div, pow, maximum, minimum }

extension Tensor {
    /// The float32 version of this tensor (self when already float32).
    func asFloat() throws -> Tensor { dtype == .float32 ? self : try toDType(.float32) }

    /// out[i] = f(a[i], b[i]) over the broadcast shape; a new contiguous float32 tensor.
    @inline(__always)
    static func binaryKernel(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) throws -> Tensor {
        try withoutActuallyEscaping(f) { try binaryKernel(a, b, op: op, ClosureFn(f: $0)) }
    }

    /// The kernel, specialized per function type (arithmetic ops pass a struct, so the loops inline it).
    static func binaryKernel<F: BinaryFn>(_ a: Tensor, _ b: Tensor, op: String, _ f: F) throws -> Tensor {
        let a = try a.asFloat(), b = try b.asFloat()
        let shape = a.shape == b.shape ? a.shape : try Shape.broadcast(a.shape, b.shape, op: op)
        let out = try Tensor(shape: shape, zeroed: false)
        let o = out.f32, n = out.count
        if a.shape == b.shape && a.isContiguous && b.isContiguous {
            let pa = a.f32, pb = b.f32
            Parallel.forRanges(n) { r in for i in r { o[i] = f(pa[i], pb[i]) } }
        } else if b.count == 1 && a.shape == shape && a.isContiguous {
            let pa = a.f32, s = b.f32[0]
            Parallel.forRanges(n) { r in for i in r { o[i] = f(pa[i], s) } }
        } else if a.count == 1 && b.shape == shape && b.isContiguous {
            let pb = b.f32, s = a.f32[0]
            Parallel.forRanges(n) { r in for i in r { o[i] = f(s, pb[i]) } }
        } else if a.shape == shape && a.isContiguous && b.isContiguous && isTrailing(b.shape, of: shape) {
            // row broadcast (bias add): b repeats along the leading dims of a
            let pa = a.f32, pb = b.f32, inner = b.count
            Parallel.forRanges(n / inner, cost: inner) { rows in
                for r in rows {
                    let ra = pa + r * inner, ro = o + r * inner
                    for j in 0..<inner { ro[j] = f(ra[j], pb[j]) }
                }
            }
        } else if b.shape == shape && a.isContiguous && b.isContiguous && isTrailing(a.shape, of: shape) {
            let pa = a.f32, pb = b.f32, inner = a.count
            Parallel.forRanges(n / inner, cost: inner) { rows in
                for r in rows {
                    let rb = pb + r * inner, ro = o + r * inner
                    for j in 0..<inner { ro[j] = f(pa[j], rb[j]) }
                }
            }
        } else {
            let sa = Shape.broadcastStrides(shape: a.shape, strides: a.strides, to: shape)
            let sb = Shape.broadcastStrides(shape: b.shape, strides: b.strides, to: shape)
            let pa = a.storage.bytes.assumingMemoryBound(to: Float.self)
            let pb = b.storage.bytes.assumingMemoryBound(to: Float.self)
            var i = 0
            forEachStridedOffset2(shape: shape, sa, a.offset, sb, b.offset) { ia, ib in
                o[i] = f(pa[ia], pb[ib]); i += 1
            }
        }
        return out
    }

    /// True when `small` (leading 1s ignored) equals the trailing dims of `shape` and is non-empty.
    @inline(__always) static func isTrailing(_ small: [Int], of shape: [Int]) -> Bool {
        let core = small.drop(while: { $0 == 1 })
        guard !core.isEmpty, core.count <= shape.count, !core.contains(0) else { return false }
        return Array(shape.suffix(core.count)) == Array(core)
    }

    static func binary(_ kind: BinaryKind, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        switch kind {
        case .add: return try binaryKernel(a, b, op: "add", AddFn()).record(.add, [a, b])
        case .sub: return try binaryKernel(a, b, op: "sub", SubFn()).record(.sub, [a, b])
        case .mul: return try binaryKernel(a, b, op: "mul", MulFn()).record(.mul, [a, b])
        case .div: return try binaryKernel(a, b, op: "div", DivFn()).record(.div, [a, b])
        case .pow: return try binaryKernel(a, b, op: "pow") { Foundation.pow($0, $1) }.record(.pow, [a, b])
        case .maximum: return try binaryKernel(a, b, op: "maximum") { Swift.max($0, $1) }
        case .minimum: return try binaryKernel(a, b, op: "minimum") { Swift.min($0, $1) }
        }
    }

    /// `self + other` (broadcasting).
    public func add(_ other: Tensor) throws -> Tensor { try Tensor.binary(.add, self, other) }
    /// `self - other` (broadcasting).
    public func sub(_ other: Tensor) throws -> Tensor { try Tensor.binary(.sub, self, other) }
    /// `self * other` (broadcasting).
    public func mul(_ other: Tensor) throws -> Tensor { try Tensor.binary(.mul, self, other) }
    /// `self / other` (broadcasting).
    public func div(_ other: Tensor) throws -> Tensor { try Tensor.binary(.div, self, other) }
    /// `self ^ other` elementwise (broadcasting).
    public func pow(_ other: Tensor) throws -> Tensor { try Tensor.binary(.pow, self, other) }
    /// Elementwise maximum (not differentiable).
    public func maximum(_ other: Tensor) throws -> Tensor { try Tensor.binary(.maximum, self, other) }
    /// Elementwise minimum (not differentiable).
    public func minimum(_ other: Tensor) throws -> Tensor { try Tensor.binary(.minimum, self, other) }

    public func add(_ s: Float) throws -> Tensor { try add(Tensor.scalar(s)) }
    public func mul(_ s: Float) throws -> Tensor { try mul(Tensor.scalar(s)) }

    // VJP of the binary ops. g: out shape; results reduced back to each input's shape.
    static func binaryVJP(_ p: Primitive, _ g: Tensor, _ a: Tensor, _ b: Tensor, output: Tensor) throws -> [Tensor?] {
        let ga: Tensor?, gb: Tensor?
        switch p {
        case .add: ga = g; gb = g
        case .sub: ga = g; gb = try g.neg()
        case .mul: ga = try g.mul(b); gb = try g.mul(a)
        case .div:
            ga = try g.div(b)
            gb = b.requiresGrad ? try g.mul(a).div(b.mul(b)).neg() : nil  // -g·a/b²
        case .pow:
            // d/da a^b = b·a^(b-1); d/db a^b = a^b·log(a)
            ga = a.requiresGrad ? try g.mul(b).mul(a.pow(b.sub(Tensor.scalar(1)))) : nil
            gb = b.requiresGrad ? try g.mul(output).mul(a.log()) : nil
        default: throw TensorError.autograd("internal: binaryVJP called for \(p.kind.rawValue)")
        }
        return [a.requiresGrad ? try ga?.sumTo(a.shape) : nil, b.requiresGrad ? try gb?.sumTo(b.shape) : nil]
    }

    /// Sums over the dims that broadcasting expanded, so the result has `shape` (VJP of broadcast).
    public func sumTo(_ target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        guard lead >= 0 else { throw TensorError.shape("sumTo: cannot reduce \(shapeString(shape)) to \(shapeString(target))") }
        var dims: [Int] = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[i + lead] != 1 { dims.append(i + lead) }
        let s = dims.isEmpty ? self : try sum(dims: dims, keepdim: true)
        return try s.reshape(target)
    }

    // MARK: comparisons (not differentiable; float32 masks of 0 and 1)

    /// Elementwise comparison giving a float32 mask of 0/1. `op` is one of eq, ne, lt, le, gt, ge.
    public func compare(_ other: Tensor, _ op: String) throws -> Tensor {
        switch op {
        case "eq": return try Tensor.binaryKernel(self, other, op: op) { $0 == $1 ? 1 : 0 }
        case "ne": return try Tensor.binaryKernel(self, other, op: op) { $0 != $1 ? 1 : 0 }
        case "lt": return try Tensor.binaryKernel(self, other, op: op) { $0 < $1 ? 1 : 0 }
        case "le": return try Tensor.binaryKernel(self, other, op: op) { $0 <= $1 ? 1 : 0 }
        case "gt": return try Tensor.binaryKernel(self, other, op: op) { $0 > $1 ? 1 : 0 }
        case "ge": return try Tensor.binaryKernel(self, other, op: op) { $0 >= $1 ? 1 : 0 }
        default: throw TensorError.invalid("Invalid comparison '\(op)', expected one of: 'eq', 'ne', 'lt', 'le', 'gt', 'ge'")
        }
    }

    // MARK: where

    /// `condition ? a : b` elementwise, broadcasting all three. Differentiable in `a` and `b`.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let cond = try condition.asFloat()
        let shape = try Shape.broadcast(try Shape.broadcast(cond.shape, a.shape, op: "where"), b.shape, op: "where")
        let (c, x, y) = try GradMode.withoutGrad {
            (try cond.expand(shape).contiguous(), try a.asFloat().expand(shape).contiguous(), try b.asFloat().expand(shape).contiguous())
        }
        let out = try Tensor(shape: shape, zeroed: false)
        let pc = c.f32, px = x.f32, py = y.f32, po = out.f32
        for i in 0..<out.count { po[i] = pc[i] != 0 ? px[i] : py[i] }
        return out.record(.where, [a, b], saved: [cond])
    }

    // g: out shape; each side gets g where its branch was taken, reduced to its shape.
    static func whereVJP(_ g: Tensor, condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> [Tensor?] {
        let zero = try Tensor.scalar(0)
        let ga = a.requiresGrad ? try Tensor.where(condition, g, zero).sumTo(a.shape) : nil
        let gb = b.requiresGrad ? try Tensor.where(condition, zero, g).sumTo(b.shape) : nil
        return [ga, gb]
    }
}
