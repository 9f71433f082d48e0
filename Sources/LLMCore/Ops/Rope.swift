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
        let (b, h, t, d) = (shape[0], shape[1], shape[2], shape[3]), half = d / 2
        var invFreq = (0..<half).map { Foundation.pow(base, -2 * Double($0) / Double(d)) }
        var posScale = 1.0
        switch scaling {
        case nil: break
        case .linear(let f)?, .ntk(let f)?:
            guard f.isFinite, f > 0 else { throw TensorError.invalid("Invalid 'factor': expected a positive number, got \(f)") }
            if case .linear = scaling { posScale = 1 / f } else if d > 2 {
                let nb = base * Foundation.pow(f, Double(d) / Double(d - 2))
                invFreq = (0..<half).map { Foundation.pow(nb, -2 * Double($0) / Double(d)) }
            }
        }
        let pos: [Int], bp: Int
        if let p = positions {
            if p.shape == [t] { pos = try AttentionLayout.perRow(p, "positions", b: 1, n: t); bp = 1 } else {
                pos = try AttentionLayout.perRow(p, "positions", b: b, n: t); bp = b
            }
        } else { pos = (0..<t).map { offset + $0 }; bp = 1 }
        let cosT = try Tensor(shape: [bp, t, half], zeroed: false), sinT = try Tensor(shape: [bp, t, half], zeroed: false)
        let pc = cosT.f32, ps = sinT.f32
        for r in 0..<(bp * t) {
            let p = Double(pos[r]) * posScale
            for k in 0..<half {
                let a = p * invFreq[k]
                pc[r * half + k] = Float(Foundation.cos(a)); ps[r * half + k] = Float(Foundation.sin(a))
            }
        }
        let x = try GradMode.withoutGrad { try asFloat().contiguous() }
        let out = try Tensor(shape: shape, zeroed: false)
        Tensor.rotate(x.f32, out.f32, cos: pc, sin: ps, b: b, h: h, t: t, half: half, bp: bp, inverse: false)
        return out.record(.rope, [self], saved: [cosT, sinT])
    }

    // g: (B,H,T,D) -> dx (B,H,T,D): rotation by −θ
    static func ropeVJP(_ g: Tensor, cos: Tensor, sin: Tensor) throws -> Tensor {
        let g = try g.contiguous()
        let (b, h, t, d) = (g.shape[0], g.shape[1], g.shape[2], g.shape[3])
        let dx = try Tensor(shape: g.shape, zeroed: false)
        rotate(g.f32, dx.f32, cos: cos.f32, sin: sin.f32, b: b, h: h, t: t, half: d / 2, bp: cos.shape[0], inverse: true)
        return dx
    }

    /// out = rotate(x, ±θ) row by row; rows (b, h, i) read table row (b if bp > 1 else 0, i).
    static func rotate(_ x: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, cos: UnsafeMutablePointer<Float>,
                       sin: UnsafeMutablePointer<Float>, b: Int, h: Int, t: Int, half: Int, bp: Int, inverse: Bool) {
        let sign: Float = inverse ? -1 : 1, d = 2 * half
        Parallel.forRanges(b * h * t, cost: 3 * d) { range in
            for row in range {
                let bi = row / (h * t), i = row % t
                let c = cos + ((bp > 1 ? bi : 0) * t + i) * half, s = sin + ((bp > 1 ? bi : 0) * t + i) * half
                let xr = x + row * d, o = out + row * d
                for k in 0..<half {
                    let x1 = xr[k], x2 = xr[k + half], sn = sign * s[k]
                    o[k] = x1 * c[k] - x2 * sn
                    o[k + half] = x2 * c[k] + x1 * sn
                }
            }
        }
    }
}
