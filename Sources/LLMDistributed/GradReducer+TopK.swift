// GradReducer+TopK: top-k gradient sparsification with error feedback (Lin et al., "Deep Gradient
// Compression"; Stich et al., "Sparsified SGD with Memory"). Per bucket and step, each rank adds its
// residual to the bucket's gradients, keeps the k = ceil(ratio·n) entries of largest magnitude, and
// all-gathers k indices (int32 bit patterns carried in float32 slots: exact for any bucket size), k values
// and the bucket's per-parameter flags; every rank then sums the ranks' sparse vectors into the dense
// bucket (the same sums in the same rank order everywhere, so all ranks agree bit for bit). What a rank did
// not send stays in its residual for the next step (residuals() / setResiduals(): GradReducer+Residuals.swift;
// dist.dataParallel saves them in checkpoints).
import LLMCore

extension GradReducer {
    /// Number of entries top-k sends from a bucket of n floats.
    static func topKCount(_ n: Int, ratio: Double) -> Int { max(1, min(n, Int((Double(n) * ratio).rounded(.up)))) }

    /// Indices of the k largest |values[i]| (ties broken by the lower index), in increasing index order.
    static func topKIndices(_ values: UnsafePointer<Float>, count n: Int, k: Int) -> [Int32] {
        if k >= n { return (0..<n).map(Int32.init) }
        var mags = (0..<n).map { abs(values[$0]) }
        // quickselect the k-th largest magnitude
        var lo = 0, hi = n - 1, target = k - 1
        var rng = SystemRandomNumberGenerator()
        while lo < hi {
            mags.swapAt(Int.random(in: lo...hi, using: &rng), hi)
            let pivot = mags[hi]
            var store = lo
            for i in lo..<hi where mags[i] > pivot { mags.swapAt(i, store); store += 1 }
            mags.swapAt(store, hi)
            if store == target { break }
            if store < target { lo = store + 1 } else { hi = store - 1 }
        }
        let threshold = mags[target]
        var out: [Int32] = []
        out.reserveCapacity(k)
        var above = 0
        for i in 0..<n where abs(values[i]) > threshold { above += 1 }
        var ties = k - above
        for i in 0..<n {
            let a = abs(values[i])
            if a > threshold {
                out.append(Int32(i))
            } else if a == threshold && ties > 0 {
                ties -= 1; out.append(Int32(i))
            }
        }
        // NaN magnitudes compare false: pad with the first unchosen indices so that exactly k are sent
        if out.count < k {
            var taken = Set(out)
            for i in 0..<n where out.count < k && taken.insert(Int32(i)).inserted { out.append(Int32(i)) }
        }
        if out.count > k { out.removeLast(out.count - k) }
        return out
    }

    /// Reduces one bucket by top-k with error feedback; leaves the ranks' sums (gradients and flags) in
    /// `b.flat` for writeBack.
    func reduceTopK(_ b: Bucket, ratio: Double) throws {
        let n = b.floats, m = b.members.count
        let k = Self.topKCount(n, ratio: ratio)
        let residual = try b.residual ?? Tensor(shape: [n])
        b.residual = residual
        let f = b.flat.f32, r = residual.f32
        for i in 0..<n { r[i] += f[i] }  // residual := gradient + residual (everything owed)
        let chosen = Self.topKIndices(r, count: n, k: k)
        let payload = try Tensor(shape: [2 * k + m], zeroed: false)
        let p = payload.f32
        for (j, idx) in chosen.enumerated() {
            p[j] = Float(bitPattern: UInt32(bitPattern: idx))
            p[k + j] = r[Int(idx)]
            r[Int(idx)] = 0  // sent: no longer owed
        }
        for j in 0..<m { p[2 * k + j] = f[n + j] }
        let t0 = GradReducer.clockSeconds()
        let all = try comm.allGather(payload)
        stats.waitSeconds += GradReducer.clockSeconds() - t0
        let g = all.f32, row = 2 * k + m
        for i in 0..<(n + m) { f[i] = 0 }
        for rank in 0..<comm.size {
            let base = g + rank * row
            for j in 0..<k {
                let idx = Int(Int32(bitPattern: base[j].bitPattern))
                guard idx >= 0 && idx < n else { throw DistError("dist.GradReducer: rank \(rank) sent index \(idx) for a bucket of \(n) floats") }
                f[idx] += base[k + j]
            }
            for j in 0..<m { f[n + j] += base[2 * k + j] }
        }
    }
}
