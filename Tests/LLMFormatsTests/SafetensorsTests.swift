// Safetensors writer and reader on well-formed files: golden bytes (S-01, S-02), every dtype round trip,
// padding and alignment, sorted order, metadata, non-contiguous input, empty and rank-0 tensors (S-11).
import Foundation
import Testing
import LLMCore
@testable import LLMFormats

@Test func goldenAttn0Bytes() throws {
    let t = tensor([0, 1, 2, 3, 4, 5], [1, 2, 3])
    let bytes = try Safetensors.encode(["attn.0": t])
    let header = #"{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}"#
    #expect(bytes == image(header) + [0, 0, 0, 0, 0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0, 0, 0xA0, 0x40])
    #expect(bytes.prefix(8) == [0x40, 0, 0, 0, 0, 0, 0, 0])
}

@Test func goldenEmptyAndMetadataOnly() throws {
    #expect(try Safetensors.encode([:]) == [8, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20])
    let md = try Safetensors.encode([:], metadata: ["framework": "pt"])
    #expect(md == image(#"{"__metadata__":{"framework":"pt"}}"# + "     "))
    #expect(md.prefix(8) == [40, 0, 0, 0, 0, 0, 0, 0])
}

@Test func headerIsPaddedWithSpacesToEightBytes() throws {
    for name in ["a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"] {
        let bytes = try Safetensors.encode([name: tensor([1], [1])], metadata: ["format": "pt"])
        let n = Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        #expect(n % 8 == 0)
        #expect(bytes[8] == UInt8(ascii: "{"))
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        #expect(header.contains(#""__metadata__":{"format":"pt"}"#))
        let trimmed = header.reversed().drop(while: { $0 == " " })
        #expect(trimmed.first == "}")
        #expect(try decode(bytes).tensors[name]?.toDoubles() == [1])
    }
}

@Test func everyDTypeRoundTrips() throws {
    let values: [Double] = [0, 1, -2, 3, 127, -128, 0.5, 100]
    var tensors: [String: Tensor] = [:]
    for d in DType.allCases {
        let vs = d == .uint8 ? values.map { abs($0.rounded(.towardZero)) } : (d.isFloatingPoint ? values : values.map { $0.rounded(.towardZero) })
        tensors[Safetensors.name(of: d)] = tensor(vs, [2, 4], d)
    }
    let dir = tempDir()
    let path = dir + "/all.safetensors"
    try Safetensors.write(tensors, metadata: ["format": "pt", "note": "ünïcode ✓"], to: path)
    let f = try Safetensors.read(path: path)
    #expect(f.metadata == ["format": "pt", "note": "ünïcode ✓"])
    for (name, t) in tensors {
        let u = try #require(f.tensors[name])
        #expect(u.dtype == t.dtype && u.shape == [2, 4])
        #expect(u.toDoubles() == t.toDoubles(), "\(name)")
    }
    #expect(Set(f.tensors.keys) == Set(["F32", "F16", "BF16", "I64", "I32", "I8", "U8"]))
}

@Test func tensorsAreWrittenInSortedNameOrderAndTileTheBuffer() throws {
    let names = ["z", "b.1", "b.10", "b.2", "A", "a"]
    var tensors: [String: Tensor] = [:]
    for (i, n) in names.enumerated() { tensors[n] = tensor([Double(i), Double(i)], [2]) }
    let f = try decode(try Safetensors.encode(tensors))
    #expect(f.names == ["A", "a", "b.1", "b.10", "b.2", "z"])
    for (i, n) in names.enumerated() { #expect(f.tensors[n]?.toDoubles() == [Double(i), Double(i)]) }
}

@Test func nonContiguousEmptyAndScalarTensors() throws {
    let m = tensor([1, 2, 3, 4, 5, 6], [2, 3])
    let mt = try m.transpose(0, 1)  // [3, 2], strided
    let f = try decode(try Safetensors.encode(["t": mt, "empty": tensor([], [0, 4]), "scalar": tensor([7], [])]))
    #expect(f.tensors["t"]?.shape == [3, 2])
    #expect(f.tensors["t"]?.toDoubles() == [1, 4, 2, 5, 3, 6])
    #expect(f.tensors["empty"]?.shape == [0, 4])
    #expect(f.tensors["scalar"]?.shape == [])
    #expect(f.tensors["scalar"]?.toDoubles() == [7])
}

@Test func nanAndInfPayloadsAreAccepted() throws {
    let f = try decode(try Safetensors.encode(["x": tensor([.nan, .infinity, -.infinity], [3])]))
    let v = try #require(f.tensors["x"]).toDoubles()
    #expect(v[0].isNaN && v[1] == .infinity && v[2] == -.infinity)
}

@Test func writeReplacesAtomicallyAndLeavesNoTempFiles() throws {
    let dir = tempDir()
    let path = dir + "/m.safetensors"
    try Safetensors.write(["a": tensor([1], [1])], to: path)
    try Safetensors.write(["b": tensor([2], [1])], to: path)
    #expect(try Safetensors.read(path: path).tensors.keys.sorted() == ["b"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["m.safetensors"])
    // writing into a missing directory fails cleanly and names the path
    let e = errorText { try Safetensors.write(["a": tensor([1], [1])], to: dir + "/nope/m.safetensors") }
    #expect(e?.contains("nope") == true)
    #expect(errorText { _ = try Safetensors.read(path: dir + "/missing.safetensors") }?.contains("missing.safetensors") == true)
}

@Test func largeFileReadsQuickly() throws {
    let n = 25_000_000  // 100 MB of F32
    let t = try Tensor(shape: [n], dtype: .float32)
    t.f32[n - 1] = 42
    let path = tempDir() + "/big.safetensors"
    try Safetensors.write(["big": t], to: path)
    let start = Date()
    let f = try Safetensors.read(path: path)
    let elapsed = Date().timeIntervalSince(start)
    #expect(f.tensors["big"]?.f32[n - 1] == 42)
    print("read 100 MB safetensors in \(elapsed) s")
    try FileManager.default.removeItem(atPath: path)
}
