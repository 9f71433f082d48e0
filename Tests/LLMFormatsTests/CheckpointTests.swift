// Checkpoint directories: round trip, atomic replacement under injected failures (C-01, C-02), manifest
// verification of truncated/modified/missing files (C-03), clear errors for missing or corrupt
// checkpoints, listing and keep-last/keep-best pruning (C-06).
import Foundation
import Testing
import LLMCore
@testable import LLMFormats

private struct Injected: Error {}

private func files(_ v: Double) -> [String: CheckpointFile] {
    [
        "model.safetensors": .tensors(["w": tensor([v, v + 1], [2])], metadata: ["format": "pt"]),
        "state.json": .bytes(Array("{\"step\":\(Int(v))}\n".utf8))
    ]
}

private func weight(_ dir: String) throws -> [Double] {
    let f = try Checkpoint.read(dir: dir)
    return try #require(try Checkpoint.tensors(f["model.safetensors"]!, source: "m").tensors["w"]).toDoubles()
}

@Test func writeAndReadRoundTrip() throws {
    let dir = tempDir() + "/runs/a/step-000100"  // parents are created
    try Checkpoint.write(dir: dir, files: files(1))
    let f = try Checkpoint.read(dir: dir)
    #expect(Set(f.keys) == ["model.safetensors", "state.json"])
    #expect(String(decoding: f["state.json"]!, as: UTF8.self) == "{\"step\":1}\n")
    #expect(try weight(dir) == [1, 2])
    let manifest = try Checkpoint.manifest(dir: dir)
    #expect(manifest.map(\.name) == ["model.safetensors", "state.json"])
    #expect(manifest[1].size == 11)
    let parent = FileIO.directory(of: dir)
    #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == ["step-000100"])
}

@Test func failureMidwayLeavesFinalNameUntouched() throws {
    let dir = tempDir() + "/ck"
    // no previous checkpoint: a failure leaves nothing under the final name, and no temp dir
    #expect(throws: Injected.self) { try Checkpoint.write(dir: dir, files: files(1)) { if $0 == "file:model.safetensors" { throw Injected() } } }
    #expect(!FileManager.default.fileExists(atPath: dir))
    try Checkpoint.write(dir: dir, files: files(1))
    for phase in ["file:model.safetensors", "file:state.json", "manifest", "swap"] {
        #expect(throws: Injected.self) { try Checkpoint.write(dir: dir, files: files(2)) { if $0 == phase { throw Injected() } } }
        #expect(try weight(dir) == [1, 2], "old checkpoint survives a failure at \(phase)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: FileIO.directory(of: dir)) == ["ck"])
    }
    try Checkpoint.write(dir: dir, files: files(3))
    #expect(try weight(dir) == [3, 4])
    #expect(try FileManager.default.contentsOfDirectory(atPath: FileIO.directory(of: dir)) == ["ck"])
}

@Test func unwritableDirectoryFailsCleanly() throws {
    guard getuid() != 0 else { return }  // root ignores permissions
    let parent = tempDir()
    try Checkpoint.write(dir: parent + "/ck", files: files(1))
    chmod(parent, 0o500)
    defer { chmod(parent, 0o755) }
    let e = errorText { try Checkpoint.write(dir: parent + "/ck", files: files(2)) }
    #expect(e?.contains("cannot create") == true)
    #expect(try weight(parent + "/ck") == [1, 2])
}

@Test func corruptionIsDetectedAndNamed() throws {
    let dir = tempDir() + "/ck"
    try Checkpoint.write(dir: dir, files: files(1))
    let model = dir + "/model.safetensors"
    let good = try Data(contentsOf: URL(fileURLWithPath: model))
    try good.dropLast(4).write(to: URL(fileURLWithPath: model))
    #expect(
        errorText { _ = try Checkpoint.read(dir: dir) }?.contains(
            "model.safetensors' has \(good.count - 4) bytes but checkpoint.json records \(good.count) (truncated or modified)") == true)
    var flipped = good; flipped[flipped.count - 1] ^= 1
    try flipped.write(to: URL(fileURLWithPath: model))
    #expect(errorText { _ = try Checkpoint.read(dir: dir) }?.contains("model.safetensors' does not match its sha256") == true)
    try FileManager.default.removeItem(atPath: model)
    #expect(errorText { _ = try Checkpoint.read(dir: dir) }?.contains("model.safetensors' is missing") == true)
    try "{\"format\":\"llmscript-checkpoint\",\"version\":".write(toFile: dir + "/checkpoint.json", atomically: false, encoding: .utf8)
    #expect(errorText { _ = try Checkpoint.read(dir: dir) }?.contains("corrupt manifest") == true)
    try "{\"format\":\"llmscript-checkpoint\",\"version\":9,\"files\":[]}".write(toFile: dir + "/checkpoint.json", atomically: false, encoding: .utf8)
    #expect(errorText { _ = try Checkpoint.read(dir: dir) }?.contains("version 9 is not supported") == true)
    try FileManager.default.removeItem(atPath: dir + "/checkpoint.json")
    #expect(errorText { _ = try Checkpoint.read(dir: dir) }?.contains("incomplete or not a checkpoint") == true)
    #expect(errorText { _ = try Checkpoint.read(dir: dir + "-missing") }?.contains("does not exist") == true)
}

@Test func invalidFileNamesAreRejected() {
    for bad in ["", "../x", "a/b", ".hidden", "checkpoint.json", "sp ace"] {
        #expect(errorText { try Checkpoint.write(dir: tempDir() + "/ck", files: [bad: .bytes([])]) }?.contains("invalid file name") == true, "\(bad)")
    }
}

@Test func listAndPrune() throws {
    let parent = tempDir()
    for step in [100, 200, 300, 400, 500] { try Checkpoint.write(dir: parent + "/" + Checkpoint.stepName(step), files: files(Double(step))) }
    try FileManager.default.createDirectory(atPath: parent + "/step-000600", withIntermediateDirectories: false)  // incomplete
    try FileManager.default.createDirectory(atPath: parent + "/step-000150.tmp-1", withIntermediateDirectories: false)
    try FileManager.default.createDirectory(atPath: parent + "/other", withIntermediateDirectories: false)
    #expect(try Checkpoint.list(parent: parent).map(\.step) == [100, 200, 300, 400, 500])
    #expect(Checkpoint.stepName(100) == "step-000100" && Checkpoint.stepName(12345678) == "step-12345678")
    let removed = try Checkpoint.prune(parent: parent, keepLast: 2, keep: [parent + "/step-000200"])
    #expect(removed.map { FileIO.baseName($0) } == ["step-000100", "step-000300"])
    #expect(try Checkpoint.list(parent: parent).map(\.step) == [200, 400, 500])
    #expect(try Checkpoint.prune(parent: parent, keepLast: 1, keep: ["step-000200"]).map { FileIO.baseName($0) } == ["step-000400"])
    #expect(try Checkpoint.list(parent: parent).map(\.step) == [200, 500])
    #expect(FileManager.default.fileExists(atPath: parent + "/step-000600"))  // incomplete dirs are left alone
    #expect(errorText { try Checkpoint.prune(parent: parent, keepLast: 0) }?.contains("keepLast") == true)
    #expect(try Checkpoint.list(parent: parent + "/none").isEmpty)
}
