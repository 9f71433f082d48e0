// Checkpoint loading: a checkpoint counts only when its manifest exists, parses, has our format and
// version, and every file it lists has the recorded size and sha256. Each failure names the file
// (missing, truncated, modified, corrupt manifest). Loading never trusts file contents for sizes.
import Foundation
import LLMCore

/// One file entry of a checkpoint manifest.
public struct CheckpointManifestEntry: Equatable, Sendable {
    public let name: String
    public let size: Int
    public let sha256: String
}

extension Checkpoint {
    /// Largest manifest accepted (it lists file names and hashes only).
    static let maxManifestBytes = 16 << 20

    /// Parses and checks `dir/checkpoint.json` (not the files it lists).
    public static func manifest(dir rawDir: String) throws -> [CheckpointManifestEntry] {
        let dir = FileIO.stripTrailingSlashes(rawDir)
        guard FileIO.isDirectory(dir) else {
            var hint = ""
            let base = FileIO.baseName(dir)
            if let names = try? FileIO.list(FileIO.directory(of: dir), what: "checkpoint"),
                let old = names.first(where: { $0.hasPrefix(base + ".old-") })
            {
                hint = " (an interrupted replacement left '\(old)' next to it; rename it back to recover)"
            }
            throw FormatError("checkpoint: '\(dir)' does not exist or is not a directory\(hint)")
        }
        let path = dir + "/" + manifestName
        guard FileIO.exists(path) else {
            throw FormatError("checkpoint: '\(dir)' is incomplete or not a checkpoint (no \(manifestName))")
        }
        let bytes = try FileIO.readAll(path, maxBytes: maxManifestBytes, what: "checkpoint")
        func bad(_ m: String) -> FormatError { FormatError("checkpoint: corrupt manifest '\(path)': \(m)") }
        let json: JSONValue
        do { json = try JSONParser.parse(bytes, maxDepth: 8) } catch let e as FormatError { throw bad(e.message) }
        guard json["format"]?.string == formatName else { throw bad("not an llmscript checkpoint manifest (format must be '\(formatName)')") }
        guard let v = json["version"]?.int else { throw bad("missing integer 'version'") }
        guard v == version else { throw bad("version \(v) is not supported (this llmscript reads version \(version))") }
        guard let list = json["files"]?.array else { throw bad("missing 'files' array") }
        var out: [CheckpointManifestEntry] = []
        var seen = Set<String>()
        for item in list {
            guard let name = item["name"]?.string, let size = item["size"]?.int, size >= 0,
                let sha = item["sha256"]?.string, sha.utf8.count == 64
            else {
                throw bad("each file needs 'name', a non-negative 'size' and a 64-digit 'sha256'")
            }
            do { try validate(fileName: name) } catch { throw bad("invalid file name '\(name)'") }
            guard seen.insert(name).inserted else { throw bad("file '\(name)' is listed twice") }
            out.append(CheckpointManifestEntry(name: name, size: Int(size), sha256: sha))
        }
        return out
    }

    /// Reads every file of the checkpoint `dir`, verified against its manifest (size and sha256).
    public static func read(dir rawDir: String) throws -> [String: [UInt8]] {
        try readFiles(dir: rawDir, safetensors: .bytes).bytes
    }

    /// Reads the checkpoint `dir` like ``read(dir:)``, its `*.safetensors` files decoded into `tensors` instead
    /// of `bytes`. Without `mmap`, each is streamed: its header read first, then every tensor's bytes straight
    /// into the tensor's own storage while the file's sha256 is computed over the same bytes, so at most one copy
    /// of the weights is in memory; a file that does not match its sha256 is refused (naming it) before any of
    /// its tensors is returned. With `mmap`, each is memory-mapped, verified on the map and decoded with its
    /// aligned float32 tensors left in the map (read-only; see ``Safetensors/decode(_:source:keeping:)``).
    public static func readMapped(dir rawDir: String, mmap: Bool) throws -> (bytes: [String: [UInt8]], tensors: [String: SafetensorsFile]) {
        try readFiles(dir: rawDir, safetensors: mmap ? .mapped : .streamed)
    }

    /// How ``readFiles(dir:safetensors:)`` reads a checkpoint's safetensors files.
    enum SafetensorsReading { case bytes, mapped, streamed }

    static func readFiles(dir rawDir: String, safetensors how: SafetensorsReading) throws -> (bytes: [String: [UInt8]], tensors: [String: SafetensorsFile]) {
        let dir = FileIO.stripTrailingSlashes(rawDir)
        var out: [String: [UInt8]] = [:], decoded: [String: SafetensorsFile] = [:]
        for e in try manifest(dir: dir) {
            let path = dir + "/" + e.name
            guard FileIO.exists(path) else { throw FormatError("checkpoint: '\(path)' is missing (listed in \(manifestName))") }
            guard let size = FileIO.size(path) else { throw FormatError("checkpoint: cannot stat '\(path)'") }
            guard size == e.size else {
                throw FormatError("checkpoint: '\(path)' has \(size) bytes but \(manifestName) records \(e.size) (truncated or modified)")
            }
            let mismatch = FormatError("checkpoint: '\(path)' does not match its sha256 in \(manifestName) (corrupted or modified)")
            func verify(_ b: UnsafeRawBufferPointer) throws {
                guard b.count == e.size, SHA256.hex(b) == e.sha256 else { throw mismatch }
            }
            switch (how, e.name.hasSuffix(".safetensors")) {
            case (.mapped, true):
                let map = try FileIO.map(path, what: "checkpoint")
                try verify(map.bytes)
                decoded[e.name] = try Safetensors.decode(map.bytes, source: path, keeping: map)
            case (.streamed, true):
                decoded[e.name] = try Safetensors.readStreaming(path: path, size: e.size, what: "checkpoint") { h in
                    guard h.finalizeHex() == e.sha256 else { throw mismatch }
                }
            default:
                let bytes = try FileIO.readAll(path, maxBytes: e.size, what: "checkpoint")
                try bytes.withUnsafeBytes { try verify($0) }
                out[e.name] = bytes
            }
        }
        return (out, decoded)
    }

    /// Decodes the bytes of a safetensors file read from a checkpoint; `source` names it in errors.
    public static func tensors(_ bytes: [UInt8], source: String) throws -> SafetensorsFile {
        try bytes.withUnsafeBytes { try Safetensors.decode($0, source: source) }
    }
}
