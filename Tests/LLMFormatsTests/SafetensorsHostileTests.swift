// Hostile safetensors files (formats-and-conventions.md B1, S-03..S-10, S-12): each must be rejected
// with a clear message naming the file and, where there is one, the tensor; none may crash or allocate
// more than the file size.
import Foundation
import Testing
import LLMCore
@testable import LLMFormats

private let f32x12 = [UInt8](repeating: 0, count: 48)
private func entry(_ name: String = "w", dtype: String = "F32", shape: String = "[3,4]", offsets: String = "[0,48]") -> String {
    #"{"\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}}"#
}

@Test func validBaselineDecodes() throws {
    #expect(try decode(image(entry(), data: f32x12)).tensors["w"]?.shape == [3, 4])
}

@Test func headerLengthAttacks() {
    #expect(decodeError([])?.contains("too short") == true)
    #expect(decodeError([1, 2, 3])?.contains("too short") == true)
    #expect(decodeError(image(entry(), data: f32x12, n: UInt64.max))?.contains("exceeds the limit") == true)
    #expect(decodeError(image(entry(), data: f32x12, n: 100_000_001))?.contains("exceeds the limit") == true)
    #expect(decodeError(image(entry(), data: f32x12, n: 5000))?.contains("larger than the file") == true)
    #expect(decodeError(image(entry(), data: f32x12, n: 0))?.contains("must start with '{'") == true)
    // every message names the file
    #expect(decodeError(image(entry(), data: f32x12, n: 5000))?.hasSuffix("in 't.safetensors'") == true)
}

@Test func truncatedFileIsRejected() {
    let full = image(entry(), data: f32x12)
    for cut in [full.count - 1, full.count - 48, 9, 8, 7] {
        #expect(decodeError(Array(full.prefix(cut))) != nil, "cut at \(cut)")
    }
    #expect(decodeError(Array(full.dropLast()))?.contains("out of bounds") == true)
}

@Test func headerSyntaxAttacks() {
    #expect(decodeError(image(#"{"w":{"dtype":"F32""#))?.contains("invalid JSON header") == true)
    #expect(decodeError(image("[1,2]   "))?.contains("must start with '{'") == true)
    #expect(decodeError(image(" {}     "))?.contains("must start with '{'") == true)
    #expect(decodeError(image("\u{FEFF}{}   "))?.contains("must start with '{'") == true)
    #expect(decodeError(image("{}\0\0\0\0\0\0"))?.contains("trailing characters") == true)
    var bad = image(#"{"w\#u{e9}":1}"#)  // patch in a lone 0xFF byte: invalid UTF-8
    bad[11] = 0xFF
    #expect(decodeError(bad)?.contains("not valid UTF-8") == true)
    #expect(decodeError(image(#"{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{}}}}}}}}}}"#))?.contains("nesting") == true)
}

@Test func duplicateNamesAreRejected() {
    let h = #"{"w":{"dtype":"F32","shape":[3,4],"data_offsets":[0,48]},"w":{"dtype":"F32","shape":[3,4],"data_offsets":[0,48]}}"#
    #expect(decodeError(image(h, data: f32x12))?.contains("duplicate key 'w'") == true)
    let md = #"{"__metadata__":{"a":"1","a":"2"}}"#
    #expect(decodeError(image(md))?.contains("duplicate key 'a'") == true)
}

@Test func dtypeAndMetadataValidation() {
    #expect(decodeError(image(entry(dtype: "F99"), data: f32x12))?.contains("tensor 'w': unknown dtype 'F99'") == true)
    #expect(decodeError(image(entry(dtype: "F64"), data: f32x12))?.contains("not supported") == true)
    #expect(decodeError(image(#"{"__metadata__":{"a":1}}"#))?.contains("must be a string") == true)
    #expect(decodeError(image(#"{"__metadata__":[]}"#))?.contains("__metadata__ must be an object") == true)
    #expect(decodeError(image(#"{"w":{"dtype":"F32","shape":[3,4],"data_offsets":[0,48],"x":1}}"#, data: f32x12))?.contains("unknown field 'x'") == true)
    #expect(decodeError(image(#"{"w":{"shape":[3,4],"data_offsets":[0,48]}}"#, data: f32x12))?.contains("missing 'dtype'") == true)
    #expect(decodeError(image(#"{"w":5}"#))?.contains("tensor 'w': entry must be an object") == true)
}

@Test func offsetValidation() {
    func err(_ offsets: String, data: [UInt8] = f32x12) -> String { decodeError(image(entry(offsets: offsets), data: data)) ?? "accepted" }
    #expect(err("[0,100]", data: [UInt8](repeating: 0, count: 100)).contains("safetensors: tensor 'w': data_offsets [0, 100] do not match shape [3, 4] (F32, 48 bytes)"))
    #expect(err("[0,96]").contains("out of bounds"))
    #expect(err("[48,0]").contains("end before they begin"))
    #expect(err("[-1,47]").contains("must not be negative"))
    #expect(err("[0.0,48]").contains("two integers"))
    #expect(err("[0,48,0]").contains("two integers"))
    #expect(err("[0]").contains("two integers"))
    #expect(err("\"0,48\"").contains("two integers"))
    #expect(err("[0,18446744073709551615]").contains("two integers"))
    // first BEGIN != 0 (gap at the start) and trailing bytes (polyglot)
    #expect(err("[4,52]", data: f32x12 + [0, 0, 0, 0]).contains("gap of 4 bytes"))
    #expect(err("[0,48]", data: f32x12 + [1]).contains("1 bytes after the last tensor"))
}

@Test func overlapGapAndAliasBetweenTensors() {
    func two(_ a: String, _ b: String, data: Int) -> String {
        let h = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":\#(a)},"b":{"dtype":"F32","shape":[2],"data_offsets":\#(b)}}"#
        return decodeError(image(h, data: [UInt8](repeating: 0, count: data))) ?? "accepted"
    }
    #expect(two("[0,8]", "[0,8]", data: 8).contains("overlap tensor"))
    #expect(two("[0,8]", "[4,12]", data: 12).contains("overlap tensor 'a'"))
    #expect(two("[0,8]", "[12,20]", data: 20).contains("tensor 'b'") == true)
    #expect(two("[0,8]", "[12,20]", data: 20).contains("gap of 4 bytes"))
    #expect(two("[8,16]", "[0,8]", data: 16) == "accepted")  // out of name order but tiling: fine
}

@Test func shapeValidation() {
    func err(_ shape: String, offsets: String = "[0,48]") -> String { decodeError(image(entry(shape: shape, offsets: offsets), data: f32x12)) ?? "accepted" }
    #expect(err("[3,-4]").contains("negative dimension"))
    #expect(err("[3.5,4]").contains("array of integers"))
    #expect(err("[\"3\",4]").contains("array of integers"))
    #expect(err("3").contains("array of integers"))
    #expect(err("[4294967296,4294967296,4294967296]").contains("overflows"))
    #expect(err("[0,4611686018427387904,4611686018427387904]").contains("overflows"))
    #expect(err("[4611686018427387904,3]").contains("overflows"))
    #expect(err("[12]") == "accepted")
    #expect(err("[2,4]").contains("do not match shape [2, 4]"))
}

@Test func randomCorruptionNeverCrashes() throws {
    var tensors: [String: Tensor] = [:]
    for i in 0..<4 { tensors["t\(i)"] = tensor([1, 2, 3, Double(i)], [2, 2], DType.allCases[i]) }
    let good = try Safetensors.encode(tensors, metadata: ["format": "pt"])
    var rng = SystemRandomNumberGenerator()
    var rejected = 0
    for _ in 0..<2000 {
        var b = good
        let flips = Int.random(in: 1...4, using: &rng)
        for _ in 0..<flips { b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
        if Bool.random(using: &rng) { b = Array(b.prefix(Int.random(in: 0...b.count, using: &rng))) }
        if decodeError(b) != nil { rejected += 1 }
    }
    #expect(rejected > 0)
}
