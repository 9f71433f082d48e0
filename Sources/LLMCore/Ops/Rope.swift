// Rotary position embedding (RoPE) as one fused primitive: x (B,H,T,D), D even -> (B,H,T,D).
// Convention: HF Llama's rotate_half. With half = D/2 and θ_k = pos · base^(−2k/D) (k < half):
//   out[k]        = x[k]·cos θ_k − x[k+half]·sin θ_k
//   out[k+half]   = x[k+half]·cos θ_k + x[k]·sin θ_k
// (cos/sin of shape (T, D/2) duplicated over both halves, as HF builds them), so HF Llama checkpoints work
// without permuting q/k weights.
// Positions: (B,T) or (T) integers; default 0..T−1 (`offset` n: n..n+T−1). Scaling: `linear` divides the
// positions by the factor (HF rope_type "linear", position interpolation); `ntk` is static NTK-aware scaling,
// base' = base · factor^(D/(D−2)) (bloc97; HF's "dynamic" type uses this formula with a factor that grows with
// the sequence length — here the factor is fixed).
// Angles are computed in double, then cos/sin rounded to float32 (HF computes the angles in float32).
// Design: RoPE is applied to q and k BEFORE the KV cache (like HF and llama.cpp): cached keys are stored
// rotated and never rotated again, which is why this is its own primitive rather than an option of
// llm.attention (whose positions only decide visibility and ALiBi).
// Backward: the transpose rotation, dx[k] = g[k]·cos + g[k+half]·sin, dx[k+half] = g[k+half]·cos − g[k]·sin.
// Saved: the cos and sin tables (Bp, T, D/2), Bp = 1 when the positions are shared by the batch.
// Input rows are read in place through their strides; heads-interleaved input ((B,T,H,D) storage seen as
// (B,H,T,D), like q/k split out of a fused projection) gives an output stored the same way.
// reference: Su et al. 2021 (RoFormer); HF transformers modeling_llama apply_rotary_pos_emb.
import Foundation

/// Position scaling for ``Tensor/rope(positions:offset:base:scaling:)``.
public enum RopeScaling: Sendable, Equatable {
    /// Position interpolation: positions / factor.
    case linear(Double)
    /// Static NTK-aware: base · factor^(D/(D−2)).
    case ntk(Double)
}

extension Tensor {
    /// Rotary position embedding of (B,H,T,D) queries or keys (HF Llama rotate_half convention).
    public func rope(positions: Tensor? = nil, offset: Int = 0, base: Double = 10000, scaling: RopeScaling? = nil) throws -> Tensor {
        guard rank == 4, shape[3] % 2 == 0 else {
            throw TensorError.shape("rope: x must be 4-D (batch, heads, time, headDim) with an even headDim, got \(shapeString(shape))")
        }
        guard base.isFinite, base > 0 else { throw TensorError.invalid("Invalid 'base': expected a positive number, got \(base)") }
        let (b, t, d) = (shape[0], shape[2], shape[3]), half = d / 2
        var invFreq = (0..<half).map { Foundation.pow(base, -2 * Double($0) / Double(d)) }
        var posScale = 1.0
        switch scaling {
        case nil: break
        case .linear(let f)?, .ntk(let f)?:
            guard f.isFinite, f > 0 else { throw TensorError.invalid("Invalid 'factor': expected a positive number, got \(f)") }
            if case .linear = scaling {
                posScale = 1 / f
            } else if d > 2 {
                let nb = base * Foundation.pow(f, Double(d) / Double(d - 2))
                invFreq = (0..<half).map { Foundation.pow(nb, -2 * Double($0) / Double(d)) }
            }
        }
        let pos: [Int], bp: Int
        if let p = positions {
            if p.shape == [t] {
                pos = try AttentionLayout.perRow(p, "positions", b: 1, n: t); bp = 1
            } else {
                pos = try AttentionLayout.perRow(p, "positions", b: b, n: t); bp = b
            }
        } else {
            pos = (0..<t).map { offset + $0 }; bp = 1
        }
        let cosT = try Tensor(shape: [bp, t, half], zeroed: false), sinT = try Tensor(shape: [bp, t, half], zeroed: false)
        let pc = cosT.f32, ps = sinT.f32
        for r in 0..<(bp * t) {
            let p = Double(pos[r]) * posScale
            for k in 0..<half {
                let a = p * invFreq[k]
                pc[r * half + k] = Float(Foundation.cos(a)); ps[r * half + k] = Float(Foundation.sin(a))
            }
        }
        let x = try GradMode.withoutGrad { try asFloat() }
        let out = try Tensor.rotate(x, cos: cosT, sin: sinT, inverse: false)
        return out.record(.rope, [self], saved: [cosT, sinT])
    }

    // g: (B,H,T,D) -> dx (B,H,T,D): rotation by −θ
    static func ropeVJP(_ g: Tensor, cos: Tensor, sin: Tensor) throws -> Tensor {
        try rotate(g.asFloat(), cos: cos, sin: sin, inverse: true)
    }

    /// x (B,H,T,D) rotated by ±θ row by row; rows (b, h, i) read table row (b if Bp > 1 else 0, i).
    /// Rows are read in place through x's strides when unit-stride (q/k split out of a fused projection), and
    /// a result for heads-interleaved input (stored (B,T,H,D), as those splits and attention's gradients are)
    /// is stored the same way and returned as a (B,H,T,D) view, so merging heads back costs no copy.
    static func rotate(_ input: Tensor, cos: Tensor, sin: Tensor, inverse: Bool) throws -> Tensor {
        let (b, h, t, d) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3]), half = d / 2, bp = cos.shape[0]
        let x = input.strides[3] == 1 || d <= 1 ? input : try input.contiguous()
        let interleaved = x.strides[1] == d && x.strides[2] == h * d && h > 1 && t > 1
        let store = try Tensor(shape: interleaved ? [b, t, h, d] : [b, h, t, d], zeroed: false)
        let out = interleaved ? store.view(shape: [b, h, t, d], strides: [t * h * d, d, h * d, 1], offset: 0) : store
        let (xs, os) = (x.strides, out.strides), px = x.f32, po = store.f32, pc = cos.f32, ps = sin.f32
        let sign: Float = inverse ? -1 : 1
        Parallel.forRanges(b * h * t, cost: 3 * d) { range in
            for row in range {
                // rows in the storage's order: (b, t, h) when heads are interleaved, else (b, h, t)
                let bi = row / (h * t), hi = interleaved ? row % h : (row / t) % h, i = interleaved ? (row / h) % t : row % t
                let tab = ((bp > 1 ? bi : 0) * t + i) * half
                let c = pc + tab, sn = ps + tab
                let xr = px + bi * xs[0] + hi * xs[1] + i * xs[2], o = po + bi * os[0] + hi * os[1] + i * os[2]
                for k in 0..<half {
                    let x1 = xr[k], x2 = xr[k + half], sk = sign * sn[k]
                    o[k] = x1 * c[k] - x2 * sk
                    o[k + half] = x2 * c[k] + x1 * sk
                }
            }
        }
        return out
    }
}
