// Memory-mapped safetensors tensors (Safetensors.read(path:mmap:), Checkpoint.readMapped): aligned float32
// tensors view the map read-only and equal the copied ones, in-place writes are refused, the map outlives
// the reader, other dtypes and unaligned data are copied, and a modified file still fails verification.
import Foundation
import Testing
import LLMCore
@testable import LLMFormats

private let weights: [String: Tensor] = ["w": tensor([1, -2, 3.5, 4, 5, 6], [2, 3]), "ids": tensor([7, 8], [2], .int64)]

/// Reads `path` mapped and returns only the float tensor, so the reader's file and result are gone.
private func mappedWeight(_ path: String) throws -> Tensor { try #require(try Safetensors.read(path: path, mmap: true).tensors["w"]) }

@Test func mappedTensorsEqualCopiesAndRefuseWrites() throws {
    let path = tempDir("mmap") + "/m.safetensors"
    try Safetensors.write(weights, to: path)
    let copied = try Safetensors.read(path: path), mapped = try Safetensors.read(path: path, mmap: true)
    let w = try #require(mapped.tensors["w"]), ids = try #require(mapped.tensors["ids"])
    #expect(w.isReadOnly && !ids.isReadOnly && !copied.tensors["w"]!.isReadOnly)
    #expect(w.toDoubles() == copied.tensors["w"]!.toDoubles())
    #expect(ids.toDoubles() == [7, 8])
    let message = errorText { _ = try w.fillInPlace(0) }
    #expect(message?.contains("read-only") == true)
    #expect(try w.add(w).toDoubles() == [2, -4, 7, 8, 10, 12])
}

@Test func mappingOutlivesTheReader() throws {
    let path = tempDir("mmap") + "/m.safetensors"
    try Safetensors.write(weights, to: path)
    let w = try mappedWeight(path)
    try FileManager.default.removeItem(atPath: path)  // the map stays valid after unlink
    #expect(w.toDoubles() == [1, -2, 3.5, 4, 5, 6])
}

@Test func unalignedDataIsCopied() throws {
    let bytes = try Safetensors.encode(weights)
    let shifted = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count + 1, alignment: 8)
    defer { shifted.deallocate() }
    shifted.baseAddress!.advanced(by: 1).copyMemory(from: bytes, byteCount: bytes.count)
    let f = try Safetensors.decode(UnsafeRawBufferPointer(rebasing: shifted[1...]), source: "shifted", keeping: NSObject())
    #expect(f.tensors["w"]?.isReadOnly == false)
    #expect(f.tensors["w"]?.toDoubles() == [1, -2, 3.5, 4, 5, 6])
}

@Test func checkpointReadMappedVerifiesAndMaps() throws {
    let dir = tempDir("mmap") + "/step-000001"
    try Checkpoint.write(dir: dir, files: ["model.safetensors": .tensors(weights, metadata: [:]), "state.json": .bytes(Array("{}\n".utf8))])
    let r = try Checkpoint.readMapped(dir: dir, mmap: true)
    #expect(Set(r.bytes.keys) == ["state.json"] && Set(r.tensors.keys) == ["model.safetensors"])
    #expect(r.tensors["model.safetensors"]?.tensors["w"]?.isReadOnly == true)
    let path = dir + "/model.safetensors"
    var b = try #require(FileManager.default.contents(atPath: path))
    b[b.count - 1] ^= 1
    try b.write(to: URL(fileURLWithPath: path))
    #expect(errorText { _ = try Checkpoint.readMapped(dir: dir, mmap: true) }?.contains("sha256") == true)
}
