// GGUFLib: the `llm.gguf` namespace over LLMFormats' GGUF writer and reader (used by llm/export.lua).
// Metadata is an ordered list of entries {key, type, value, [elementType]} with GGUF's value type names
// ('uint32', 'int32', 'float32', 'bool', 'string', 'uint64', ..., 'array' with an element type); tensors
// an ordered list of {name, tensor, type} with type 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0' | 'q4_k'. read()
// returns the metadata (values and type names by key, keys in file order), tensor infos and the tensors
// as f32 (quantized ones dequantized), plus the stored bytes as uint8 tensors with {raw = true}.
import CLua
import CLuaShim
import LLMCore
import LLMFormats

enum GGUFLib: LuaLibrary {
    static let namespace = "llm.gguf"

    static let valueTypes: [String: GGUFValueType] = [
        "uint8": .uint8, "int8": .int8, "uint16": .uint16, "int16": .int16, "uint32": .uint32, "int32": .int32,
        "float32": .float32, "bool": .bool, "string": .string, "array": .array, "uint64": .uint64, "int64": .int64,
        "float64": .float64
    ]

    static let functions: [LuaBinding] = [
        LuaBinding(
            "write",
            "llm.gguf.write(path: string, {metadata: {{key, type, value, [elementType]}, ...}, tensors: {{name, tensor, type}, ...}})",
            "Writes a GGUF v3 file atomically: metadata in order, tensors converted to f32/f16/bf16/q8_0/q4_0/q4_k (alignment 32)."
        ) { a in
            let path = try a.path(1, .write)
            try a.table(2)
            let o = try a.options(2, allowed: ["metadata", "tensors"])
            var metadata: [(String, GGUFValue)] = []
            if let json = try o.withTable("metadata", { try LuaJSON.value(a.L, $0, fn: "llm.gguf.write: metadata", args: a) }) {
                guard let entries = json.array else { throw LuaError.runtime("llm.gguf.write: 'metadata' must be a list of {key, type, value}") }
                for (i, e) in entries.enumerated() { metadata.append(try entry(e, index: i + 1)) }
            }
            var tensors: [GGUFTensorSource] = []
            _ = try o.withTable("tensors") { idx in
                let n = Int(lua_rawlen(a.L, idx))
                for i in 1...max(n, 1) where n > 0 {
                    lua_rawgeti(a.L, idx, lua_Integer(i))
                    defer { llms_pop(a.L, 1) }
                    tensors.append(try tensorEntry(a, lua_gettop(a.L), index: i))
                }
            }
            try GGUF.write(metadata: metadata, tensors: tensors, to: path)
            return 0
        },
        LuaBinding(
            "read", "llm.gguf.read(path: string, [{raw: boolean}]) -> table",
            "Reads and validates a GGUF file: {version, alignment, keys, metadata, types, infos, tensors, [raw]}."
        ) { a in
            let path = try a.path(1, .read)
            let raw = try a.options(2, allowed: ["raw"]).bool("raw") ?? false
            let f = try GGUF.read(path: path, raw: raw)
            lua_createtable(a.L, 0, 8)
            a.push(Int(f.version)); lua_setfield(a.L, -2, "version")
            a.push(f.alignment); lua_setfield(a.L, -2, "alignment")
            a.push(f.dataOffset); lua_setfield(a.L, -2, "dataOffset")
            lua_createtable(a.L, Int32(clamping: f.metadata.count), 0)
            for (i, kv) in f.metadata.enumerated() { LuaJSON.pushString(a.L, kv.0); lua_rawseti(a.L, -2, lua_Integer(i + 1)) }
            lua_setfield(a.L, -2, "keys")
            lua_createtable(a.L, 0, Int32(clamping: f.metadata.count))
            for (k, v) in f.metadata { LuaJSON.pushString(a.L, k); try LuaJSON.push(a.L, json(v)); lua_rawset(a.L, -3) }
            lua_setfield(a.L, -2, "metadata")
            lua_createtable(a.L, 0, Int32(clamping: f.metadata.count))
            for (k, v) in f.metadata { LuaJSON.pushString(a.L, k); a.push(typeName(v)); lua_rawset(a.L, -3) }
            lua_setfield(a.L, -2, "types")
            lua_createtable(a.L, Int32(clamping: f.infos.count), 0)
            for (i, info) in f.infos.enumerated() {
                lua_createtable(a.L, 0, 4)
                LuaJSON.pushString(a.L, info.name); lua_setfield(a.L, -2, "name")
                a.push(ints: info.shape); lua_setfield(a.L, -2, "shape")
                a.push(info.type.name); lua_setfield(a.L, -2, "type")
                a.push(info.offset); lua_setfield(a.L, -2, "offset")
                lua_rawseti(a.L, -2, lua_Integer(i + 1))
            }
            lua_setfield(a.L, -2, "infos")
            FormatsLib.pushTensorMap(a, f.tensors)
            lua_setfield(a.L, -2, "tensors")
            if raw {
                var rawTensors: [String: Tensor] = [:]
                for (name, bytes) in f.raw {
                    let t = try Tensor(shape: [bytes.count], dtype: .uint8, zeroed: false)
                    bytes.withUnsafeBytes { t.rawPointer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
                    rawTensors[name] = t
                }
                FormatsLib.pushTensorMap(a, rawTensors)
                lua_setfield(a.L, -2, "raw")
            }
            return 1
        }
    ]

    /// The name of v's type ('uint32'; arrays: 'array:string').
    static func typeName(_ v: GGUFValue) -> String {
        func name(_ t: GGUFValueType) -> String { valueTypes.first(where: { $0.value == t })!.key }
        if case .array(let t, _) = v { return "array:" + name(t) }
        return name(v.type)
    }

    /// The JSON (Lua) form of a metadata value.
    static func json(_ v: GGUFValue) -> JSONValue {
        switch v {
        case .uint8(let x): return .int(Int64(x))
        case .int8(let x): return .int(Int64(x))
        case .uint16(let x): return .int(Int64(x))
        case .int16(let x): return .int(Int64(x))
        case .uint32(let x): return .int(Int64(x))
        case .int32(let x): return .int(Int64(x))
        case .int64(let x): return .int(x)
        case .uint64(let x): return x <= UInt64(Int64.max) ? .int(Int64(x)) : .double(Double(x))
        case .float32(let x): return x.isFinite ? .double(Double(x)) : .null
        case .float64(let x): return x.isFinite ? .double(x) : .null
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .array(_, let items): return .array(items.map(json))
        }
    }

    /// A metadata entry {key, type, value, [elementType]}.
    static func entry(_ e: JSONValue, index: Int) throws -> (String, GGUFValue) {
        let where_ = "llm.gguf.write: metadata[\(index)]"
        guard let parts = e.array, parts.count >= 3, let key = parts[0].string, let tn = parts[1].string else {
            throw LuaError.runtime("\(where_) must be {key, type, value, [elementType]}")
        }
        guard let t = valueTypes[tn] else {
            throw LuaError.runtime("\(where_) ('\(key)'): unknown type '\(tn)' (expected one of \(valueTypes.keys.sorted().joined(separator: ", ")))")
        }
        if t == .array {
            guard parts.count == 4, let en = parts[3].string, let et = valueTypes[en], et != .array else {
                throw LuaError.runtime("\(where_) ('\(key)'): an array needs an element type (not 'array') as 4th field")
            }
            guard let items = parts[2].array ?? (parts[2].members?.isEmpty == true ? [] : nil) else {
                throw LuaError.runtime("\(where_) ('\(key)'): the value of an array must be a list")
            }
            return (key, .array(et, try items.map { try scalar($0, et, key: key, where_) }))
        }
        return (key, try scalar(parts[2], t, key: key, where_))
    }

    static func scalar(_ v: JSONValue, _ t: GGUFValueType, key: String, _ where_: String) throws -> GGUFValue {
        func bad() -> LuaError { LuaError.runtime("\(where_) ('\(key)'): expected a \(t) value, got \(v.kindName)") }
        func int<T: FixedWidthInteger>(_: T.Type) throws -> T {
            guard let i = v.int, let x = T(exactly: i) else { throw bad() }
            return x
        }
        func double() throws -> Double {
            if case .double(let d) = v { return d }
            if let i = v.int { return Double(i) }
            throw bad()
        }
        switch t {
        case .uint8: return .uint8(try int(UInt8.self))
        case .int8: return .int8(try int(Int8.self))
        case .uint16: return .uint16(try int(UInt16.self))
        case .int16: return .int16(try int(Int16.self))
        case .uint32: return .uint32(try int(UInt32.self))
        case .int32: return .int32(try int(Int32.self))
        case .uint64: return .uint64(try int(UInt64.self))
        case .int64: return .int64(try int(Int64.self))
        case .float32: return .float32(Float(try double()))
        case .float64: return .float64(try double())
        case .bool:
            guard case .bool(let b) = v else { throw bad() }
            return .bool(b)
        case .string:
            guard let s = v.string else { throw bad() }
            return .string(s)
        case .array: throw bad()
        }
    }

    /// A tensor entry {name, tensor, type} at `idx`.
    static func tensorEntry(_ a: LuaArgs, _ idx: Int32, index: Int) throws -> GGUFTensorSource {
        let where_ = "llm.gguf.write: tensors[\(index)]"
        guard a.type(idx) == LUA_TTABLE else { throw LuaError.runtime("\(where_) must be {name, tensor, type}") }
        lua_rawgeti(a.L, idx, 1)
        lua_rawgeti(a.L, idx, 2)
        lua_rawgeti(a.L, idx, 3)
        defer { llms_pop(a.L, 3) }
        guard a.type(-3) == LUA_TSTRING, let name = LuaJSON.string(a.L, -3) else { throw LuaError.runtime("\(where_): the name must be a string") }
        guard let t = try Userdata.tensor(a.L, lua_gettop(a.L) - 1) else { throw LuaError.runtime("\(where_) ('\(name)'): expected an llm.Tensor") }
        let tn = a.type(-1) == LUA_TSTRING ? (LuaJSON.string(a.L, -1) ?? "") : "f32"
        guard let type = GGMLType.allCases.first(where: { $0.name == tn }) else {
            throw LuaError.runtime("\(where_) ('\(name)'): unknown tensor type '\(tn)' (expected f32, f16, bf16, q8_0, q4_0, q4_k)")
        }
        return GGUFTensorSource(name: name, tensor: t, type: type)
    }
}
