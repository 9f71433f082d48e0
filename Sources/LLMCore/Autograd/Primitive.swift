// Primitive: the closed set of differentiable operations the tape records. Each case carries what its
// vector-Jacobian product needs besides the saved tensors. Forward kernels and VJPs live side by side in
// Ops/<Family>.swift; this file only dispatches, with exhaustive switches, so a new case without a VJP
// does not compile. `PrimitiveKind` enumerates the cases for the gradient-check coverage test. `custom`
// is the one open case: a ``CustomFunction`` carries its own VJP (collectives in LLMDistributed).

/// One recorded operation.
public enum Primitive {
    // Elementwise binary, broadcasting (Ops/Elementwise.swift)
    case add, sub, mul, div, pow
    // Elementwise unary (Ops/Unary.swift)
    case unary(UnaryOp)
    case powScalar(Double)
    case clamp(min: Double?, max: Double?)
    case `where`  // saved: condition
    // Reductions (Ops/Reduce.swift)
    case sum(dims: [Int], keepdim: Bool)
    case extremum(dim: Int, keepdim: Bool)  // max/min along a dim; saved: indices
    case logsumexp(dim: Int, keepdim: Bool)
    case softmax(dim: Int)  // Ops/Softmax.swift
    case logSoftmax(dim: Int)
    // Linear algebra (Ops/Matmul.swift, Ops/Linear.swift)
    case matmul
    case linear(hasBias: Bool)  // inputs: x, weight, [bias]
    // Movement (Ops/Movement.swift)
    case reshape(from: [Int])
    case permute([Int])
    case expand(from: [Int])
    case narrow(dim: Int, start: Int, length: Int)
    case copy  // contiguous / clone
    // Joining and indexing (Ops/Join.swift, Ops/Index.swift)
    case cat(dim: Int, sizes: [Int])
    case indexSelect(dim: Int)  // saved: index
    case gather(dim: Int)  // saved: index
    case scatterAdd(dim: Int)  // saved: index
    case embedding  // saved: ids
    case triangular(upper: Bool, diagonal: Int)
    case cumsum(dim: Int)  // Ops/Cumsum.swift
    // Fused neural-network kernels (Ops/Normalization.swift, Ops/Attention.swift, Ops/CrossEntropy.swift)
    case layerNorm(eps: Double, hasWeight: Bool, hasBias: Bool)  // saved: x, mean, rstd, [weight]
    case rmsNorm(eps: Double, hasWeight: Bool)  // saved: x, (unused), rstd, [weight]
    case attention(scale: Double, layout: AttentionLayout)  // saved: q, k, v, row logsumexp
    case rope  // Ops/Rope.swift; saved: cos, sin
    case glu(GLUActivation)  // Ops/GatedActivation.swift (swiglu, geglu)
    case crossEntropy(smoothing: Double, reduction: Reduction, used: Int)  // saved: logits, lse, ids
    // Defined outside LLMCore (Autograd/CustomFunction.swift): the VJP is the function's closure
    case custom(CustomFunction)

    /// The case name, for enumeration and messages.
    public var kind: PrimitiveKind {
        switch self {
        case .add: return .add
        case .sub: return .sub
        case .mul: return .mul
        case .div: return .div
        case .pow: return .pow
        case .unary(let u): return u.kind
        case .powScalar: return .powScalar
        case .clamp: return .clamp
        case .where: return .where
        case .sum: return .sum
        case .extremum: return .extremum
        case .logsumexp: return .logsumexp
        case .softmax: return .softmax
        case .logSoftmax: return .logSoftmax
        case .matmul: return .matmul
        case .linear: return .linear
        case .reshape: return .reshape
        case .permute: return .permute
        case .expand: return .expand
        case .narrow: return .narrow
        case .copy: return .copy
        case .cat: return .cat
        case .indexSelect: return .indexSelect
        case .gather: return .gather
        case .scatterAdd: return .scatterAdd
        case .embedding: return .embedding
        case .triangular: return .triangular
        case .cumsum: return .cumsum
        case .layerNorm: return .layerNorm
        case .rmsNorm: return .rmsNorm
        case .attention: return .attention
        case .rope: return .rope
        case .glu(let a): return a.kind
        case .crossEntropy: return .crossEntropy
        case .custom: return .custom
        }
    }

    /// True when the VJP reads the input values (backward then checks they were not modified in place).
    var vjpReadsInputs: Bool {
        switch self {
        case .mul, .div, .pow, .powScalar, .clamp, .logsumexp, .matmul, .linear, .glu: return true
        case .unary(let u):
            switch u {
            case .log, .rsqrt, .abs, .relu, .geluTanh, .geluExact, .silu: return true
            case .neg, .exp, .sqrt, .tanh, .sigmoid, .round, .floor, .ceil, .sign: return false
            }
        case .add, .sub, .where, .sum, .extremum, .softmax, .logSoftmax, .reshape, .permute, .expand, .narrow, .copy,
            .cat, .indexSelect, .gather, .scatterAdd, .embedding, .triangular, .cumsum:
            return false
        case .layerNorm, .rmsNorm, .attention, .crossEntropy, .rope: return false  // they read their own saved copies
        case .custom: return false  // the closure holds what it needs
        }
    }

    /// True when the VJP reads the output value (pow, unary, logsumexp, softmax, logSoftmax).
    var vjpReadsOutput: Bool {
        switch self {
        case .pow, .logsumexp, .softmax, .logSoftmax: return true
        case .unary(let u):
            switch u {
            case .exp, .sqrt, .rsqrt, .tanh, .sigmoid: return true
            case .neg, .log, .abs, .relu, .geluTanh, .geluExact, .silu, .round, .floor, .ceil, .sign: return false
            }
        case .add, .sub, .mul, .div, .powScalar, .clamp, .where, .sum, .extremum, .matmul, .linear, .reshape, .permute, .expand,
            .narrow, .copy, .cat, .indexSelect, .gather, .scatterAdd, .embedding, .triangular, .cumsum,
            .layerNorm, .rmsNorm, .attention, .crossEntropy, .rope, .glu, .custom:
            return false
        }
    }

    /// True when every gradient the VJP returns is a new buffer nothing else references (autograd may then
    /// add later contributions into it in place).
    var vjpReturnsFreshBuffers: Bool {
        switch self {
        case .narrow, .linear, .embedding, .glu: return true
        default: return false
        }
    }

    /// Gradients with respect to each input of `node`, given the gradient `g` of its output.
    /// A nil entry means "no gradient" (the input does not require one, or is an index).
    func vjp(_ g: Tensor, _ node: Node) throws -> [Tensor?] {
        let x = node.inputs, s = node.saved
        switch self {
        case .add, .sub, .mul, .div, .pow: return try Tensor.binaryVJP(self, g, x[0], x[1], output: node.output)
        case .unary(let u): return [try u.vjp(g, x: x[0], y: node.output)]
        case .powScalar(let p): return [try Tensor.powScalarVJP(g, x[0], p)]
        case .clamp(let lo, let hi): return [try Tensor.clampVJP(g, x[0], lo, hi)]
        case .where: return try Tensor.whereVJP(g, condition: s[0], x[0], x[1])
        case .sum(let dims, let keepdim): return [try Tensor.sumVJP(g, inputShape: x[0].shape, dims: dims, keepdim: keepdim)]
        case .extremum(let dim, let keepdim): return [try Tensor.extremumVJP(g, inputShape: x[0].shape, indices: s[0], dim: dim, keepdim: keepdim)]
        case .logsumexp(let dim, let keepdim): return [try Tensor.logsumexpVJP(g, x[0], y: node.output, dim: dim, keepdim: keepdim)]
        case .softmax(let dim): return [try Tensor.softmaxVJP(g, y: node.output, dim: dim)]
        case .logSoftmax(let dim): return [try Tensor.logSoftmaxVJP(g, y: node.output, dim: dim)]
        case .matmul: return try Tensor.matmulVJP(g, x[0], x[1])
        case .linear: return try Tensor.linearVJP(g, x)
        case .reshape(let from): return [try g.reshape(from)]
        case .permute(let order): return [try Tensor.permuteVJP(g, order)]
        case .expand(let from): return [try g.sumTo(from)]
        case .narrow(let dim, let start, let length): return [try Tensor.narrowVJP(g, inputShape: x[0].shape, dim: dim, start: start, length: length)]
        case .copy: return [g]
        case .cat(let dim, let sizes): return try Tensor.catVJP(g, dim: dim, sizes: sizes)
        case .indexSelect(let dim): return [try Tensor.indexSelectVJP(g, inputShape: x[0].shape, dim: dim, index: s[0])]
        case .gather(let dim): return [try Tensor.gatherVJP(g, inputShape: x[0].shape, dim: dim, index: s[0])]
        case .scatterAdd(let dim): return try Tensor.scatterAddVJP(g, dim: dim, index: s[0], srcShape: x[1].shape)
        case .embedding: return [try Tensor.embeddingVJP(g, weightShape: x[0].shape, ids: s[0])]
        case .triangular(let upper, let diagonal): return [try g.triangular(upper: upper, diagonal: diagonal)]
        case .cumsum(let dim): return [try g.scan(dim: dim, reverse: true)]
        case .layerNorm(_, let hw, let hb): return try Tensor.layerNormVJP(g, saved: s, hasWeight: hw, hasBias: hb, rms: false)
        case .rmsNorm(_, let hw): return try Tensor.layerNormVJP(g, saved: s, hasWeight: hw, hasBias: false, rms: true)
        case .attention(let scale, let layout): return try Tensor.attentionVJP(g, saved: s, scale: scale, layout: layout)
        case .rope: return [try Tensor.ropeVJP(g, cos: s[0], sin: s[1])]
        case .glu(let a): return [try Tensor.gluVJP(g, x: x[0], a)]
        case .crossEntropy(let sm, let red, let used):
            return [try Tensor.crossEntropyVJP(g, logitsShape: x[0].shape, saved: s, smoothing: sm, reduction: red, used: used)]
        case .custom(let f): return try f.vjp(g)
        }
    }
}

/// The names of all primitives (unary ops count individually), for coverage checks and `llm.primitives()`.
public enum PrimitiveKind: String, CaseIterable, Sendable {
    case add, sub, mul, div, pow
    case neg, exp, log, sqrt, rsqrt, abs, tanh, sigmoid, relu, geluTanh, geluExact, silu
    case round, floor, ceil, sign
    case powScalar, clamp, `where`
    case sum, extremum, logsumexp, softmax, logSoftmax
    case matmul, linear
    case reshape, permute, expand, narrow, copy
    case cat, indexSelect, gather, scatterAdd, embedding, triangular, cumsum
    case layerNorm, rmsNorm, attention, crossEntropy
    case rope, swiglu, geglu
    case custom
}
