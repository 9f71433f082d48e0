// JSONValue: an in-memory JSON document that keeps integers apart from floats and object members in
// their source order (duplicates are rejected by the parser, not resolved). Used by the safetensors
// header, checkpoint manifests and llm.json. Serialization is in JSONWriter.swift, parsing in JSONParser.swift.

/// A JSON value.
///
/// ```swift
/// let v = try JSONParser.parse(Array(#"{"a": [1, 2.5, null]}"#.utf8))
/// print(v["a"]?.array?.count ?? 0)   // 3
/// ```
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in 64 bits.
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    /// Members in source order; keys are unique.
    case object([JSONMember])

    /// The member named `key` of an object; nil for other values or a missing key.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let ms) = self else { return nil }
        return ms.first(where: { $0.key == key })?.value
    }
    public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var members: [JSONMember]? { if case .object(let m) = self { return m }; return nil }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var int: Int64? { if case .int(let i) = self { return i }; return nil }

    /// A short name of the value's kind for error messages (`a string`, `an array`).
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// One `"key": value` member of a JSON object.
public struct JSONMember: Equatable, Sendable {
    public let key: String
    public let value: JSONValue
    public init(_ key: String, _ value: JSONValue) { self.key = key; self.value = value }
}
