// Test helpers: temporary directories, hand-built safetensors images and error capture.
import Foundation
import LLMCore
@testable import LLMFormats

/// A fresh empty directory under the system temp dir.
func tempDir(_ tag: String = "fmt") -> String {
    let p = NSTemporaryDirectory() + "llmformats-\(tag)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
    return p
}

/// An image: 8-byte length (`n` overrides the real header length), header text, data bytes.
func image(_ header: String, data: [UInt8] = [], n: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    var out: [UInt8] = []
    withUnsafeBytes(of: (n ?? UInt64(h.count)).littleEndian) { out.append(contentsOf: $0) }
    return out + h + data
}

/// The error message decoding `bytes` produces, or nil when it decodes.
func decodeError(_ bytes: [UInt8]) -> String? {
    do { _ = try bytes.withUnsafeBytes { try Safetensors.decode($0, source: "t.safetensors") }; return nil } catch { return "\(error)" }
}

func decode(_ bytes: [UInt8]) throws -> SafetensorsFile {
    try bytes.withUnsafeBytes { try Safetensors.decode($0, source: "t.safetensors") }
}

func errorText(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
}

func tensor(_ values: [Double], _ shape: [Int], _ dtype: DType = .float32) -> Tensor {
    try! Tensor.from(values, shape: shape, dtype: dtype)
}
