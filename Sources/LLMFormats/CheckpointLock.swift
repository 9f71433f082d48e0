// RunFolderLock: an exclusive lock on a run folder, so that two runs never write one folder at once
// (interleaved metrics.jsonl, checkpoints pruned under each other). flock(LOCK_EX | LOCK_NB) on
// `<dir>/.lock`, which also records the holder's pid for the error the second run gets. The lock lives
// as long as its open file descriptor: release() or deinit drop it, and so does the kernel when the
// process dies, so a crashed run never leaves a stale lock. Locks are per open file, so a second lock
// on the same folder fails even inside the same process.
import Foundation
import LLMIO

/// An exclusive, advisory lock on a run folder (`<dir>/.lock`).
///
/// ```swift
/// let lock = try RunFolderLock(dir: "runs/a")   // throws when another run holds it
/// let stale = try lock.removeStaleTemporaries() // leftovers of interrupted checkpoint writes
/// lock.release()
/// ```
public final class RunFolderLock: @unchecked Sendable {
    /// Name of the lock file inside the folder.
    public static let fileName = ".lock"

    /// The locked folder (without trailing slashes).
    public let dir: String
    private var fd: Int32
    private let mutex = NSLock()

    /// True until ``release()``.
    public var isHeld: Bool { mutex.lock(); defer { mutex.unlock() }; return fd >= 0 }

    /// Creates `dir` when missing, then takes the lock without waiting.
    /// - Throws: ``FormatError`` naming the folder (and the holder's pid when readable) when another run
    ///   holds it, or when the folder or lock file cannot be created.
    public init(dir rawDir: String) throws {
        var d = rawDir
        while d.count > 1 && d.hasSuffix("/") { d.removeLast() }
        guard !d.isEmpty, !d.utf8.contains(0) else { throw FormatError("run folder: invalid path '\(rawDir)'") }
        dir = d
        try FileIO.makeDirectories(d, what: "run folder '\(d)'")  // through the sandbox's file policy (LLMIO)
        let path = d + "/" + Self.fileName
        // O_NOFOLLOW: a symlink planted as `.lock` must not make the pid overwrite another file
        let f = try FileIO.formatted { try Files.open(path, O_RDWR | O_CREAT | O_NOFOLLOW, what: "run folder '\(d)'") }
        var st = stat()
        guard fstat(f, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(f)
            throw FormatError("run folder '\(d)': '\(path)' is not a regular file")
        }
        if flock(f, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            let holder = Self.readPID(f)
            close(f)
            guard e == EWOULDBLOCK else {
                throw FormatError("run folder '\(d)': cannot lock '\(path)': \(String(cString: strerror(e)))")
            }
            let who = holder.map { $0 == getpid() ? " (pid \($0): this process)" : " (pid \($0))" } ?? ""
            throw FormatError("run folder '\(d)' is in use by another run\(who); wait for it to end or choose another folder")
        }
        fd = f
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(f, 0)
        _ = text.withUnsafeBytes { pwrite(f, $0.baseAddress, $0.count, 0) }
    }

    deinit { release() }

    /// Drops the lock (idempotent). The lock file stays; it is reused by the next run.
    public func release() {
        mutex.lock(); defer { mutex.unlock() }
        if fd >= 0 { close(fd); fd = -1 }
    }

    /// Removes the leftovers of interrupted checkpoint writes in the locked folder (every writer of this
    /// folder is this process, so each is stale); see ``Checkpoint/removeStaleTemporaries(parent:)``.
    /// - Throws: when the lock was released, or a leftover cannot be removed.
    public func removeStaleTemporaries() throws -> [String] {
        guard isHeld else { throw FormatError("run folder '\(dir)': the lock was released; stale files are only removed under it") }
        return try Checkpoint.removeStaleTemporaries(parent: dir)
    }

    /// The pid recorded in an open lock file, if it holds one.
    static func readPID(_ f: Int32) -> Int32? {
        var buf = [UInt8](repeating: 0, count: 32)
        let n = buf.withUnsafeMutableBytes { pread(f, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let pid = Int32(text), pid > 0 else { return nil }
        return pid
    }
}
