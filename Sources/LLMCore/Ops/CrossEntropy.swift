// Fused softmax cross-entropy over class logits with its own backward, plus ignoreIndex, label smoothing
// and mean/sum/none reduction (PyTorch F.cross_entropy semantics). logits: (N, C) or (..., C);
// targets: (N) or (...) holding 0-based class ids. Saved: per-row logsumexp (N) and the targets.
// loss_i = lse_i − (1−ε)·x_i[t_i] − (ε/C)·Σ_j x_ij ;  dx_ij = g_i·(softmax_ij − (1−ε)·[j=t_i] − ε/C)
import CKernels
import Foundation

/// How per-element losses are combined.
public enum Reduction: String, CaseIterable, Sendable { case mean, sum, none }

extension Tensor {
    /// Cross-entropy between `self` (logits, classes in the last dim) and 0-based class `targets`.
    public func crossEntropy(
        _ targets: Tensor, ignoreIndex: Int? = nil, labelSmoothing: Double = 0,
        reduction: Reduction = .mean
    ) throws -> Tensor {
        guard rank >= 1, let c = shape.last, c > 0 else { throw TensorError.shape("crossEntropy: logits need a non-empty class dim, got \(shapeString(shape))") }
        guard targets.shape == Array(shape.dropLast()) else {
            throw TensorError.shape(
                "crossEntropy: targets of shape \(shapeString(targets.shape)) do not match logits \(shapeString(shape)) (expected \(shapeString(Array(shape.dropLast()))))")
        }
        guard labelSmoothing >= 0, labelSmoothing <= 1 else {
            throw TensorError.invalid("Invalid 'labelSmoothing': expected a number in [0, 1], got \(labelSmoothing)")
        }
        let n = count / c
        var ids = [Int](repeating: 0, count: n)
        var i = 0
        var bad: Double? = nil
        targets.forEachOffset { o in
            let v = targets.load(at: o)
            if let ig = ignoreIndex, v == Double(ig) { ids[i] = -1 } else if v >= 0, v < Double(c), v == v.rounded() { ids[i] = Int(v) } else if bad == nil { bad = v }
            i += 1
        }
        if let bad { throw TensorError.invalid("crossEntropy: target \(bad) is out of range for \(c) classes (targets are 0-based class ids)") }
        let x = try GradMode.withoutGrad { try asFloat().contiguous() }
        let lse = try Tensor(shape: [n], zeroed: false)
        let rowLoss = try Tensor(shape: [n])
        let px = x.f32, pl = lse.f32, prow = rowLoss.f32
        let eps = Float(labelSmoothing)
        let used = ids.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        ids.withUnsafeBufferPointer { idp in
            Parallel.forRanges(n, cost: c * 4) { rows in
                for r in rows {
                    let row = px + r * c
                    var sumX: Float = 0
                    let l = llmk_logsumexp_row(row, c, &sumX)
                    pl[r] = l
                    guard idp[r] >= 0 else { continue }
                    prow[r] = l - (1 - eps) * row[idp[r]] - eps * (sumX / Float(c))
                }
            }
        }
        let idTensor = try Tensor.from(ids.map(Double.init), shape: [n], dtype: .int64)
        let out: Tensor
        switch reduction {
        case .none: out = try rowLoss.reshape(targets.shape)
        case .sum: out = try Tensor.scalar(Float(rowLoss.toDoubles().reduce(0, +)))
        case .mean: out = try Tensor.scalar(used == 0 ? .nan : Float(rowLoss.toDoubles().reduce(0, +) / Double(used)))
        }
        let detached = out.isLeaf ? out : out.detach()
        return detached.record(.crossEntropy(smoothing: labelSmoothing, reduction: reduction, used: used), [self], saved: [x, lse, idTensor])
    }

    // g: () for mean/sum, targets shape for none -> dlogits (N, C)
    static func crossEntropyVJP(_ g: Tensor, logitsShape: [Int], saved: [Tensor], smoothing: Double, reduction: Reduction, used: Int) throws -> Tensor {
        let x = saved[0], lse = saved[1], ids = saved[2]
        let c = logitsShape.last!, n = x.count / c
        let gv = try g.contiguous()
        let dx = try Tensor(shape: logitsShape, zeroed: false)
        let px = x.f32, pl = lse.f32, pd = dx.f32
        let pid = ids.storage.bytes.assumingMemoryBound(to: Int64.self) + ids.offset
        let eps = Float(smoothing), uniform = Float(smoothing) / Float(c)
        Parallel.forRanges(n, cost: c * 2) { rows in
            for r in rows {
                let row = px + r * c, d = pd + r * c
                let t = Int(pid[r])
                let scale: Float
                switch reduction {
                case .none: scale = gv.f32[r]
                case .sum: scale = gv.f32[0]
                case .mean: scale = used == 0 ? 0 : gv.f32[0] / Float(used)
                }
                if t < 0 { for j in 0..<c { d[j] = 0 }; continue }
                let l = pl[r]
                llmk_xent_backward_row(row, d, c, l, scale, uniform)
                d[t] -= scale * (1 - eps)
            }
        }
        return dx
    }
}
