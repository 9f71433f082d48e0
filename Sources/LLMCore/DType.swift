// DType: the runtime element type of a Tensor. f32 is the compute type; i32/i64 hold indices;
// u8/i8/f16/bf16 are storage types (quantization, export) that convert to and from f32.

/// The element type of a ``Tensor``.
///
/// Lua names are the `rawValue`s: `llm.zeros(2, 3, {dtype='int64'})`.
public enum DType: String, CaseIterable, Sendable {
    case float32, int32, int64, uint8, int8, float16, bfloat16

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .int64: return 8
        case .uint8, .int8: return 1
        case .float16, .bfloat16: return 2
        }
    }

    /// True for the floating-point types.
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16: return true
        case .int32, .int64, .uint8, .int8: return false
        }
    }

    /// Parses a Lua-facing name; the error lists the choices.
    public static func parse(_ name: String) throws -> DType {
        if let d = DType(rawValue: name) { return d }
        let aliases: [String: DType] = [
            "f32": .float32, "float": .float32, "i32": .int32, "int": .int32,
            "i64": .int64, "long": .int64, "u8": .uint8, "i8": .int8,
            "f16": .float16, "half": .float16, "bf16": .bfloat16
        ]
        if let d = aliases[name] { return d }
        let choices = DType.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        throw TensorError.invalid("Invalid dtype '\(name)', expected one of: \(choices)")
    }
}
