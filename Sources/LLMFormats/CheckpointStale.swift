// Stale temporaries of interrupted checkpoint writes. Checkpoint.write stages `<dir>.tmp-<pid>`, moves a
// checkpoint it replaces to `<dir>.old-<pid>`, and prune renames to `<dir>.deleting-<pid>` before deleting;
// atomic single-file writes stage `.<name>.tmp-<pid>`. A crash can leave any of them behind. Once a run
// holds its folder's lock (RunFolderLock) no other process writes there, so every such name is stale:
// `.tmp-` and `.deleting-` ones are removed; an `.old-` one is the only copy of its checkpoint when the
// crash came between the two renames of a replacement, so it is renamed back when `<dir>` is missing
// and removed otherwise.
import Foundation

extension Checkpoint {
    /// The kind of leftover a name is, and the name it was staged for: `step-000100.tmp-42` ->
    /// (`tmp`, `step-000100`); nil for any other name.
    static func staleKind(_ name: String) -> (kind: String, base: String)? {
        for kind in ["tmp", "old", "deleting"] {
            guard let r = name.range(of: ".\(kind)-", options: .backwards) else { continue }
            let base = String(name[..<r.lowerBound]), rest = name[r.upperBound...]
            guard !base.isEmpty, let first = rest.utf8.first, first >= 0x30 && first <= 0x39 else { continue }
            return (kind, base)
        }
        return nil
    }

    /// Removes (or, for an orphaned `.old-` checkpoint, restores) the leftovers of interrupted writes in
    /// `parent`. Call it only while holding the folder's lock. Returns the paths removed or restored.
    @discardableResult
    public static func removeStaleTemporaries(parent rawParent: String) throws -> [String] {
        var parent = rawParent
        while parent.count > 1 && parent.hasSuffix("/") { parent.removeLast() }
        let names = try FileIO.list(parent, what: "checkpoint")  // every operation through LLMIO's file policy
        var done: [String] = []
        for name in names.sorted() {
            guard let (kind, base) = staleKind(name) else { continue }
            let path = parent + "/" + name, target = parent + "/" + base
            if kind == "old" && !FileIO.exists(target) && (try? FileIO.rename(path, target, what: "checkpoint")) != nil {
                done.append(path)
                continue
            }
            try FileIO.removeTree(path, what: "checkpoint: stale '\(path)'")
            done.append(path)
        }
        return done
    }
}
