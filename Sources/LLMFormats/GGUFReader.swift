// GGUFReader: parses a GGUF v3 file as untrusted input — every length, count, dimension and offset is
// bounds- and overflow-checked against the file (the malformed-file classes of llama.cpp's test-gguf.cpp:
// bad magic/version, oversized strings and arrays, unknown value or tensor types, duplicate keys or
// names, a bad alignment, more than 4 dims, offsets that are unaligned, overlap or run past the end),
// and each rejection is a FormatError naming the file and the entry. Tensors come back as f32 llm
// tensors (F16/BF16 widened, Q8_0/Q4_0/Q4_K dequantized) and, on request, as their raw stored bytes.
import LLMCore

/// A parsed GGUF file.
public struct GGUFFile: @unchecked Sendable {
    public var version: UInt32
    /// Metadata in file order.
    public var metadata: [(String, GGUFValue)]
    /// Tensor descriptions in file order.
    public var infos: [GGUFTensorInfo]
    /// The data alignment in effect.
    public var alignment: Int
    /// Byte offset of the data section in the file.
    public var dataOffset: Int
    /// Tensors as f32 values, by name.
    public var tensors: [String: Tensor]
    /// Stored bytes of each tensor (only when read with `raw: true`).
    public var raw: [String: [UInt8]]

    /// The metadata value of `key`, if any.
    public subscript(key: String) -> GGUFValue? { metadata.first(where: { $0.0 == key })?.1 }
}

extension GGUF {
    /// Limits that keep a hostile file from asking for absurd allocations.
    static let maxStringBytes = 1 << 20, maxArrayCount = 1 << 26, maxDepth = 4

    /// Reads and validates the GGUF file at `path` (memory-mapped; tensors are copied out).
    public static func read(path: String, raw: Bool = false) throws -> GGUFFile {
        let map = try FileIO.map(path, what: "gguf")
        return try withExtendedLifetime(map) { try decode(map.bytes, source: path, raw: raw) }
    }

    /// Parses a GGUF image held in memory; `source` names it in errors.
    public static func decode(_ bytes: UnsafeRawBufferPointer, source: String, raw: Bool = false) throws -> GGUFFile {
        var r = ByteCursor(bytes: bytes, source: source)
        guard try r.u32("magic") == magic else { throw r.fail("not a GGUF file (bad magic)") }
        let version = try r.u32("version")
        guard version == 2 || version == 3 else { throw r.fail("unsupported GGUF version \(version) (expected 3)") }
        let nTensors = try r.count("tensor count", limit: bytes.count / 8)
        let nKV = try r.count("metadata count", limit: bytes.count / 8)
        var metadata: [(String, GGUFValue)] = []
        var keys = Set<String>()
        for _ in 0..<nKV {
            let key = try r.string("metadata key")
            guard keys.insert(key).inserted else { throw r.fail("duplicate metadata key '\(key)'") }
            let t = try r.valueType("metadata '\(key)'")
            metadata.append((key, try r.value(t, what: "metadata '\(key)'", depth: 0)))
        }
        var alignment = defaultAlignment
        if let a = metadata.first(where: { $0.0 == "general.alignment" })?.1 {
            guard case .uint32(let v) = a, v > 0, v % 8 == 0, v & (v - 1) == 0 else {
                throw r.fail("general.alignment must be a uint32 power of two, a multiple of 8")
            }
            alignment = Int(v)
        }
        var infos: [GGUFTensorInfo] = []
        var names = Set<String>()
        for _ in 0..<nTensors {
            let name = try r.string("tensor name")
            guard names.insert(name).inserted else { throw r.fail("duplicate tensor name '\(name)'") }
            let nd = try r.u32("tensor '\(name)' dims")
            guard nd >= 1, nd <= 4 else { throw r.fail("tensor '\(name)' has \(nd) dimensions (expected 1 to 4)") }
            var ne: [Int] = []
            var count = 1
            for _ in 0..<nd {
                let d = try r.u64("tensor '\(name)' dim")
                guard d < 1 << 40 else { throw r.fail("tensor '\(name)' has an absurd dimension \(d)") }
                let (c, o) = count.multipliedReportingOverflow(by: Int(d))
                guard !o, c <= bytes.count * 2 else { throw r.fail("tensor '\(name)' has more elements than the file can hold") }
                ne.append(Int(d))
                count = c
            }
            let tv = try r.u32("tensor '\(name)' type")
            guard let type = GGMLType(rawValue: tv) else {
                throw r.fail("tensor '\(name)' has ggml type \(tv), which llmscript does not read (F32, F16, BF16, Q8_0, Q4_0, Q4_K)")
            }
            if let q = type.blockQuant, ne[0] % q.valuesPerBlock != 0 {
                throw r.fail("tensor '\(name)' is \(type.name) but its rows have \(ne[0]) values, not a multiple of \(q.valuesPerBlock)")
            }
            let off = try r.u64("tensor '\(name)' offset")
            guard off % UInt64(alignment) == 0, off < UInt64(bytes.count) else {
                throw r.fail("tensor '\(name)' offset \(off) is not aligned to \(alignment) or lies past the end")
            }
            infos.append(GGUFTensorInfo(name: name, shape: ne.reversed(), type: type, offset: Int(off)))
        }
        let dataOffset = padded(r.position, alignment)
        let dataLen = bytes.count - min(dataOffset, bytes.count)
        var ranges: [(Int, Int, String)] = []
        for i in infos {
            let size = i.type.byteCount(values: i.shape.reduce(1, *))
            guard i.offset <= dataLen, size <= dataLen - i.offset else {
                throw r.fail("tensor '\(i.name)' data [\(i.offset), +\(size)) runs past the end of the file")
            }
            ranges.append((i.offset, i.offset + size, i.name))
        }
        ranges.sort { $0.0 < $1.0 }
        for k in ranges.indices.dropFirst() where ranges[k].0 < ranges[k - 1].1 {
            throw r.fail("tensor '\(ranges[k].2)' data overlaps tensor '\(ranges[k - 1].2)'")
        }
        var tensors: [String: Tensor] = [:]
        var rawBytes: [String: [UInt8]] = [:]
        for i in infos {
            let n = i.shape.reduce(1, *)
            let src = UnsafeRawBufferPointer(rebasing: bytes[(dataOffset + i.offset)..<(dataOffset + i.offset + i.type.byteCount(values: n))])
            let t = try Tensor(shape: i.shape, zeroed: false)
            let out = UnsafeMutableBufferPointer(start: t.f32, count: n)
            switch i.type {
            case .f32: for k in 0..<n { out[k] = Float(bitPattern: src.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)) }
            case .f16: for k in 0..<n { out[k] = Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))) }
            case .bf16: for k in 0..<n { out[k] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)) << 16) }
            case .q8_0, .q4_0, .q4_k: i.type.blockQuant!.dequantize(src, into: out)
            }
            tensors[i.name] = t
            if raw { rawBytes[i.name] = Array(src) }
        }
        return GGUFFile(version: version, metadata: metadata, infos: infos, alignment: alignment, dataOffset: dataOffset, tensors: tensors, raw: rawBytes)
    }
}

/// A bounds-checked little-endian reader over the file's bytes.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    let source: String
    var position = 0

    func fail(_ m: String) -> FormatError { FormatError("gguf: \(m) in '\(source)'") }

    mutating func take<T: FixedWidthInteger>(_: T.Type, _ what: String) throws -> T {
        guard bytes.count - position >= MemoryLayout<T>.size else { throw fail("file ends inside \(what) at byte \(position)") }
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
        position += MemoryLayout<T>.size
        return v
    }
    mutating func u32(_ what: String) throws -> UInt32 { try take(UInt32.self, what) }
    mutating func u64(_ what: String) throws -> UInt64 { try take(UInt64.self, what) }

    mutating func count(_ what: String, limit: Int) throws -> Int {
        let n = try u64(what)
        guard n <= UInt64(limit) else { throw fail("\(what) \(n) is larger than the file allows") }
        return Int(n)
    }

    mutating func string(_ what: String) throws -> String {
        let n = try u64("\(what) length")
        guard n <= UInt64(GGUF.maxStringBytes), Int(n) <= bytes.count - position else {
            throw fail("\(what) length \(n) runs past the end of the file or the limit")
        }
        let s = UnsafeBufferPointer(rebasing: bytes.bindMemory(to: UInt8.self)[position..<(position + Int(n))])
        guard let str = String(validating: s, as: UTF8.self) else { throw fail("\(what) is not valid UTF-8") }
        position += Int(n)
        return str
    }

    mutating func valueType(_ what: String) throws -> GGUFValueType {
        let t = try u32("\(what) type")
        guard let v = GGUFValueType(rawValue: t) else { throw fail("\(what) has unknown value type \(t)") }
        return v
    }

    mutating func value(_ t: GGUFValueType, what: String, depth: Int) throws -> GGUFValue {
        switch t {
        case .uint8: return .uint8(try take(UInt8.self, what))
        case .int8: return .int8(try take(Int8.self, what))
        case .uint16: return .uint16(try take(UInt16.self, what))
        case .int16: return .int16(try take(Int16.self, what))
        case .uint32: return .uint32(try u32(what))
        case .int32: return .int32(try take(Int32.self, what))
        case .float32: return .float32(Float(bitPattern: try u32(what)))
        case .bool:
            let b = try take(UInt8.self, what)
            guard b <= 1 else { throw fail("\(what) is a bool with value \(b) (expected 0 or 1)") }
            return .bool(b == 1)
        case .string: return .string(try string(what))
        case .uint64: return .uint64(try u64(what))
        case .int64: return .int64(try take(Int64.self, what))
        case .float64: return .float64(Double(bitPattern: try u64(what)))
        case .array:
            guard depth < GGUF.maxDepth else { throw fail("\(what) nests arrays too deeply") }
            let et = try valueType("\(what) element")
            let n = try count("\(what) element count", limit: min(GGUF.maxArrayCount, bytes.count - position))
            var items: [GGUFValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try value(et, what: what, depth: depth + 1)) }
            return .array(et, items)
        }
    }
}
