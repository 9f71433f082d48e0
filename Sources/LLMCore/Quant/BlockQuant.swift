// BlockQuant: ggml's block quantization formats Q8_0, Q4_0 and the k-quant Q4_K as pure functions from float32
// rows to blocks of bytes (and back), bit-exact with ggml's reference quantizers (`quantize_row_q8_0_ref`,
// `quantize_row_q4_0_ref`, `quantize_row_q4_K_ref`; Q8_0/Q4_0 also with `gguf.quants.quantize`). A Q8_0/Q4_0
// block covers 32 consecutive values of a row, a Q4_K super-block 256 (CKernels quant_k.c: the layout and the
// make_qkx2_quants search); rows must be a multiple of that (`valuesPerBlock`). A Q8_0/Q4_0 block's scale d is
// stored as IEEE binary16 (round to nearest even), the quants are computed with the float32 scale. Non-finite
// products (non-finite input, or a subnormal scale whose inverse overflows) give quant 0 as gguf-py's numpy
// casts do on x86, never a trap; Q4_K rounds with ggml's nearest_int bit trick, so any input (NaN, ±inf,
// squares overflowing to inf) gives llama.cpp's bytes, never a trap.
//   Q8_0 (34 bytes): d = max|x| / 127, q = roundf(x / d) (halves away from zero), int8 q[32].
//   Q4_0 (18 bytes): m = the signed value of largest |x| (first one), d = m / −8,
//                    q = min(15, trunc(x / d + 8.5)); byte j holds q[j] (low nibble) and q[j+16] (high).
// Used by the GGUF writer (LLMFormats) and meant for the compression work's quantized weights.
import CKernels

/// ggml block quantization types (32 values per block; Q4_K: 256 values per super-block).
public enum BlockQuant: String, CaseIterable, Sendable {
    /// 8-bit: an f16 scale and 32 int8 quants (34 bytes per block).
    case q8_0
    /// 4-bit: an f16 scale and 32 4-bit quants packed in 16 bytes (18 bytes per block).
    case q4_0
    /// 4-bit k-quant: super-blocks of 256 values (8 sub-blocks of 32 with 6-bit scales and mins packed in 12
    /// bytes, an f16 d and dmin, 128 bytes of 4-bit quants): 144 bytes per super-block.
    case q4_k

    /// Values per block of Q8_0 and Q4_0 (and per sub-block of Q4_K).
    public static let blockSize = 32

    /// Values per (super-)block: 32, or 256 for Q4_K. Rows must be a multiple of it.
    public var valuesPerBlock: Int { self == .q4_k ? 256 : Self.blockSize }

    /// Bytes per (super-)block.
    public var bytesPerBlock: Int {
        switch self {
        case .q8_0: return 34
        case .q4_0: return 18
        case .q4_k: return 144
        }
    }

    /// Bytes that `count` values (a multiple of `valuesPerBlock`) take.
    public func byteCount(values count: Int) -> Int { count / valuesPerBlock * bytesPerBlock }

    /// Quantizes `x` (its length a multiple of `valuesPerBlock`) into `out`, which must hold `byteCount(values: x.count)` bytes.
    public func quantize(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        let size = valuesPerBlock
        precondition(x.count % size == 0, "BlockQuant: \(x.count) values is not a multiple of \(size)")
        precondition(out.count >= byteCount(values: x.count), "BlockQuant: output buffer too small")
        if self == .q4_k {
            if let src = x.baseAddress, let dst = out.baseAddress, !x.isEmpty { llmk_quantize_q4_k(src, dst.assumingMemoryBound(to: UInt8.self), x.count) }
            return
        }
        for b in 0..<(x.count / size) {
            let src = UnsafeBufferPointer(rebasing: x[(b * size)..<((b + 1) * size)])
            let dst = UnsafeMutableRawBufferPointer(rebasing: out[(b * bytesPerBlock)..<((b + 1) * bytesPerBlock)])
            switch self {
            case .q8_0: Self.quantizeQ8_0(src, dst)
            case .q4_0: Self.quantizeQ4_0(src, dst)
            case .q4_k: break  // handled above
            }
        }
    }

    /// The blocks of `x` (its length a multiple of `valuesPerBlock`) as bytes.
    public func quantize(_ x: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: byteCount(values: x.count))
        x.withUnsafeBufferPointer { src in out.withUnsafeMutableBytes { quantize(src, into: $0) } }
        return out
    }

    /// Dequantizes blocks back to floats (d · q, d · (q − 8) for Q4_0, d·sc·q − dmin·m for Q4_K): `out.count` values.
    public func dequantize(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count % valuesPerBlock == 0 && bytes.count >= byteCount(values: out.count), "BlockQuant: size mismatch")
        if self == .q4_k {
            if let src = bytes.baseAddress, let dst = out.baseAddress, !out.isEmpty {
                llmk_dequantize_q4_k(src.assumingMemoryBound(to: UInt8.self), dst, out.count)
            }
            return
        }
        for b in 0..<(out.count / Self.blockSize) {
            let base = b * bytesPerBlock
            let d = Float(Float16(bitPattern: UInt16(bytes[base]) | UInt16(bytes[base + 1]) << 8))
            let o = b * Self.blockSize
            switch self {
            case .q8_0:
                for j in 0..<32 { out[o + j] = d * Float(Int8(bitPattern: bytes[base + 2 + j])) }
            case .q4_0:
                for j in 0..<16 {
                    let byte = bytes[base + 2 + j]
                    out[o + j] = d * Float(Int(byte & 0x0F) - 8)
                    out[o + j + 16] = d * Float(Int(byte >> 4) - 8)
                }
            case .q4_k: break  // handled above
            }
        }
    }

    /// The values of blocks (`count` of them, a multiple of `valuesPerBlock`).
    public func dequantize(_ bytes: [UInt8], count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { dequantize(src, into: $0) } }
        return out
    }

    /// IEEE binary16 bits of `x`, rounded to nearest even (overflow gives ±inf), as ggml's GGML_FP32_TO_FP16.
    @inlinable public static func halfBits(_ x: Float) -> UInt16 { Float16(x).bitPattern }

    private static func storeScale(_ d: Float, _ dst: UnsafeMutableRawBufferPointer) {
        let h = halfBits(d)
        dst[0] = UInt8(h & 0xFF)
        dst[1] = UInt8(h >> 8)
    }

    private static func quantizeQ8_0(_ x: UnsafeBufferPointer<Float>, _ dst: UnsafeMutableRawBufferPointer) {
        var amax: Float = 0
        for v in x { amax = max(amax, abs(v)) }
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        storeScale(d, dst)
        for j in 0..<32 {
            let q = (x[j] * id).rounded(.toNearestOrAwayFromZero)
            dst[2 + j] = UInt8(bitPattern: q.isFinite ? Int8(min(127, max(-128, q))) : 0)  // NaN/inf input: 0, never a trap
        }
    }

    private static func quantizeQ4_0(_ x: UnsafeBufferPointer<Float>, _ dst: UnsafeMutableRawBufferPointer) {
        var amax: Float = 0
        var m: Float = 0
        for v in x where abs(v) > amax {
            amax = abs(v)
            m = v
        }
        let d = m / -8
        let id: Float = d != 0 ? 1 / d : 0
        storeScale(d, dst)
        func q(_ v: Float) -> UInt8 {
            let t = (v * id + 8.5).rounded(.towardZero)
            return t.isNaN ? 0 : UInt8(min(15, max(0, t)))  // NaN (a scale overflowing 1/d): 0 as gguf-py, never a trap
        }
        for j in 0..<16 { dst[2 + j] = q(x[j]) | (q(x[j + 16]) << 4) }
    }
}
