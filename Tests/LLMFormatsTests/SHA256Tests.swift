// SHA-256 (libcrypto EVP behind SHA256): FIPS 180-2 / NIST vectors, incremental feeding across block
// boundaries, copy independence (copy-on-write context), restart after finalize, and the chunked file
// hash against a digest computed independently (Python hashlib) for a file larger than one read chunk.
import Foundation
import Testing
@testable import LLMFormats

@Test func sha256MillionA() {
    var h = SHA256()
    let chunk = [UInt8](repeating: 0x61, count: 1000)
    for _ in 0..<1000 { h.update(chunk) }
    #expect(h.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    let whole = [UInt8](repeating: 0x61, count: 1_000_000)
    #expect(whole.withUnsafeBytes { SHA256.hex($0) } == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
}

@Test func sha256CopiesAreIndependentAndFinalizeRestarts() {
    var a = SHA256(); a.update(Array("ab".utf8))
    var b = a  // shares the context until one of them is fed
    a.update(Array("cd".utf8)); b.update(Array("xy".utf8))
    #expect(a.finalizeHex() == "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589")
    #expect(b.finalizeHex() == "fe397af74c42fe42afc3fef9786771ee4279047e905e894120e1860617169b6f")
    a.update(Array("abc".utf8))  // after finalize the hasher starts over
    #expect(a.finalizeHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    a.update(UnsafeRawBufferPointer(start: nil, count: 0))
    #expect(a.finalizeHex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
}

@Test func sha256OfFileIsChunkedAndMatchesHashlib() throws {
    let dir = tempDir("sha")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let n = 3 * (1 << 20) + 123  // more than three 1 MiB read chunks, ending mid-block
    let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    let path = dir + "/blob.bin"
    #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
    let expected = "b85e68d180ed92e1faed06ec4cfbc002bdc9bb1bcd6b888ef97d4026f1ded41b"  // hashlib.sha256
    #expect(try SHA256.hex(file: path) == expected)
    #expect(bytes.withUnsafeBytes { SHA256.hex($0) } == expected)
    #expect(errorText { _ = try SHA256.hex(file: dir + "/missing") }?.contains("cannot open '\(dir)/missing'") == true)
    #expect(errorText { _ = try SHA256.hex(file: dir) }?.contains("is not a regular file") == true)
}
