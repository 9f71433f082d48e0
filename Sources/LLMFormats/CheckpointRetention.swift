// Checkpoint retention over a parent directory of step-numbered checkpoints (`step-000100`): listing
// the complete ones in step order, and pruning to the last N plus explicitly kept ones (the best). The
// newest is never deleted; a pruned checkpoint is renamed aside before deletion so it never half-exists.
import Foundation

/// A complete checkpoint found under a parent directory.
public struct CheckpointEntry: Equatable, Sendable {
    /// The step parsed from the name (`step-000100` -> 100).
    public let step: Int
    /// Path of the checkpoint directory.
    public let path: String
}

extension Checkpoint {
    /// The conventional directory name of a step: `step-000100`.
    public static func stepName(_ step: Int) -> String {
        let s = String(step)
        return "step-" + String(repeating: "0", count: max(0, 6 - s.count)) + s
    }

    /// Complete checkpoints (those with a manifest) named `step-<digits>` under `parent`, by step;
    /// empty when `parent` does not exist.
    public static func list(parent rawParent: String) throws -> [CheckpointEntry] {
        let parent = FileIO.stripTrailingSlashes(rawParent)
        guard FileIO.exists(parent) else { return [] }
        guard FileIO.isDirectory(parent) else { throw FormatError("checkpoint: '\(parent)' is not a directory") }
        let names = try FileIO.list(parent, what: "checkpoint")
        var out: [CheckpointEntry] = []
        for n in names where n.hasPrefix("step-") {
            let digits = n.dropFirst(5)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let step = Int(digits) else { continue }
            let path = parent + "/" + n
            guard FileIO.isDirectory(path), FileIO.exists(path + "/" + manifestName) else { continue }
            out.append(CheckpointEntry(step: step, path: path))
        }
        return out.sorted { ($0.step, $0.path) < ($1.step, $1.path) }
    }

    /// Deletes complete step checkpoints under `parent` except the last `keepLast`, the newest, and those
    /// named in `keep` (paths or directory names). Returns the deleted paths.
    @discardableResult
    public static func prune(parent: String, keepLast: Int, keep: [String] = []) throws -> [String] {
        guard keepLast >= 1 else { throw FormatError("checkpoint: Invalid 'keepLast': expected an integer >= 1, got \(keepLast)") }
        let all = try list(parent: parent)
        let kept = Set(keep.map { FileIO.baseName($0) })
        var removed: [String] = []
        for (i, e) in all.enumerated() where i < all.count - keepLast && !kept.contains(FileIO.baseName(e.path)) {
            let aside = e.path + ".deleting-\(getpid())"
            try FileIO.rename(e.path, aside, what: "checkpoint")
            try FileIO.removeTree(aside, what: "checkpoint")
            removed.append(e.path)
        }
        return removed
    }
}
