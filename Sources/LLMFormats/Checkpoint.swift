// Checkpoint: a directory of files committed atomically. Everything is written into `<dir>.tmp-<pid>`,
// each file fsynced, the manifest `checkpoint.json` (format, version, every file's size and sha256)
// written last, the directory fsynced, then renamed to `<dir>` (an existing checkpoint is moved to
// `<dir>.old-<pid>` first and deleted after). A crash never leaves a partial checkpoint under `<dir>`.
import Foundation
import LLMCore

/// One file of a checkpoint.
public enum CheckpointFile: @unchecked Sendable {
    /// Raw bytes (JSON state, text).
    case bytes([UInt8])
    /// A safetensors file.
    case tensors([String: Tensor], metadata: [String: String]?)
}

/// Writes, verifies and prunes checkpoint directories.
///
/// ```swift
/// try Checkpoint.write(dir: "runs/a/step-000100", files: [
///     "model.safetensors": .tensors(model, metadata: ["format": "pt"]),
///     "state.json": .bytes(Array(#"{"step":100}"#.utf8))])
/// let files = try Checkpoint.read(dir: "runs/a/step-000100")   // verified bytes by name
/// ```
public enum Checkpoint {
    /// Name of the manifest, the commit marker written last.
    public static let manifestName = "checkpoint.json"
    static let formatName = "llmscript-checkpoint"
    static let version: Int64 = 1

    /// Checks a file name for use inside a checkpoint: `[A-Za-z0-9._-]`, not hidden, not the manifest.
    public static func validate(fileName n: String) throws {
        let ok =
            !n.isEmpty && n.utf8.count <= 200 && !n.hasPrefix(".") && n != manifestName
            && n.utf8.allSatisfy { c in (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D }
        guard ok else {
            throw FormatError("checkpoint: invalid file name '\(n)' (use letters, digits, '.', '_', '-'; not hidden, not '\(manifestName)')")
        }
    }

    /// Writes `files` as the checkpoint `dir`, replacing an existing one atomically.
    /// - Parameter faultHook: testing aid, called with `file:<name>`, `manifest` and `swap` at each phase;
    ///   throwing from it aborts the write as a failure at that point would.
    public static func write(
        dir rawDir: String, files: [String: CheckpointFile],
        faultHook: ((String) throws -> Void)? = nil
    ) throws {
        let dir = FileIO.stripTrailingSlashes(rawDir)
        guard !dir.isEmpty, !["", ".", "..", "/"].contains(FileIO.baseName(dir)) else {
            throw FormatError("checkpoint: invalid directory '\(rawDir)'")
        }
        for name in files.keys { try validate(fileName: name) }
        let parent = FileIO.directory(of: dir)
        try FileIO.makeDirectories(parent, what: "checkpoint")
        if FileIO.exists(dir) && !FileIO.isDirectory(dir) { throw FormatError("checkpoint: '\(dir)' exists and is not a directory") }
        let pid = getpid()
        let tmp = "\(dir).tmp-\(pid)", trash = "\(dir).old-\(pid)"
        try? FileIO.removeTree(tmp, what: "checkpoint")  // leftover of a crashed writer with our pid
        try FileIO.makeDirectory(tmp, what: "checkpoint")
        do {
            var entries: [JSONValue] = []
            for name in Safetensors.sortedNames(files.keys) {
                var h = SHA256()
                let w = try FileIO.create(tmp + "/" + name, what: "checkpoint") { w in
                    w.tap = { h.update($0) }
                    switch files[name]! {
                    case .bytes(let b): try w.write(b)
                    case .tensors(let ts, let md): try Safetensors.stream(ts, metadata: md, into: &w)
                    }
                }
                entries.append(
                    .object([
                        JSONMember("name", .string(name)), JSONMember("size", .int(Int64(w.bytesWritten))),
                        JSONMember("sha256", .string(h.finalizeHex()))
                    ]))
                try faultHook?("file:\(name)")
            }
            let manifest = JSONValue.object([
                JSONMember("format", .string(formatName)), JSONMember("version", .int(version)),
                JSONMember("files", .array(entries))
            ])
            let text = try JSONWriter.string(manifest, indent: 2) + "\n"
            _ = try FileIO.create(tmp + "/" + manifestName, what: "checkpoint") { w in try w.write(Array(text.utf8)) }
            try FileIO.syncDirectory(tmp, what: "checkpoint")
            try faultHook?("manifest")
        } catch {
            try? FileIO.removeTree(tmp, what: "checkpoint")
            throw error
        }
        try commit(tmp: tmp, dir: dir, trash: trash, parent: parent, faultHook: faultHook)
    }

    /// Renames the finished `tmp` to `dir`, moving an existing `dir` aside first and deleting it after.
    private static func commit(
        tmp: String, dir: String, trash: String, parent: String,
        faultHook: ((String) throws -> Void)?
    ) throws {
        var movedOld = false
        do {
            if FileIO.exists(dir) {
                try? FileIO.removeTree(trash, what: "checkpoint")
                try FileIO.rename(dir, trash, what: "checkpoint")
                movedOld = true
                try faultHook?("swap")
            }
            try FileIO.rename(tmp, dir, what: "checkpoint")
        } catch {
            if movedOld { try? FileIO.rename(trash, dir, what: "checkpoint") }  // put the old checkpoint back
            try? FileIO.removeTree(tmp, what: "checkpoint")
            throw error
        }
        try FileIO.syncDirectory(parent, what: "checkpoint")
        if movedOld { try? FileIO.removeTree(trash, what: "checkpoint") }
    }
}
