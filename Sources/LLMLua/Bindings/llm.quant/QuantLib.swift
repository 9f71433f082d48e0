// QuantLib: the `llm.quant` namespace over LLMCore's quantized weights (Quant/QuantizedLinear.swift), used by
// the Lua quantization stdlib (llm/compress/quant*.lua). Formats: 'q8_0' and 'q4_0' (ggml blocks as a uint8
// tensor (out, in/32 · bytes per block), bit-exact with gguf-py), 'q4_k' (ggml's k-quant, 256-value super-blocks
// of 144 bytes, bit-exact with llama.cpp's quantize_row_q4_K_ref) and 'int8' (int8 (out, in) plus float32
// scales (out), symmetric per channel). Quantized products are inference only (no gradient).
import CLua
import CLuaShim
import LLMCore

enum QuantLib: LuaLibrary {
    static let namespace = "llm.quant"

    static func blockFormat(_ name: String) throws -> BlockQuant? {
        if name == "int8" { return nil }
        guard let f = BlockQuant(rawValue: name) else {
            throw LuaError.runtime("Invalid format '\(name)': expected one of: 'q8_0', 'q4_0', 'q4_k', 'int8'")
        }
        return f
    }

    static let functions: [LuaBinding] = [
        LuaBinding(
            "quantize", "llm.quant.quantize(weight: Tensor, format: 'q8_0'|'q4_0'|'q4_k'|'int8') -> Tensor[, scales: Tensor]",
            "Quantizes a 2-D float weight (out, in): uint8 ggml blocks (in a multiple of 32; q4_k: of 256), or int8 values and per-row float32 scales."
        ) { a in
            let w = try a.tensor(1)
            if let f = try blockFormat(a.string(2)) {
                a.push(try w.quantizeBlocks(f)); return 1
            }
            let (q, s) = try w.quantizePerChannelInt8()
            a.push(q); a.push(s); return 2
        },
        LuaBinding(
            "dequantize", "llm.quant.dequantize(q: Tensor, format: 'q8_0'|'q4_0'|'q4_k'|'int8', [scales: Tensor]) -> Tensor",
            "The float32 weight (out, in) that quantized data stands for (int8 needs its per-row scales)."
        ) { a in
            let q = try a.tensor(1)
            if let f = try blockFormat(a.string(2)) {
                a.push(try q.dequantizeBlocks(f)); return 1
            }
            a.push(try q.dequantizePerChannelInt8(scales: a.tensor(3))); return 1
        },
        LuaBinding(
            "linear",
            "llm.quant.linear(x: Tensor, q: Tensor, {format: 'q8_0'|'q4_0'|'q4_k'|'int8'|'f16'|'bf16', [scales: Tensor], [bias: Tensor], [activationScale: number]}) -> Tensor",
            "x·Wᵀ + bias computed on the quantized weight (integer dot products; int8: per-token dynamic activation scales unless activationScale is given; f16/bf16: a float16/bfloat16 weight). No gradient."
        ) { a in
            let x = try a.tensor(1), q = try a.tensor(2)
            let o = try a.options(3, allowed: ["format", "scales", "bias", "activationScale"])
            guard let name = try o.string("format") else { throw LuaError.runtime("llm.quant.linear: missing 'format'") }
            let bias = try o.tensor("bias")
            if name == "f16" || name == "bf16" {
                a.push(try x.halfLinear(q, bias: bias)); return 1
            }
            if let f = try blockFormat(name) {
                a.push(try x.blockLinear(q, format: f, bias: bias)); return 1
            }
            guard let scales = try o.tensor("scales") else { throw LuaError.runtime("llm.quant.linear: int8 needs 'scales'") }
            let act = try o.number("activationScale").map { Float($0) }
            a.push(try x.int8Linear(q, scales: scales, bias: bias, activationScale: act)); return 1
        }
    ]
}
