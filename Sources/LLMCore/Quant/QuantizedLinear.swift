// QuantizedLinear: weights stored quantized and products computed on the quantized values (inference only;
// no autograd: these ops refuse an input that requires a gradient while grad mode is on).
//   Block formats (``BlockQuant``: Q8_0, Q4_0, Q4_K): a weight (N, K) is a uint8 tensor (N, K/V · bytesPerBlock)
//   of ggml blocks (V = 32, or 256 for Q4_K), bit-exact with ggml (BlockQuant's quantizers). y = x·Wᵀ + b
//   quantizes each row of x to 32-value int8 blocks and runs integer dot products per 32 values (CKernels
//   quant.c; each 32-value sub-block of Q4_K against one activation block).
//   int8 per channel: int8 (N, K) with one float32 scale per output row (symmetric, scale = max|w|/127,
//   q = w/scale rounded to nearest even); activations get one scale per row (per token), dynamic
//   (max|x|/127) or fixed (a calibrated scale).
// Work splits over output rows with the engine's Parallel (the BLAS thread budget).
import CKernels

extension BlockQuant {
    var kernelFormat: Int32 {
        switch self {
        case .q8_0: return Int32(LLMK_QFMT_Q8_0)
        case .q4_0: return Int32(LLMK_QFMT_Q4_0)
        case .q4_k: return Int32(LLMK_QFMT_Q4_K)
        }
    }
}

extension Tensor {
    /// Refuses tensors that already hold quantized data (integer storage types) for a quantizer.
    func requireQuantizable(_ who: String) throws -> Tensor {
        guard dtype.isFloatingPoint else {
            throw TensorError.invalid("\(who): the tensor is already quantized (dtype \(dtype.rawValue)); quantize the float weights")
        }
        guard rank == 2 else { throw TensorError.shape("\(who): expected a 2-D weight (out, in), got \(shapeString(shape))") }
        return try GradMode.withoutGrad { try asFloat().detach().contiguous() }
    }

    /// Quantizes a 2-D float weight (out, in) row by row into ggml blocks: a uint8 tensor
    /// (out, in/V · bytesPerBlock), V = `format.valuesPerBlock` (32; 256 for Q4_K). `in` must be a multiple of V.
    /// - Throws: for integer (already quantized) tensors, other ranks, or a row length not a multiple of V.
    public func quantizeBlocks(_ format: BlockQuant) throws -> Tensor {
        let w = try requireQuantizable("quantize \(format.rawValue)")
        let (n, k) = (shape[0], shape[1])
        guard k % format.valuesPerBlock == 0, k > 0 else {
            throw TensorError.shape("quantize \(format.rawValue): the row length \(k) is not a multiple of the block size \(format.valuesPerBlock)")
        }
        let rowBytes = format.byteCount(values: k)
        let out = try Tensor(shape: [n, rowBytes], dtype: .uint8, zeroed: false)
        let src = w.f32, dst = out.rawPointer
        Parallel.forRanges(n, cost: k * 4) { rows in
            for r in rows {
                format.quantize(
                    UnsafeBufferPointer(start: src + r * k, count: k), into: UnsafeMutableRawBufferPointer(start: dst + r * rowBytes, count: rowBytes))
            }
        }
        return out
    }

    /// The float32 weight (out, in) of a block-quantized uint8 tensor (out, in/V · bytesPerBlock).
    public func dequantizeBlocks(_ format: BlockQuant) throws -> Tensor {
        let k = try blockRowLength(format, "dequantize")
        let q = try contiguous()
        let out = try Tensor(shape: [shape[0], k], zeroed: false)
        let rowBytes = shape[1]
        for r in 0..<shape[0] {
            format.dequantize(
                UnsafeRawBufferPointer(start: q.rawPointer + r * rowBytes, count: rowBytes), into: UnsafeMutableBufferPointer(start: out.f32 + r * k, count: k))
        }
        return out
    }

    /// Values per row of a block-quantized uint8 tensor (checks dtype, rank and the byte count).
    func blockRowLength(_ format: BlockQuant, _ who: String) throws -> Int {
        guard dtype == .uint8, rank == 2 else {
            throw TensorError.invalid("\(who) \(format.rawValue): expected uint8 blocks (out, bytes), got \(dtype.rawValue) \(shapeString(shape))")
        }
        guard shape[1] % format.bytesPerBlock == 0, shape[1] > 0 else {
            throw TensorError.shape("\(who) \(format.rawValue): a row of \(shape[1]) bytes is not a whole number of \(format.bytesPerBlock)-byte blocks")
        }
        return shape[1] / format.bytesPerBlock * format.valuesPerBlock
    }

    /// Per-channel symmetric int8 quantization of a 2-D float weight (out, in): scale[r] = max|w[r]|/127
    /// (1 for an all-zero row), q = w/scale rounded to nearest even and clamped to ±127.
    public func quantizePerChannelInt8() throws -> (values: Tensor, scales: Tensor) {
        let w = try requireQuantizable("quantize int8")
        let (n, k) = (shape[0], shape[1])
        let q = try Tensor(shape: [n, k], dtype: .int8, zeroed: false), s = try Tensor(shape: [n], zeroed: false)
        let src = w.f32, pq = q.rawPointer.assumingMemoryBound(to: Int8.self), ps = s.f32
        Parallel.forRanges(n, cost: k * 2) { rows in
            for r in rows {
                var amax: Float = 0
                for j in 0..<k { amax = Swift.max(amax, Swift.abs(src[r * k + j])) }
                let scale: Float = amax > 0 && amax.isFinite ? amax / 127 : 1
                ps[r] = scale
                let inv = 1 / scale
                for j in 0..<k { pq[r * k + j] = Tensor.roundToInt8(src[r * k + j] * inv) }
            }
        }
        return (q, s)
    }

    /// The float32 weight (out, in) of int8 values (out, in) with per-row scales (out).
    public func dequantizePerChannelInt8(scales: Tensor) throws -> Tensor {
        guard dtype == .int8, rank == 2 else { throw TensorError.invalid("dequantize int8: expected an int8 (out, in) tensor, got \(dtype.rawValue) \(shapeString(shape))") }
        guard scales.shape == [shape[0]] else { throw TensorError.shape("dequantize int8: scales have shape \(shapeString(scales.shape)), expected [\(shape[0])]") }
        return try GradMode.withoutGrad { try asFloat().mul(scales.asFloat().reshape([shape[0], 1])) }
    }

    /// v rounded to nearest even and clamped to ±127 (non-finite: 0).
    @inline(__always) static func roundToInt8(_ v: Float) -> Int8 {
        guard v.isFinite else { return 0 }
        return Int8(Swift.min(127, Swift.max(-127, v.rounded(.toNearestOrEven))))
    }

    /// Validates x (..., K) for a quantized product: float, last dim K, no gradient needed.
    func quantInput(_ k: Int, _ who: String) throws -> (x: Tensor, m: Int) {
        guard dtype.isFloatingPoint, rank >= 1, shape[rank - 1] == k else {
            throw TensorError.shape("\(who): input \(dtype.rawValue) \(shapeString(shape)) does not match the weight (expected a float last dim \(k))")
        }
        if GradMode.isEnabled && requiresGrad {
            throw TensorError.autograd("\(who): quantized weights have no gradient; run it under llm.noGrad or train with fake quantization (QAT)")
        }
        let x = try GradMode.withoutGrad { try asFloat().detach().contiguous() }
        return (x, count / k)
    }

    static func quantBias(_ bias: Tensor?, _ n: Int, _ who: String) throws -> Tensor? {
        guard let bias else { return nil }
        guard bias.shape == [n] else { throw TensorError.shape("\(who): bias has shape \(shapeString(bias.shape)), expected [\(n)]") }
        return try GradMode.withoutGrad { try bias.asFloat().detach().contiguous() }
    }

    /// x (..., K) · Wᵀ + bias with W given as ggml blocks (uint8 (N, K/V · bytesPerBlock)): y (..., N).
    /// The rows of x are quantized to int8 blocks (scale max|x|/127 per 32 values) and each output is a sum
    /// of integer block dot products times both scales. Inference only.
    public func blockLinear(_ blocks: Tensor, format: BlockQuant, bias: Tensor?) throws -> Tensor {
        let who = "quantized linear (\(format.rawValue))"
        let k = try blocks.blockRowLength(format, "quantized linear")
        let n = blocks.shape[0]
        let (x, m) = try quantInput(k, who)
        let b = try Tensor.quantBias(bias, n, who)
        let w = try blocks.contiguous()
        let out = try Tensor(shape: Array(shape.dropLast()) + [n], zeroed: false)
        guard m > 0 else { return out }
        let nb = k / BlockQuant.blockSize
        var act = [llmk_q8_act](repeating: llmk_q8_act(), count: m * nb)
        let px = x.f32
        act.withUnsafeMutableBufferPointer { a in
            let pa = a.baseAddress!
            Parallel.forRanges(m, cost: k) { rows in for r in rows { llmk_quant_act_q8(px + r * k, pa + r * nb, k) } }
            let pw = w.rawPointer.assumingMemoryBound(to: UInt8.self), pb = b?.f32, py = out.f32, fmt = format.kernelFormat
            Parallel.forRanges(n, cost: k * m) { cols in
                llmk_qblock_rows(fmt, pw, cols.lowerBound, cols.upperBound, k, pa, m, pb, py, n)
            }
        }
        return out
    }

    /// x (..., K) · Wᵀ + bias with W int8 (N, K) and per-row scales (N): y (..., N). Each row of x gets one
    /// scale: `activationScale` when given (static, from calibration), else max|x_row|/127 (dynamic).
    public func int8Linear(_ weight: Tensor, scales: Tensor, bias: Tensor?, activationScale: Float? = nil) throws -> Tensor {
        let who = "quantized linear (int8)"
        guard weight.dtype == .int8, weight.rank == 2 else {
            throw TensorError.invalid("\(who): expected an int8 weight (out, in), got \(weight.dtype.rawValue) \(shapeString(weight.shape))")
        }
        let (n, k) = (weight.shape[0], weight.shape[1])
        guard scales.shape == [n] else { throw TensorError.shape("\(who): scales have shape \(shapeString(scales.shape)), expected [\(n)]") }
        if let s = activationScale, !(s > 0 && s.isFinite) { throw TensorError.invalid("\(who): the activation scale must be a positive number, got \(s)") }
        let (x, m) = try quantInput(k, who)
        let b = try Tensor.quantBias(bias, n, who)
        let w = try weight.contiguous(), ws = try GradMode.withoutGrad { try scales.asFloat().detach().contiguous() }
        let out = try Tensor(shape: Array(shape.dropLast()) + [n], zeroed: false)
        guard m > 0, k > 0 else { return try k == 0 && m > 0 ? Tensor.fill(out, bias: b, m: m, n: n) : out }
        var xq = [Int8](repeating: 0, count: m * k), xs = [Float](repeating: 0, count: m)
        let px = x.f32
        xq.withUnsafeMutableBufferPointer { q in
            xs.withUnsafeMutableBufferPointer { s in
                let pq = q.baseAddress!, ps = s.baseAddress!
                Parallel.forRanges(m, cost: k) { rows in
                    for r in rows {
                        if let fixed = activationScale {
                            ps[r] = fixed
                            let inv = 1 / fixed
                            for j in 0..<k { pq[r * k + j] = Tensor.roundToInt8(px[r * k + j] * inv) }
                        } else {
                            ps[r] = llmk_quant_act_int8(px + r * k, pq + r * k, k)
                        }
                    }
                }
                let pw = w.rawPointer.assumingMemoryBound(to: Int8.self), pws = ws.f32, pb = b?.f32, py = out.f32
                Parallel.forRanges(n, cost: k * m) { cols in
                    llmk_qint8_rows(pw, pws, cols.lowerBound, cols.upperBound, k, pq, ps, m, pb, py, n)
                }
            }
        }
        return out
    }

    /// x (..., K) · Wᵀ + bias with W (N, K) stored as float16 or bfloat16 (converted exactly per product, in
    /// CKernels half.c): half the memory of float32 weights. Inference only.
    public func halfLinear(_ weight: Tensor, bias: Tensor?) throws -> Tensor {
        let who = "half-precision linear"
        guard weight.dtype == .float16 || weight.dtype == .bfloat16, weight.rank == 2 else {
            throw TensorError.invalid("\(who): expected a float16 or bfloat16 weight (out, in), got \(weight.dtype.rawValue) \(shapeString(weight.shape))")
        }
        let (n, k) = (weight.shape[0], weight.shape[1])
        let (x, m) = try quantInput(k, who)
        let b = try Tensor.quantBias(bias, n, who)
        let w = try weight.contiguous()
        let out = try Tensor(shape: Array(shape.dropLast()) + [n], zeroed: false)
        guard m > 0 else { return out }
        let pw = w.rawPointer.assumingMemoryBound(to: UInt16.self), px = x.f32, pb = b?.f32, py = out.f32
        let bf16: Int32 = weight.dtype == .bfloat16 ? 1 : 0
        Parallel.forRanges(n, cost: Swift.max(k * m, 1)) { cols in
            llmk_half_rows(bf16, pw, cols.lowerBound, cols.upperBound, k, px, m, pb, py, n)
        }
        return out
    }

    /// out rows = bias (or 0): the product of an empty inner dimension.
    static func fill(_ out: Tensor, bias: Tensor?, m: Int, n: Int) throws -> Tensor {
        for r in 0..<m { for c in 0..<n { out.f32[r * n + c] = bias.map { $0.f32[c] } ?? 0 } }
        return out
    }
}
