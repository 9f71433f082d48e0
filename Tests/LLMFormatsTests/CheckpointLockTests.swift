// CheckpointLockTests: the run-folder lock (exclusive within and across open files, the holder's pid in
// the error, release and deinit free it) and the removal of stale temporaries of interrupted checkpoint
// writes (which names count, an orphaned `.old-` checkpoint restored, only under a held lock).
import Foundation
import Testing
@testable import LLMFormats

@Suite struct CheckpointLockTests {
    @Test func lockIsExclusiveAndReleased() throws {
        let dir = tempDir("lock") + "/run/"
        let lock = try RunFolderLock(dir: dir)
        #expect(lock.isHeld && !lock.dir.hasSuffix("/"))
        let pid = String(getpid())
        let msg = errorText { _ = try RunFolderLock(dir: dir) }
        #expect(msg == "run folder '\(lock.dir)' is in use by another run (pid \(pid): this process); wait for it to end or choose another folder")
        lock.release()
        #expect(!lock.isHeld)
        do { _ = try RunFolderLock(dir: dir) }  // free again; released by deinit at once
        _ = try RunFolderLock(dir: dir)
        #expect(errorText { _ = try RunFolderLock(dir: "") }?.contains("invalid path") == true)
        // a symlink as the lock file is refused (the pid would overwrite its target)
        let other = tempDir("lock"), target = tempDir("lock") + "/victim"
        _ = FileManager.default.createFile(atPath: target, contents: Data("keep".utf8))
        try FileManager.default.createSymbolicLink(atPath: other + "/.lock", withDestinationPath: target)
        #expect(errorText { _ = try RunFolderLock(dir: other) }?.contains(other + "/.lock") == true)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep")
    }

    @Test func staleNames() {
        #expect(Checkpoint.staleKind("step-000100.tmp-42")! == ("tmp", "step-000100"))
        #expect(Checkpoint.staleKind(".model.safetensors.tmp-7")! == ("tmp", ".model.safetensors"))
        #expect(Checkpoint.staleKind("step-000001.old-3")! == ("old", "step-000001"))
        #expect(Checkpoint.staleKind("step-000001.deleting-3")! == ("deleting", "step-000001"))
        for name in ["step-000100", "notes.tmp", "a.tmp-x", ".tmp-5", "metrics.jsonl"] { #expect(Checkpoint.staleKind(name) == nil) }
    }

    @Test func removesStaleTemporariesUnderTheLock() throws {
        let dir = tempDir("stale")
        let fm = FileManager.default
        for d in ["step-000002.tmp-99", "step-000004.old-5", "step-000003", "step-000003.old-5", "step-000001.deleting-8"] {
            try fm.createDirectory(atPath: dir + "/" + d, withIntermediateDirectories: true)
        }
        _ = fm.createFile(atPath: dir + "/step-000004.old-5/checkpoint.json", contents: Data("{}".utf8))
        _ = fm.createFile(atPath: dir + "/keep.tmp", contents: Data())
        let lock = try RunFolderLock(dir: dir)
        let done = try lock.removeStaleTemporaries()
        #expect(
            done.map { String($0.dropFirst(dir.count + 1)) }
                == ["step-000001.deleting-8", "step-000002.tmp-99", "step-000003.old-5", "step-000004.old-5"])
        let left = try fm.contentsOfDirectory(atPath: dir).sorted()
        #expect(left == [".lock", "keep.tmp", "step-000003", "step-000004"])
        #expect(fm.fileExists(atPath: dir + "/step-000004/checkpoint.json"))  // the orphaned copy, restored
        lock.release()
        #expect(errorText { _ = try lock.removeStaleTemporaries() }?.contains("the lock was released") == true)
    }
}
