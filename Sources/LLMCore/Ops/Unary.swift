// Elementwise unary ops: each has its scalar forward f(x) and its derivative f'(x) (given x and y = f(x))
// next to each other, and one kernel pair applies them: y = f(x); dx = g · f'(x, y).
// tanh and GELU (tanh form) loops run in CKernels (SIMD, shared polynomials); the rest are Swift loops.
// round (to nearest even), floor, ceil and sign are piecewise constant: their gradient is 0 everywhere.
// reference: GELU (Hendrycks & Gimpel 2016), tanh approximation as in GPT-2; SiLU = x·sigmoid(x).
import CKernels
import Foundation

/// The differentiable elementwise unary functions.
public enum UnaryOp: String, CaseIterable, Sendable {
    case neg, exp, log, sqrt, rsqrt, abs, tanh, sigmoid, relu, geluTanh, geluExact, silu, round, floor, ceil, sign

    var kind: PrimitiveKind {
        switch self {
        case .neg: return .neg
        case .exp: return .exp
        case .log: return .log
        case .sqrt: return .sqrt
        case .rsqrt: return .rsqrt
        case .abs: return .abs
        case .tanh: return .tanh
        case .sigmoid: return .sigmoid
        case .relu: return .relu
        case .geluTanh: return .geluTanh
        case .geluExact: return .geluExact
        case .silu: return .silu
        case .round: return .round
        case .floor: return .floor
        case .ceil: return .ceil
        case .sign: return .sign
        }
    }

    static let invSqrt2: Float = 0.7071067811865476
    static let invSqrt2Pi: Float = 0.3989422804014327

    /// f(x)
    @inline(__always) func forward(_ x: Float) -> Float {
        switch self {
        case .neg: return -x
        case .exp: return Foundation.exp(x)
        case .log: return Foundation.log(x)
        case .sqrt: return x.squareRoot()
        case .rsqrt: return 1 / x.squareRoot()
        case .abs: return Swift.abs(x)
        case .tanh: return llmk_tanh(x)
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .relu: return x > 0 ? x : 0
        case .geluTanh:  // the SIMD kernel's formula (CKernels), one element
            var v = x, y: Float = 0
            llmk_gelu_tanh_forward(&v, &y, 1)
            return y
        case .geluExact: return 0.5 * x * (1 + Foundation.erf(x * UnaryOp.invSqrt2))
        case .silu: return x / (1 + Foundation.exp(-x))
        case .round: return x.rounded(.toNearestOrEven)
        case .floor: return x.rounded(.down)
        case .ceil: return x.rounded(.up)
        case .sign: return x > 0 ? 1 : (x < 0 ? -1 : (x.isNaN ? x : 0))
        }
    }

    /// f'(x), given x and y = f(x)
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .neg: return -1
        case .exp: return y
        case .log: return 1 / x
        case .sqrt: return 0.5 / y
        case .rsqrt: return -0.5 * y / x
        case .abs: return x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .tanh: return 1 - y * y
        case .sigmoid: return y * (1 - y)
        case .relu: return x > 0 ? 1 : 0
        case .geluTanh:
            var v = x, one: Float = 1, d: Float = 0
            llmk_gelu_tanh_backward(&one, &v, &d, 1)
            return d
        case .geluExact:
            return 0.5 * (1 + Foundation.erf(x * UnaryOp.invSqrt2)) + x * UnaryOp.invSqrt2Pi * Foundation.exp(-0.5 * x * x)
        case .silu:
            let s = 1 / (1 + Foundation.exp(-x))
            return s * (1 + x * (1 - s))
        case .round, .floor, .ceil, .sign: return 0
        }
    }

    /// y[i] = f(x[i]) for n contiguous elements; the switch is hoisted out of the loop.
    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        if self == .geluTanh || self == .tanh {  // SIMD kernels (CKernels: AVX2+FMA when the CPU has it)
            let kernel = self == .geluTanh ? llmk_gelu_tanh_forward : llmk_tanh_forward
            Parallel.forRanges(n, cost: 4) { r in kernel(x + r.lowerBound, y + r.lowerBound, r.count) }
            return
        }
        @inline(__always) func run(_ f: (Float) -> Float) {
            Parallel.forRanges(n, cost: 4) { r in for i in r { y[i] = f(x[i]) } }
        }
        switch self {
        case .neg: run { UnaryOp.neg.forward($0) }
        case .exp: run { UnaryOp.exp.forward($0) }
        case .log: run { UnaryOp.log.forward($0) }
        case .sqrt: run { UnaryOp.sqrt.forward($0) }
        case .rsqrt: run { UnaryOp.rsqrt.forward($0) }
        case .abs: run { UnaryOp.abs.forward($0) }
        case .tanh: run { UnaryOp.tanh.forward($0) }
        case .sigmoid: run { UnaryOp.sigmoid.forward($0) }
        case .relu: run { UnaryOp.relu.forward($0) }
        case .geluTanh: run { UnaryOp.geluTanh.forward($0) }
        case .geluExact: run { UnaryOp.geluExact.forward($0) }
        case .silu: run { UnaryOp.silu.forward($0) }
        case .round: run { UnaryOp.round.forward($0) }
        case .floor: run { UnaryOp.floor.forward($0) }
        case .ceil: run { UnaryOp.ceil.forward($0) }
        case .sign: run { UnaryOp.sign.forward($0) }
        }
    }

    /// dx[i] = g[i] · f'(x[i], y[i]) for n contiguous elements; the switch is hoisted out of the loop.
    func backward(
        _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        if self == .geluTanh {
            Parallel.forRanges(n, cost: 4) { r in
                llmk_gelu_tanh_backward(g + r.lowerBound, x + r.lowerBound, dx + r.lowerBound, r.count)
            }
            return
        }
        @inline(__always) func run(_ d: (Float, Float) -> Float) {
            Parallel.forRanges(n, cost: 4) { r in for i in r { dx[i] = g[i] * d(x[i], y[i]) } }
        }
        switch self {
        case .neg: run { UnaryOp.neg.derivative($0, $1) }
        case .exp: run { UnaryOp.exp.derivative($0, $1) }
        case .log: run { UnaryOp.log.derivative($0, $1) }
        case .sqrt: run { UnaryOp.sqrt.derivative($0, $1) }
        case .rsqrt: run { UnaryOp.rsqrt.derivative($0, $1) }
        case .abs: run { UnaryOp.abs.derivative($0, $1) }
        case .tanh: run { UnaryOp.tanh.derivative($0, $1) }
        case .sigmoid: run { UnaryOp.sigmoid.derivative($0, $1) }
        case .relu: run { UnaryOp.relu.derivative($0, $1) }
        case .geluTanh: run { UnaryOp.geluTanh.derivative($0, $1) }
        case .geluExact: run { UnaryOp.geluExact.derivative($0, $1) }
        case .silu: run { UnaryOp.silu.derivative($0, $1) }
        case .round, .floor, .ceil, .sign: run { _, _ in 0 }
        }
    }

    // x: any shape; g, x, y: same shape -> dx
    func vjp(_ g: Tensor, x: Tensor, y: Tensor) throws -> Tensor {
        let g = try g.contiguous(), x = try x.contiguous(), y = try y.contiguous()
        let out = try Tensor(shape: x.shape, zeroed: false)
        backward(g.f32, x.f32, y.f32, out.f32, out.count)
        return out
    }
}

extension Tensor {
    /// out = f(self) elementwise, float32, contiguous.
    func map(_ f: (Float) -> Float) throws -> Tensor {
        let x = try asFloat()
        let out = try Tensor(shape: shape, zeroed: false)
        let po = out.f32
        if x.isContiguous {
            let px = x.f32
            for i in 0..<count { po[i] = f(px[i]) }
        } else {
            let base = x.storage.bytes.assumingMemoryBound(to: Float.self)
            var i = 0
            x.forEachOffset {
                po[i] = f(base[$0]); i += 1
            }
        }
        return out
    }

    /// Applies a differentiable unary function.
    public func unary(_ op: UnaryOp) throws -> Tensor {
        let x = try GradMode.withoutGrad { try asFloat().contiguous() }
        let out = try Tensor(shape: shape, zeroed: false)
        op.forward(x.f32, out.f32, count)
        return out.record(.unary(op), [self])
    }

    public func neg() throws -> Tensor { try unary(.neg) }
    public func exp() throws -> Tensor { try unary(.exp) }
    public func log() throws -> Tensor { try unary(.log) }
    public func sqrt() throws -> Tensor { try unary(.sqrt) }
    public func rsqrt() throws -> Tensor { try unary(.rsqrt) }
    public func abs() throws -> Tensor { try unary(.abs) }
    public func tanh() throws -> Tensor { try unary(.tanh) }
    public func sigmoid() throws -> Tensor { try unary(.sigmoid) }
    public func relu() throws -> Tensor { try unary(.relu) }
    /// GELU: exact (erf) by default like PyTorch; `approximate: true` is the tanh form used by GPT-2.
    public func gelu(approximate: Bool = false) throws -> Tensor { try unary(approximate ? .geluTanh : .geluExact) }
    public func silu() throws -> Tensor { try unary(.silu) }
    /// Rounds to the nearest integer, halves to even (as torch.round); gradient 0.
    public func round() throws -> Tensor { try unary(.round) }
    /// Largest integer ≤ x; gradient 0.
    public func floor() throws -> Tensor { try unary(.floor) }
    /// Smallest integer ≥ x; gradient 0.
    public func ceil() throws -> Tensor { try unary(.ceil) }
    /// −1, 0 or 1 (NaN stays NaN); gradient 0.
    public func sign() throws -> Tensor { try unary(.sign) }

    /// `self ^ p` for a constant exponent.
    public func pow(_ p: Double) throws -> Tensor {
        let e = Float(p)
        if p == 2 { return try map { $0 * $0 }.record(.powScalar(p), [self]) }
        return try map { Foundation.pow($0, e) }.record(.powScalar(p), [self])
    }
    // dx = g · p · x^(p-1)
    static func powScalarVJP(_ g: Tensor, _ x: Tensor, _ p: Double) throws -> Tensor {
        let e = Float(p - 1), k = Float(p)
        let d = p == 2 ? try x.map { 2 * $0 } : try x.map { k * Foundation.pow($0, e) }
        return try g.mul(d)
    }

    /// Clamps into [min, max] (either bound optional). Gradient passes where the value was not clamped.
    public func clamp(min lo: Double?, max hi: Double?) throws -> Tensor {
        if let lo, let hi, lo > hi { throw TensorError.invalid("clamp: min (\(lo)) is greater than max (\(hi))") }
        let l = lo.map(Float.init) ?? -.infinity, h = hi.map(Float.init) ?? .infinity
        return try map { Swift.min(Swift.max($0, l), h) }.record(.clamp(min: lo, max: hi), [self])
    }
    static func clampVJP(_ g: Tensor, _ x: Tensor, _ lo: Double?, _ hi: Double?) throws -> Tensor {
        let l = lo.map(Float.init) ?? -.infinity, h = hi.map(Float.init) ?? .infinity
        return try g.mul(x.map { $0 >= l && $0 <= h ? 1 : 0 })
    }
}
