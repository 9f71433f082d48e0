// GGUFWriter: writes a GGUF v3 file — header, metadata KVs in the given order, tensor infos, zero padding
// to the alignment, then each tensor's data at an aligned offset. Tensors come as f32 llm tensors and
// are converted to the requested ggml type on the way out (f16/bf16 rounding to nearest even, Q8_0/Q4_0/Q4_K
// through BlockQuant, which needs the innermost dimension to be a multiple of 32, 256 for Q4_K). The file is written
// atomically. `general.alignment` in the metadata, when present (uint32), sets the alignment.
import LLMCore

/// A tensor to write: name, f32 values (any layout) and the ggml type to store.
public struct GGUFTensorSource {
    public var name: String
    public var tensor: Tensor
    public var type: GGMLType

    public init(name: String, tensor: Tensor, type: GGMLType) {
        self.name = name
        self.tensor = tensor
        self.type = type
    }
}

extension GGUF {
    /// Writes `metadata` and `tensors` to `path` as GGUF v3 (atomically).
    /// - Throws: ``FormatError`` naming the key or tensor for invalid input (duplicate or over-long names,
    ///   a quantized tensor whose rows are not a multiple of 32, a non-float tensor), or on IO failure.
    public static func write(metadata: [(String, GGUFValue)], tensors: [GGUFTensorSource], to path: String) throws {
        func fail(_ m: String) -> FormatError { FormatError("gguf: \(m) writing '\(path)'") }
        var alignment = defaultAlignment
        var keys = Set<String>()
        for (k, v) in metadata {
            guard keys.insert(k).inserted else { throw fail("duplicate metadata key '\(k)'") }
            guard !k.isEmpty, k.utf8.count <= 65535 else { throw fail("metadata key '\(k)' must be 1 to 65535 bytes") }
            if k == "general.alignment" {
                guard case .uint32(let a) = v, a > 0, a % 8 == 0, a & (a - 1) == 0 else {
                    throw fail("general.alignment must be a uint32 power of two, a multiple of 8")
                }
                alignment = Int(a)
            }
            try checkArray(v, key: k, fail)
        }
        var head: [UInt8] = []
        append(&head, magic)
        append(&head, version)
        append(&head, UInt64(tensors.count))
        append(&head, UInt64(metadata.count))
        for (k, v) in metadata {
            appendString(&head, k)
            append(&head, v.type.rawValue)
            appendValue(&head, v)
        }
        var names = Set<String>()
        var offset = 0
        var sizes: [Int] = []
        for s in tensors {
            guard names.insert(s.name).inserted else { throw fail("duplicate tensor name '\(s.name)'") }
            guard !s.name.isEmpty, s.name.utf8.count <= 63 else { throw fail("tensor name '\(s.name)' must be 1 to 63 bytes") }
            guard s.tensor.dtype.isFloatingPoint else { throw fail("tensor '\(s.name)' has dtype \(s.tensor.dtype.rawValue), expected a float tensor") }
            let shape = s.tensor.shape.isEmpty ? [1] : s.tensor.shape
            guard shape.count <= 4 else { throw fail("tensor '\(s.name)' has \(shape.count) dimensions (GGUF allows at most 4)") }
            if let q = s.type.blockQuant, shape.last! % q.valuesPerBlock != 0 {
                throw fail("tensor '\(s.name)' cannot be \(s.type.name): its rows have \(shape.last!) values, not a multiple of \(q.valuesPerBlock)")
            }
            appendString(&head, s.name)
            append(&head, UInt32(shape.count))
            for d in shape.reversed() { append(&head, UInt64(d)) }
            append(&head, s.type.rawValue)
            append(&head, UInt64(offset))
            let size = s.type.byteCount(values: s.tensor.count)
            sizes.append(size)
            offset += padded(size, alignment)
        }
        head.append(contentsOf: [UInt8](repeating: 0, count: padded(head.count, alignment) - head.count))
        _ = try FileIO.writeAtomically(path, what: "gguf") { w in
            try w.write(head)
            for (i, s) in tensors.enumerated() {
                var bytes = try encode(s.tensor, as: s.type)
                bytes.append(contentsOf: [UInt8](repeating: 0, count: padded(sizes[i], alignment) - sizes[i]))
                try w.write(bytes)
            }
        }
    }

    /// The bytes of `t` (converted to contiguous f32 values first) stored as `type`, row by row.
    public static func encode(_ t: Tensor, as type: GGMLType) throws -> [UInt8] {
        let values = t.dtype == .float32 && t.isContiguous ? Array(UnsafeBufferPointer(start: t.f32, count: t.count)) : t.toFloats()
        switch type {
        case .f32: return values.withUnsafeBytes { Array($0) }
        case .f16: return halfWords(values, BlockQuant.halfBits)
        case .bf16: return halfWords(values, bf16Bits)
        case .q8_0, .q4_0, .q4_k: return type.blockQuant!.quantize(values)
        }
    }

    /// The little-endian 16-bit words `bits` gives for each value.
    static func halfWords(_ values: [Float], _ bits: (Float) -> UInt16) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * 2)
        out.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() { raw.storeBytes(of: bits(v).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        }
        return out
    }

    /// bfloat16 bits of `x`, rounded to nearest even (NaN stays a quiet NaN).
    static func bf16Bits(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        if x.isNaN { return UInt16(b >> 16) | 0x40 }
        return UInt16((b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
    }

    static func padded(_ n: Int, _ a: Int) -> Int { (n + a - 1) / a * a }

    private static func checkArray(_ v: GGUFValue, key: String, _ fail: (String) -> FormatError) throws {
        guard case .array(let t, let items) = v else { return }
        for item in items {
            guard item.type == t else { throw fail("metadata array '\(key)' of \(t) holds a \(item.type) value") }
            try checkArray(item, key: key, fail)
        }
    }

    private static func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendString(_ out: inout [UInt8], _ s: String) {
        append(&out, UInt64(s.utf8.count))
        out.append(contentsOf: s.utf8)
    }

    private static func appendValue(_ out: inout [UInt8], _ v: GGUFValue) {
        switch v {
        case .uint8(let x): append(&out, x)
        case .int8(let x): append(&out, x)
        case .uint16(let x): append(&out, x)
        case .int16(let x): append(&out, x)
        case .uint32(let x): append(&out, x)
        case .int32(let x): append(&out, x)
        case .float32(let x): append(&out, x.bitPattern)
        case .bool(let x): out.append(x ? 1 : 0)
        case .string(let s): appendString(&out, s)
        case .uint64(let x): append(&out, x)
        case .int64(let x): append(&out, x)
        case .float64(let x): append(&out, x.bitPattern)
        case .array(let t, let items):
            append(&out, t.rawValue)
            append(&out, UInt64(items.count))
            for item in items { appendValue(&out, item) }
        }
    }
}
