// GGUF and block quantizers against the `gguf` Python package (scripts/reference/make_export_fixtures.py):
// Q8_0/Q4_0 blocks bit-exact with gguf.quants.quantize (Tests/Fixtures/export/quant.json), a GGUF file
// written by gguf.GGUFWriter read back with our reader (gguf_py.gguf/.json), our writer's output parsed
// back (header, KVs in order, tensor infos, aligned offsets, F32 bytes identical), and malformed files
// rejected with a message (test-gguf.cpp's classes: magic, version, sizes, types, duplicates, alignment).
import Foundation
import Testing
import LLMCore
@testable import LLMFormats

private func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/export").appendingPathComponent(name).path
}

private func json(_ name: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture(name)))) as! [String: Any]
}

private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

@Test func blockQuantizersAreBitExactWithGGUFPy() throws {
    let cases = try json("quant.json")["cases"] as! [[String: Any]]
    #expect(cases.count >= 10)
    for c in cases {
        let x = (c["bits"] as! [NSNumber]).map { Float(bitPattern: $0.uint32Value) }
        for q in [BlockQuant.q8_0, .q4_0] {  // gguf-py has no k-quant quantizer (Q4_K: LLMCoreTests/BlockQuantQ4KTests)
            #expect(hex(q.quantize(x)) == c[q.rawValue] as! String, "\(c["name"]!) \(q)")
        }
    }
}

@Test func blockQuantRoundTripIsClose() {
    let x = (0..<64).map { Float(sin(Double($0) * 0.7)) }
    let q8 = BlockQuant.q8_0.dequantize(BlockQuant.q8_0.quantize(x), count: 64)
    let q4 = BlockQuant.q4_0.dequantize(BlockQuant.q4_0.quantize(x), count: 64)
    #expect(zip(x, q8).allSatisfy { abs($0 - $1) <= 1.0 / 127 })
    #expect(zip(x, q4).allSatisfy { abs($0 - $1) <= 1.0 / 8 + 1e-3 })
    #expect(BlockQuant.q8_0.byteCount(values: 64) == 68 && BlockQuant.q4_0.byteCount(values: 64) == 36)
    // non-finite input never traps
    _ = BlockQuant.q8_0.quantize([Float.infinity] + [Float](repeating: 1, count: 31))
    _ = BlockQuant.q4_0.quantize([Float.nan] + [Float](repeating: 1, count: 31))
}

@Test func readsFileWrittenByGGUFPy() throws {
    let f = try GGUF.read(path: fixture("gguf_py.gguf"))
    #expect(f.version == 3 && f.alignment == 32)
    #expect(f["general.architecture"] == .string("gpt2"))
    #expect(f["gpt2.block_count"] == .uint32(2))
    #expect(f["gpt2.attention.layer_norm_epsilon"] == .float32(1e-5))
    #expect(f["test.flag"] == .bool(true) && f["test.negative"] == .int32(-7) && f["test.big"] == .uint64(1 << 40))
    #expect(f["test.strings"] == .array(.string, [.string("a"), .string("Ġb"), .string("é")]))
    let expected = try json("gguf_py.json")["tensors"] as! [String: [String: Any]]
    #expect(Set(f.tensors.keys) == Set(expected.keys))
    for (name, e) in expected {
        let t = try #require(f.tensors[name])
        #expect(t.shape == (e["shape"] as! [Int]), "\(name)")
        let want = (e["values"] as! [NSNumber]).map(\.floatValue)
        #expect(t.toFloats() == want, "\(name)")
    }
    #expect(f.infos.map(\.type) == [.f32, .f16, .q8_0, .q4_0])
}

@Test func writerRoundTrip() throws {
    let dir = tempDir("gguf")
    let path = dir + "/m.gguf"
    let w = try Tensor((0..<96).map { Float($0) / 7 - 3 }, shape: [3, 32])
    let v = try Tensor([1, -2, 3.5], shape: [3])
    let meta: [(String, GGUFValue)] = [
        ("general.architecture", .string("gpt2")), ("gpt2.block_count", .uint32(2)),
        ("tokenizer.ggml.tokens", .array(.string, [.string("a"), .string("b")])),
        ("tokenizer.ggml.token_type", .array(.int32, [.int32(1), .int32(3)])), ("x.f", .float32(0.25)), ("x.b", .bool(false))
    ]
    try GGUF.write(
        metadata: meta,
        tensors: [
            GGUFTensorSource(name: "w32", tensor: w, type: .f32), GGUFTensorSource(name: "v", tensor: v, type: .f32),
            GGUFTensorSource(name: "w16", tensor: w, type: .f16), GGUFTensorSource(name: "wq8", tensor: w, type: .q8_0),
            GGUFTensorSource(name: "wq4", tensor: w, type: .q4_0)
        ], to: path)
    let f = try GGUF.read(path: path, raw: true)
    #expect(f.metadata.map(\.0) == meta.map(\.0))
    for (k, val) in meta { #expect(f[k] == val) }
    #expect(f.infos.map(\.name) == ["w32", "v", "w16", "wq8", "wq4"])
    #expect(f.infos.allSatisfy { $0.offset % 32 == 0 } && f.dataOffset % 32 == 0)
    #expect(f.infos[0].shape == [3, 32] && f.infos[1].shape == [3])
    #expect(f.tensors["w32"]!.toFloats() == w.toFloats())
    #expect(f.raw["w32"]! == w.toFloats().withUnsafeBytes { Array($0) })
    #expect(f.raw["wq8"]! == BlockQuant.q8_0.quantize(w.toFloats()))
    #expect(f.raw["wq4"]! == BlockQuant.q4_0.quantize(w.toFloats()))
    #expect(zip(f.tensors["w16"]!.toFloats(), w.toFloats()).allSatisfy { abs($0 - $1) <= 1e-3 * abs($1) + 1e-3 })
    // ggml dims are reversed: the first u64 dim of w32 is 32 (innermost)
    #expect(
        errorText { try GGUF.write(metadata: [], tensors: [GGUFTensorSource(name: "v", tensor: v, type: .q8_0)], to: dir + "/bad.gguf") }?
            .contains("not a multiple of 32") == true)
    #expect(
        errorText { try GGUF.write(metadata: [("a", .uint8(1)), ("a", .uint8(2))], tensors: [], to: dir + "/bad.gguf") }?
            .contains("duplicate metadata key 'a'") == true)
}

/// A minimal valid file, then corrupted copies: each must be rejected with a message, never a trap.
@Test func rejectsMalformedFiles() throws {
    let dir = tempDir("gguf-bad")
    let path = dir + "/ok.gguf"
    try GGUF.write(
        metadata: [("k", .string("v"))], tensors: [GGUFTensorSource(name: "t", tensor: try Tensor([1, 2], shape: [2]), type: .f32)], to: path)
    let good = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    func reject(_ bytes: [UInt8], _ needle: String) {
        let e = errorText { _ = try bytes.withUnsafeBytes { try GGUF.decode($0, source: "bad.gguf") } }
        #expect(e?.contains(needle) == true, "\(needle): got \(e ?? "no error")")
    }
    func patched(_ at: Int, _ v: UInt64, width: Int = 8) -> [UInt8] {
        var b = good
        for i in 0..<width { b[at + i] = UInt8((v >> (8 * UInt64(i))) & 0xFF) }
        return b
    }
    reject(patched(0, 0x4747_4747, width: 4), "bad magic")
    reject(patched(4, 9, width: 4), "unsupported GGUF version 9")
    reject(patched(8, 1 << 60), "tensor count")
    reject(patched(24, UInt64.max), "metadata key length")  // key length
    reject(patched(24 + 8 + 1, 99, width: 4), "unknown value type 99")
    reject(Array(good.prefix(30)), "file ends inside")
    // tensor info starts after the KV: 24 + (8+1) + 4 + (8+1)
    let info = 24 + 9 + 4 + 9
    reject(patched(info + 9, 7, width: 4), "dimensions")  // n_dims = 7
    reject(patched(info + 9 + 4 + 8, 77, width: 4), "ggml type 77")
    reject(patched(info + 9 + 4 + 8 + 4, 3), "not aligned")
    reject(patched(info + 9 + 4, 1 << 39), "more elements than the file")
}
