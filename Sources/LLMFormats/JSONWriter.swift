// JSONWriter: serializes a JSONValue as compact or indented UTF-8 JSON, optionally with object keys
// sorted (byte order). Non-finite doubles are rejected (JSON cannot represent them); strings are
// escaped per RFC 8259 (quote, backslash, control characters); other characters are written as is.

/// Serializes ``JSONValue``s.
///
/// ```swift
/// let text = try JSONWriter.string(.object([JSONMember("a", .int(1))]))   // {"a":1}
/// ```
public enum JSONWriter {
    /// The JSON text of `value`. `indent` > 0 pretty-prints with that many spaces per level.
    public static func string(_ value: JSONValue, indent: Int = 0, sortKeys: Bool = false) throws -> String {
        var out: [UInt8] = []
        try write(value, into: &out, indent: indent, sortKeys: sortKeys)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the JSON text of `value` to `out`.
    public static func write(_ value: JSONValue, into out: inout [UInt8], indent: Int = 0, sortKeys: Bool = false) throws {
        try emit(value, &out, indent: indent, level: 0, sortKeys: sortKeys)
    }

    private static func newline(_ out: inout [UInt8], _ indent: Int, _ level: Int) {
        guard indent > 0 else { return }
        out.append(0x0A)
        out.append(contentsOf: repeatElement(0x20, count: indent * level))
    }

    private static func emit(_ v: JSONValue, _ out: inout [UInt8], indent: Int, level: Int, sortKeys: Bool) throws {
        switch v {
        case .null: out.append(contentsOf: Array("null".utf8))
        case .bool(let x): out.append(contentsOf: Array((x ? "true" : "false").utf8))
        case .int(let x): out.append(contentsOf: Array(String(x).utf8))
        case .double(let x):
            guard x.isFinite else { throw FormatError("json: cannot encode \(x) (JSON has no NaN or infinity)") }
            out.append(contentsOf: Array(String(x).utf8))  // shortest round-trip form; "1.0", "1e-05"
        case .string(let s): escape(s, &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent, level + 1)
                try emit(item, &out, indent: indent, level: level + 1, sortKeys: sortKeys)
            }
            if !items.isEmpty { newline(&out, indent, level) }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            let ms = sortKeys ? members.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) } : members
            out.append(UInt8(ascii: "{"))
            for (k, m) in ms.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent, level + 1)
                escape(m.key, &out)
                out.append(UInt8(ascii: ":"))
                if indent > 0 { out.append(0x20) }
                try emit(m.value, &out, indent: indent, level: level + 1, sortKeys: sortKeys)
            }
            if !ms.isEmpty { newline(&out, indent, level) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Appends `s` as a quoted JSON string.
    public static func escape(_ s: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(c >> 4)]); out.append(hex[Int(c & 15)])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
