// Streamed checkpoint reading (Checkpoint.readMapped(dir:mmap: false), Safetensors.readStreaming): values
// round-trip for every dtype into owned, writable tensors (also across read chunks); a corrupted byte in a
// tensor region or in the header, and a truncated file, are refused naming the file before any tensor is
// returned (the sha256 error wins over a decode error); a well-hashed but malformed file gives the decoder's error.
import Foundation
import Testing
import LLMCore
@testable import LLMFormats

private let mixed: [String: Tensor] = [
    "a.f32": tensor([1, -2, 3.5, 4, 5, 6], [2, 3]),
    "b.f16": tensor([0.5, -1.25, 65504, 3], [4], .float16),
    "c.bf16": tensor([1, -2, 0.25, 3.5e10], [2, 2], .bfloat16),
    "d.ids": tensor([7, -8], [2], .int64),
    "e.empty": tensor([], [0, 3])
]

/// Writes a checkpoint holding `weights` and returns its folder.
private func checkpoint(_ weights: [String: Tensor]) throws -> String {
    let dir = tempDir("stream") + "/step-000001"
    try Checkpoint.write(dir: dir, files: ["model.safetensors": .tensors(weights, metadata: ["format": "pt"]), "state.json": .bytes(Array("{}\n".utf8))])
    return dir
}

private func streamed(_ dir: String) throws -> SafetensorsFile {
    let r = try Checkpoint.readMapped(dir: dir, mmap: false)
    #expect(Set(r.bytes.keys) == ["state.json"])
    return try #require(r.tensors["model.safetensors"])
}

/// Flips the bits of byte `at` (negative: from the end) of `path`.
private func corrupt(_ path: String, at: Int) throws {
    var b = try #require(FileManager.default.contents(atPath: path))
    b[at < 0 ? b.count + at : at] ^= 0x41
    try b.write(to: URL(fileURLWithPath: path))
}

@Test func streamedValuesRoundTripForEveryDtype() throws {
    let f = try streamed(try checkpoint(mixed))
    #expect(f.names.count == mixed.count && f.metadata["format"] == "pt")
    for (name, t) in mixed {
        let got = try #require(f.tensors[name])
        #expect(got.dtype == t.dtype && got.shape == t.shape && !got.isReadOnly, "\(name)")
        #expect(got.toDoubles() == t.toDoubles(), "\(name)")
    }
    _ = try f.tensors["a.f32"]!.fillInPlace(0)  // owned storage: writable
}

@Test func streamedTensorsSpanningReadChunksRoundTrip() throws {
    let n = Safetensors.streamChunkBytes / 4 + 1001  // more than one read per tensor, unaligned to the chunk
    let big = try Tensor.from((0..<n).map { Double($0 % 977) - 488 }, shape: [n])
    let f = try streamed(try checkpoint(["big": big, "small": tensor([1, 2], [2], .float16)]))
    #expect(f.tensors["big"]?.toDoubles() == big.toDoubles())
    #expect(f.tensors["small"]?.toDoubles() == [1, 2])
}

@Test func streamedReadRefusesACorruptedTensorByteNamingTheFile() throws {
    let dir = try checkpoint(mixed)
    try corrupt(dir + "/model.safetensors", at: -20)  // inside the data buffer
    let message = errorText { _ = try Checkpoint.readMapped(dir: dir, mmap: false) }
    #expect(message == "checkpoint: '\(dir)/model.safetensors' does not match its sha256 in checkpoint.json (corrupted or modified)")
}

@Test func streamedReadPrefersTheSha256ErrorOverADecodeError() throws {
    let dir = try checkpoint(mixed)
    try corrupt(dir + "/model.safetensors", at: 8)  // the header's '{': the decoder would refuse it
    #expect(errorText { _ = try Checkpoint.readMapped(dir: dir, mmap: false) }?.contains("model.safetensors' does not match its sha256") == true)
    try corrupt(dir + "/model.safetensors", at: 8)
    try corrupt(dir + "/model.safetensors", at: 0)  // header length beyond the file
    #expect(errorText { _ = try Checkpoint.readMapped(dir: dir, mmap: false) }?.contains("model.safetensors' does not match its sha256") == true)
}

@Test func streamedReadRefusesATruncatedFile() throws {
    let dir = try checkpoint(mixed)
    let path = dir + "/model.safetensors"
    let b = try #require(FileManager.default.contents(atPath: path))
    try b.prefix(b.count - 3).write(to: URL(fileURLWithPath: path))
    #expect(errorText { _ = try Checkpoint.readMapped(dir: dir, mmap: false) }?.contains("model.safetensors' has \(b.count - 3) bytes but") == true)
    // Shorter than the size given: the sha256 check (here a pass) sees the bytes there are, the decoder refuses.
    var calls = 0
    let message = errorText { _ = try Safetensors.readStreaming(path: path, size: b.count, what: "checkpoint") { _ in calls += 1 } }
    #expect(calls == 1 && message?.contains("out of bounds") == true && message?.contains(path) == true)
}

@Test func streamedReadOfAWellHashedMalformedFileGivesTheDecodersError() throws {
    let path = tempDir("stream") + "/bad.safetensors"
    let bad = image("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data: [UInt8](repeating: 0, count: 12))
    try Data(bad).write(to: URL(fileURLWithPath: path))
    let message = errorText { _ = try Safetensors.readStreaming(path: path, size: bad.count, what: "checkpoint") { _ in } }
    #expect(message == decodeError(bad)?.replacingOccurrences(of: "t.safetensors", with: path))
    let short = image("", n: 0).prefix(5)
    try Data(short).write(to: URL(fileURLWithPath: path))
    let tooShort = errorText { _ = try Safetensors.readStreaming(path: path, size: 5, what: "checkpoint") { _ in } }
    #expect(tooShort?.contains("file is too short (5 bytes") == true)
    #expect(errorText { _ = try Safetensors.readStreaming(path: path, size: 4, what: "checkpoint") { _ in } }?.contains("is too large (5 bytes") == true)
    let empty = image("")  // an empty header: the decoder's error
    try Data(empty).write(to: URL(fileURLWithPath: path))
    #expect(errorText { _ = try Safetensors.read(path: path) } == decodeError(empty)?.replacingOccurrences(of: "t.safetensors", with: path))
}

@Test func streamedReadFailsVerificationBeforeReturningTensors() throws {
    let path = tempDir("stream") + "/m.safetensors"
    try Safetensors.write(mixed, to: path)
    struct Refused: Error {}
    var digest = ""
    #expect(throws: Refused.self) {
        _ = try Safetensors.readStreaming(path: path, size: Int.max, what: "checkpoint") { h in
            digest = h.finalizeHex(); throw Refused()
        }
    }
    #expect(try digest == SHA256.hex(file: path))
}
