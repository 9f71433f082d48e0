// BlockQuant: ggml's block quantization formats Q8_0 and Q4_0 as pure functions from float32 rows to
// blocks of bytes (and back), bit-exact with ggml's reference quantizers (`quantize_row_q8_0_ref`,
// `quantize_row_q4_0_ref`) and the `gguf` Python package's `gguf.quants.quantize`. A block covers 32
// consecutive values of a row (rows must be a multiple of 32 long); its scale d is stored as IEEE
// binary16 (round to nearest even), the quants are computed with the float32 scale. Non-finite
// products (non-finite input, or a subnormal scale whose inverse overflows) give quant 0 as gguf-py's
// numpy casts do on x86, never a trap.
//   Q8_0 (34 bytes): d = max|x| / 127, q = roundf(x / d) (halves away from zero), int8 q[32].
//   Q4_0 (18 bytes): m = the signed value of largest |x| (first one), d = m / −8,
//                    q = min(15, trunc(x / d + 8.5)); byte j holds q[j] (low nibble) and q[j+16] (high).
// Used by the GGUF writer (LLMFormats) and meant for the compression work's quantized weights.

/// ggml block quantization types (32 values per block).
public enum BlockQuant: String, CaseIterable, Sendable {
    /// 8-bit: an f16 scale and 32 int8 quants (34 bytes per block).
    case q8_0
    /// 4-bit: an f16 scale and 32 4-bit quants packed in 16 bytes (18 bytes per block).
    case q4_0

    /// Values per block.
    public static let blockSize = 32

    /// Bytes per block.
    public var bytesPerBlock: Int {
        switch self {
        case .q8_0: return 34
        case .q4_0: return 18
        }
    }

    /// Bytes that `count` values (a multiple of 32) take.
    public func byteCount(values count: Int) -> Int { count / Self.blockSize * bytesPerBlock }

    /// Quantizes `x` (its length a multiple of 32) into `out`, which must hold `byteCount(values: x.count)` bytes.
    public func quantize(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        precondition(x.count % Self.blockSize == 0, "BlockQuant: \(x.count) values is not a multiple of 32")
        precondition(out.count >= byteCount(values: x.count), "BlockQuant: output buffer too small")
        let blocks = x.count / Self.blockSize
        for b in 0..<blocks {
            let src = UnsafeBufferPointer(rebasing: x[(b * Self.blockSize)..<((b + 1) * Self.blockSize)])
            let dst = UnsafeMutableRawBufferPointer(rebasing: out[(b * bytesPerBlock)..<((b + 1) * bytesPerBlock)])
            switch self {
            case .q8_0: Self.quantizeQ8_0(src, dst)
            case .q4_0: Self.quantizeQ4_0(src, dst)
            }
        }
    }

    /// The blocks of `x` (its length a multiple of 32) as bytes.
    public func quantize(_ x: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: byteCount(values: x.count))
        x.withUnsafeBufferPointer { src in out.withUnsafeMutableBytes { quantize(src, into: $0) } }
        return out
    }

    /// Dequantizes blocks back to floats (d · q, or d · (q − 8) for Q4_0): `out.count` values.
    public func dequantize(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count % Self.blockSize == 0 && bytes.count >= byteCount(values: out.count), "BlockQuant: size mismatch")
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
            }
        }
    }

    /// The values of blocks (`count` of them, a multiple of 32).
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
