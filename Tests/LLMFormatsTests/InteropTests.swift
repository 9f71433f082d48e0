// Interop with the reference safetensors implementation (scripts/reference/make_safetensors_fixture.py):
// reads the file the Python package wrote and checks every value, and checks that our writer still
// produces the committed llmscript_written.safetensors byte for byte (the script loads that file in Python).
// Regenerate ours with LLMS_WRITE_FIXTURES=1, then rerun the script.
import Foundation
import Testing
import LLMCore
@testable import LLMFormats

private func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name).path
}

/// The tensors make_safetensors_fixture.py expects (see expected() there).
private func expectedTensors() -> [String: Tensor] {
    [
        "f32.matrix": tensor([-1, -0.5, 0, 0.5, 1, 1.5], [2, 3]),
        "f16.vector": tensor([0.5, -1.25, 65504, 6.103515625e-05], [4], .float16),
        "i64.big": tensor([-1_099_511_627_776, 0, 4_611_686_018_427_387_904], [3], .int64),
        "i32.grid": tensor([-7, 0, 7, 2_147_483_647], [2, 2], .int32),
        "i8.edges": tensor([-128, 0, 127], [3], .int8),
        "u8.edges": tensor([0, 255], [2], .uint8),
        "scalar": tensor([3.25], []),
        "empty": tensor([], [0, 3])
    ]
}
private let metadata = ["format": "pt", "source": "make_safetensors_fixture.py"]

@Test func readsFileWrittenByReferenceImplementation() throws {
    let f = try Safetensors.read(path: fixture("reference.safetensors"))
    #expect(f.metadata == metadata)
    let want = expectedTensors()
    #expect(Set(f.tensors.keys) == Set(want.keys))
    for (name, t) in want {
        let u = try #require(f.tensors[name], "\(name)")
        #expect(u.dtype == t.dtype && u.shape == t.shape, "\(name)")
        if t.dtype == .int64 {
            #expect((0..<u.count).map { u.loadInteger(at: $0) } == (0..<t.count).map { t.loadInteger(at: $0) })
        } else {
            #expect(u.toDoubles() == t.toDoubles(), "\(name)")
        }
    }
}

@Test func writerOutputMatchesCommittedFixture() throws {
    var tensors = expectedTensors()
    tensors["bf16.vector"] = tensor([1.0, -2.5, 0.15625], [3], .bfloat16)
    let bytes = try Safetensors.encode(tensors, metadata: metadata)
    let path = fixture("llmscript_written.safetensors")
    if ProcessInfo.processInfo.environment["LLMS_WRITE_FIXTURES"] != nil {
        try Safetensors.write(tensors, metadata: metadata, to: path)
    }
    let committed = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(Array(committed) == bytes)
    let back = try Safetensors.read(path: path)
    #expect(back.tensors["bf16.vector"]?.toDoubles() == [1.0, -2.5, 0.15625])
}
