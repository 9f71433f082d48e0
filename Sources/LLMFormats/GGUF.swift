// GGUF: the types of a GGUF v3 file (ggml/docs/gguf.md) shared by GGUFWriter and GGUFReader — metadata
// value types and values, ggml tensor types (F32, F16, BF16, Q8_0, Q4_0, Q4_K) and tensor descriptions.
// Shapes here are row-major (PyTorch order); the file stores them reversed (ggml `ne`, fastest first).
import LLMCore

/// GGUF metadata value types (the u32 written before each value).
public enum GGUFValueType: UInt32, Sendable {
    case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64
}

/// A GGUF metadata value.
public indirect enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32), float32(Float)
    case bool(Bool), string(String), uint64(UInt64), int64(Int64), float64(Double)
    /// An array of values of one element type (elements must all have that type).
    case array(GGUFValueType, [GGUFValue])

    /// The value's type tag.
    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .float32: return .float32
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        case .uint64: return .uint64
        case .int64: return .int64
        case .float64: return .float64
        }
    }
}

/// ggml tensor types that llmscript writes and reads.
public enum GGMLType: UInt32, CaseIterable, Sendable {
    case f32 = 0, f16 = 1, q4_0 = 2, q8_0 = 8, q4_k = 12, bf16 = 30

    /// The block quantizer of a quantized type.
    public var blockQuant: BlockQuant? {
        switch self {
        case .q8_0: return .q8_0
        case .q4_0: return .q4_0
        case .q4_k: return .q4_k
        default: return nil
        }
    }

    /// Lower-case name ('f32', 'q8_0').
    public var name: String { String(describing: self) }

    /// Bytes that `count` values take (quantized types: count must be a multiple of the block's values).
    public func byteCount(values count: Int) -> Int {
        switch self {
        case .f32: return count * 4
        case .f16, .bf16: return count * 2
        case .q8_0, .q4_0, .q4_k: return blockQuant!.byteCount(values: count)
        }
    }
}

/// One tensor of a GGUF file: its name, row-major shape, type and byte offset within the data section.
public struct GGUFTensorInfo: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var type: GGMLType
    public var offset: Int

    public init(name: String, shape: [Int], type: GGMLType, offset: Int) {
        self.name = name
        self.shape = shape
        self.type = type
        self.offset = offset
    }
}

/// GGUF constants and the read/write entry points (GGUFWriter.swift, GGUFReader.swift).
public enum GGUF {
    /// "GGUF" read as a little-endian u32.
    public static let magic: UInt32 = 0x4655_4747
    /// The version written.
    public static let version: UInt32 = 3
    /// Default data alignment (`general.alignment`).
    public static let defaultAlignment = 32
}
