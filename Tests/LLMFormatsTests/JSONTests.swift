// JSONParser / JSONWriter: strictness (duplicates, trailing data, depth, surrogates, leading zeros),
// integer vs float preservation, escaping, sorted and indented output, error positions; SHA-256 vectors.
import Testing
@testable import LLMFormats

private func parse(_ s: String) throws -> JSONValue { try JSONParser.parse(Array(s.utf8)) }
private func parseError(_ s: String) -> String { errorText { _ = try parse(s) } ?? "accepted" }

@Test func parsesValuesKeepingIntegersApart() throws {
    let v = try parse(#" {"a": [1, -2, 2.5, 1e3, true, false, null], "b": {"c": "x\u00e9\ud83d\ude00\n"}} "#)
    #expect(v["a"] == .array([.int(1), .int(-2), .double(2.5), .double(1000), .bool(true), .bool(false), .null]))
    #expect(v["b"]?["c"] == .string("xé😀\n"))
    #expect(try parse("9223372036854775807") == .int(.max))
    #expect(try parse("9223372036854775808") == .double(9223372036854775808))
    #expect(try parse("-0") == .int(0))
}

@Test func rejectsMalformedJSONWithPositions() {
    #expect(parseError(#"{"a":1,"a":2}"#).contains("duplicate key 'a' at line 1, column 8"))
    #expect(parseError("{\n  \"a\": 1,\n  \"b\" 2}").contains("expected ':' at line 3, column 7"))
    #expect(parseError("[1, 2] x").contains("trailing characters"))
    #expect(parseError("[01]").contains("leading zeros"))
    #expect(parseError("[1.]").contains("digits after '.'"))
    #expect(parseError(#""\ud800""#).contains("lone surrogate"))
    #expect(parseError("\"a\u{1}\"").contains("control character"))
    #expect(parseError("[1e999]").contains("out of range"))
    #expect(parseError("").contains("unexpected end of input"))
    #expect(parseError("[1,]").contains("expected a value"))
    #expect(parseError("tru").contains("invalid literal"))
    #expect(parseError(String(repeating: "[", count: 201) + String(repeating: "]", count: 201)).contains("nesting deeper than 200"))
    #expect(parseError(String(repeating: "[", count: 200) + String(repeating: "]", count: 200)) == "accepted")
    #expect((errorText { _ = try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) } ?? "").contains("not valid UTF-8"))
}

@Test func writesCompactSortedAndIndented() throws {
    let v = JSONValue.object([
        JSONMember("b", .array([.int(1), .double(0.5), .null])), JSONMember("a", .string("q\"\\\u{1}\t")),
        JSONMember("c", .object([])), JSONMember("d", .array([]))
    ])
    #expect(try JSONWriter.string(v) == #"{"b":[1,0.5,null],"a":"q\"\\\u0001\t","c":{},"d":[]}"#)
    #expect(try JSONWriter.string(v, sortKeys: true) == #"{"a":"q\"\\\u0001\t","b":[1,0.5,null],"c":{},"d":[]}"#)
    #expect(try JSONWriter.string(.object([JSONMember("a", .array([.int(1)]))]), indent: 2) == "{\n  \"a\": [\n    1\n  ]\n}")
    #expect(try JSONWriter.string(.double(2)) == "2.0")
    #expect(errorText { _ = try JSONWriter.string(.array([.double(.nan)])) }?.contains("NaN") == true)
    // round trip
    #expect(try parse(try JSONWriter.string(v)) == v)
}

@Test func sha256KnownVectors() {
    var h = SHA256(); h.update(Array("abc".utf8))
    #expect(h.finalizeHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    var e = SHA256()
    #expect(e.finalizeHex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    var m = SHA256()  // fed in odd pieces across block boundaries
    let msg = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
    m.update(Array(msg[0..<5])); m.update(Array(msg[5..<50])); m.update(Array(msg[50...]))
    #expect(m.finalizeHex() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
}
