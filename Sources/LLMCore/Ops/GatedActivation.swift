// Gated linear units as one fused primitive each: x (..., 2F) -> (..., F), out = act(x[..., :F]) · x[..., F:]
// (the first half is the gate, as in HF Llama's act(gate_proj(x)) · up_proj(x) when the two projections are
// one fused (2F, C) weight: [gate; up]).
// SwiGLU: act = SiLU. GeGLU: act = exact (erf) GELU, matching PyTorch's F.gelu default and HF's GeGLU
// (diffusers/T5-style "gelu"), not the tanh approximation.
// Backward (hand-written, one pass): d gate = g · up · act'(gate), d up = g · act(gate).
// Kernels: CKernels llmk_glu_forward / llmk_glu_backward (SIMD, rows split across threads).
// reference: Shazeer 2020, "GLU Variants Improve Transformer".
import CKernels

/// The activation of a gated linear unit.
public enum GLUActivation: Sendable {
    case silu, gelu

    var kind: PrimitiveKind { self == .silu ? .swiglu : .geglu }
    var name: String { self == .silu ? "swiglu" : "geglu" }
}

extension Tensor {
    /// SwiGLU: SiLU(x[..., :F]) · x[..., F:] for x (..., 2F).
    public func swiglu() throws -> Tensor { try glu(.silu) }
    /// GeGLU: GELU(x[..., :F]) · x[..., F:] for x (..., 2F), exact (erf) GELU.
    public func geglu() throws -> Tensor { try glu(.gelu) }

    /// Gated linear unit with the given activation over the last dim (even length 2F) -> (..., F).
    public func glu(_ act: GLUActivation) throws -> Tensor {
        guard rank >= 1, let last = shape.last, last % 2 == 0 else {
            throw TensorError.shape("\(act.name): the last dim must have an even size (gate and value halves), got shape \(shapeString(shape))")
        }
        let x = try GradMode.withoutGrad { try asFloat().contiguous() }
        let n = last / 2, rows = n == 0 ? 0 : count / last
        let out = try Tensor(shape: Array(shape.dropLast()) + [n], zeroed: false)
        let px = x.f32, po = out.f32, gelu: Int32 = act == .gelu ? 1 : 0
        Parallel.forRanges(rows, cost: 8 * n) { r in
            llmk_glu_forward(px + r.lowerBound * 2 * n, po + r.lowerBound * n, r.count, n, gelu)
        }
        return out.record(.glu(act), [self])
    }

    // g: (..., F), x: (..., 2F) -> dx (..., 2F)
    static func gluVJP(_ g: Tensor, x: Tensor, _ act: GLUActivation) throws -> Tensor {
        let g = try g.contiguous(), x = try x.asFloat().contiguous()
        let n = (x.shape.last ?? 0) / 2, rows = n == 0 ? 0 : x.count / (2 * n)
        let dx = try Tensor(shape: x.shape, zeroed: rows == 0)
        let pg = g.f32, px = x.f32, pd = dx.f32, gelu: Int32 = act == .gelu ? 1 : 0
        Parallel.forRanges(rows, cost: 12 * n) { r in
            llmk_glu_backward(pg + r.lowerBound * n, px + r.lowerBound * 2 * n, pd + r.lowerBound * 2 * n, r.count, n, gelu)
        }
        return dx
    }
}
