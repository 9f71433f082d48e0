// BlockQuant+Q4K: ggml's k-quant Q4_K, bit-exact with llama.cpp's `quantize_row_q4_K_ref` (no importance
// matrix) and `dequantize_row_q4_K`. A super-block of 256 values (144 bytes) is
//   d: f16 | dmin: f16 | scales: 12 bytes (8 six-bit scales and 8 six-bit mins) | qs: 128 bytes of 4-bit quants,
// value = d·sc_j·q − dmin·m_j for sub-block j (32 values). Packing (get_scale_min_k4): for j < 4, scales[j] and
// scales[j+4] hold sc_j and m_j in their low 6 bits; for j ≥ 4, scales[j+4] holds sc_j's low 4 bits (low nibble)
// and m_j's (high nibble), and the top 2 bits of scales[j−4] / scales[j] hold sc_j's / m_j's high 2 bits.
// qs: each 64 values share 32 bytes, the first 32 in the low nibbles, the next 32 in the high ones.
// The quantizer: per sub-block, make_qkx2_quants (weights av_x + |x|, av_x = rms of the sub-block; an initial
// min/max fit, then 21 trial inverse scales (nmax + rmin + rdelta·is, rmin −1, rdelta 0.1) each refit by weighted
// least squares, keeping the lowest weighted squared error); the 8 scales and mins are then quantized to 6 bits
// against their maxima (d = max_scale/63, dmin = max_min/63 as f16) and the values requantized with the stored
// scales. Float operations follow ggml's C order exactly (no fused multiply-add; Swift never contracts), and
// rounding is ggml's nearest_int (the 1.5·2²³ trick: nearest even, no trap for any input).

extension BlockQuant {
    /// ggml's nearest_int: the float added to 1.5·2²³, its low mantissa bits as an integer (round to nearest even).
    @inline(__always) static func nearestInt(_ v: Float) -> Int {
        let bits = Int32(bitPattern: (v + 12_582_912).bitPattern)
        return Int((bits & 0x007F_FFFF) - 0x0040_0000)
    }

    /// make_qkx2_quants(32, 15, x, weights, L, &min, Laux, -1, 0.1, 20, false): returns the scale, sets `L` and
    /// `theMin` (the negated offset, ≥ 0).
    static func makeQKX2(_ x: UnsafeBufferPointer<Float>, _ weights: [Float], _ L: inout [UInt8], _ off: Int, _ theMin: inout Float) -> Float {
        let n = x.count, nmax = 15, nmaxF = Float(15), rmin: Float = -1, rdelta: Float = 0.1, nstep = 20
        var mn = x[0], mx = x[0], sumW = weights[0]
        var sumX = sumW * x[0]
        for i in 1..<n {
            if x[i] < mn { mn = x[i] }
            if x[i] > mx { mx = x[i] }
            let w = weights[i]
            sumW += w
            sumX += w * x[i]
        }
        if mn > 0 { mn = 0 }
        if mx == mn {
            for i in 0..<n { L[off + i] = 0 }
            theMin = -mn
            return 0
        }
        var iscale = nmaxF / (mx - mn)
        var scale = 1 / iscale
        var bestError: Float = 0
        for i in 0..<n {
            let l = Swift.max(0, Swift.min(nmax, nearestInt(iscale * (x[i] - mn))))
            L[off + i] = UInt8(l)
            let diff = scale * Float(l) + mn - x[i]
            bestError += weights[i] * (diff * diff)
        }
        var laux = [UInt8](repeating: 0, count: n)
        for step in 0...nstep {
            iscale = (rmin + rdelta * Float(step) + nmaxF) / (mx - mn)
            var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
            for i in 0..<n {
                let l = Swift.max(0, Swift.min(nmax, nearestInt(iscale * (x[i] - mn))))
                laux[i] = UInt8(l)
                let w = weights[i], lf = Float(l)
                sumL += w * lf
                sumL2 += w * lf * lf
                sumXL += w * lf * x[i]
            }
            let D = sumW * sumL2 - sumL * sumL
            guard D > 0 else { continue }
            var thisScale = (sumW * sumXL - sumX * sumL) / D
            var thisMin = (sumL2 * sumX - sumL * sumXL) / D
            if thisMin > 0 {
                thisMin = 0
                thisScale = sumXL / sumL2
            }
            var mad: Float = 0
            for i in 0..<n {
                let diff = thisScale * Float(laux[i]) + thisMin - x[i]
                mad += weights[i] * (diff * diff)
            }
            if mad < bestError {
                for i in 0..<n { L[off + i] = laux[i] }
                bestError = mad
                scale = thisScale
                mn = thisMin
            }
        }
        theMin = -mn
        return scale
    }

    /// The 6-bit scale and min of sub-block `j` from the 12 packed bytes at `s` (ggml's get_scale_min_k4).
    @inline(__always) static func scaleMinK4(_ j: Int, _ s: (Int) -> UInt8) -> (sc: UInt8, m: UInt8) {
        if j < 4 { return (s(j) & 63, s(j + 4) & 63) }
        return ((s(j + 4) & 0xF) | ((s(j - 4) >> 6) << 4), (s(j + 4) >> 4) | ((s(j) >> 6) << 4))
    }

    static func quantizeQ4_K(_ x: UnsafeBufferPointer<Float>, _ dst: UnsafeMutableRawBufferPointer) {
        var L = [UInt8](repeating: 0, count: 256)
        var scales = [Float](repeating: 0, count: 8), mins = [Float](repeating: 0, count: 8)
        var weights = [Float](repeating: 0, count: 32)
        var maxScale: Float = 0, maxMin: Float = 0
        for j in 0..<8 {
            let sub = UnsafeBufferPointer(rebasing: x[(32 * j)..<(32 * j + 32)])
            var sumX2: Float = 0
            for v in sub { sumX2 += v * v }
            let avX = (sumX2 / 32).squareRoot()
            for l in 0..<32 { weights[l] = avX + Swift.abs(sub[l]) }
            scales[j] = makeQKX2(sub, weights, &L, 32 * j, &mins[j])
            if scales[j] > maxScale { maxScale = scales[j] }
            if mins[j] > maxMin { maxMin = mins[j] }
        }
        let invScale: Float = maxScale > 0 ? 63 / maxScale : 0, invMin: Float = maxMin > 0 ? 63 / maxMin : 0
        var packed = [UInt8](repeating: 0, count: 12)
        for j in 0..<8 {
            let ls = Swift.min(63, UInt8(truncatingIfNeeded: nearestInt(invScale * scales[j])))
            let lm = Swift.min(63, UInt8(truncatingIfNeeded: nearestInt(invMin * mins[j])))
            if j < 4 {
                packed[j] = ls
                packed[j + 4] = lm
            } else {
                packed[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4)
                packed[j - 4] |= (ls >> 4) << 6
                packed[j] |= (lm >> 4) << 6
            }
        }
        storeScale(maxScale / 63, dst)
        storeScale(maxMin / 63, UnsafeMutableRawBufferPointer(rebasing: dst[2..<4]))
        for j in 0..<12 { dst[4 + j] = packed[j] }
        let d = Float(Float16(bitPattern: halfBits(maxScale / 63))), dmin = Float(Float16(bitPattern: halfBits(maxMin / 63)))
        for j in 0..<8 {
            let (sc, m) = scaleMinK4(j) { packed[$0] }
            let dj = d * Float(sc)
            if dj == 0 { continue }  // ggml keeps make_qkx2_quants' levels for this sub-block
            let dm = dmin * Float(m)
            for i in 0..<32 { L[32 * j + i] = UInt8(Swift.max(0, Swift.min(15, nearestInt((x[32 * j + i] + dm) / dj)))) }
        }
        for g in 0..<4 {
            for l in 0..<32 { dst[16 + 32 * g + l] = L[64 * g + l] | (L[64 * g + 32 + l] << 4) }
        }
    }

    static func dequantizeQ4_K(_ src: UnsafeRawBufferPointer, _ out: UnsafeMutableBufferPointer<Float>) {
        let d = Float(Float16(bitPattern: UInt16(src[0]) | UInt16(src[1]) << 8))
        let dmin = Float(Float16(bitPattern: UInt16(src[2]) | UInt16(src[3]) << 8))
        for j in 0..<8 {
            let (sc, m) = scaleMinK4(j) { src[4 + $0] }
            let dj = d * Float(sc), mj = dmin * Float(m)
            let shift = UInt8(4 * (j & 1))
            for l in 0..<32 { out[32 * j + l] = dj * Float((src[16 + 32 * (j / 2) + l] >> shift) & 0xF) - mj }
        }
    }
}
