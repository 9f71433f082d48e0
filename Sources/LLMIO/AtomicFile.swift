// AtomicFile: the one atomic-write helper of the engine (checkpoints, safetensors, JSONL, shards, tokenizer
// files). A new file is written as a hidden temporary sibling (`.<name>.tmp-<pid>-<n>`), fsynced, renamed over
// the target, and the folder fsynced: readers see the old file or the complete new one, never a partial one.
// On failure (or `abort()`) the temporary file is removed and the target is untouched. Opens, renames and
// removals go through ``Files`` (the sandbox's file policy).
import Synchronization
#if canImport(Glibc)
    import Glibc
#endif

/// A sequential writer over a descriptor that loops over short writes and counts the bytes; `tap` sees
/// every buffer written (a hash of the file, say).
public struct FileWriter {
    /// The descriptor written to (owned by whoever opened it).
    public let fd: Int32
    /// The path as the caller gave it (for messages).
    public let path: String
    /// What is being written, the prefix of error messages (`checkpoint`, `safetensors`).
    public let what: String
    /// Bytes written so far.
    public private(set) var bytesWritten = 0
    /// Called with every buffer before it is written.
    public var tap: ((UnsafeRawBufferPointer) -> Void)? = nil

    public init(fd: Int32, path: String, what: String) { self.fd = fd; self.path = path; self.what = what }

    /// Writes all of `buf` (looping over short writes and EINTR).
    public mutating func write(_ buf: UnsafeRawBufferPointer) throws {
        tap?(buf)
        var done = 0
        while done < buf.count {
            let n = Glibc.write(fd, buf.baseAddress! + done, buf.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FileError.system(what, "write", path) }
            done += n
        }
        bytesWritten += buf.count
    }

    /// Writes all of `bytes`.
    public mutating func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// fsync then close.
    func finish() throws {
        guard fsync(fd) == 0 else { let e = errno; close(fd); throw FileError.system(what, "sync", path, e) }
        guard close(fd) == 0 else { throw FileError.system(what, "close", path) }
    }
}

private let atomicFileCounter = Atomic<Int>(0)

/// A file being written atomically: write through ``writer``, then ``commit()`` or ``abort()``.
///
/// ```swift
/// let f = try AtomicFile("out/data.jsonl", what: "write")
/// try f.writer.write(Array("{}\n".utf8))
/// try f.commit()
/// ```
public final class AtomicFile {
    /// The file replaced on ``commit()``.
    public let path: String
    let temp: String
    /// Writes into the temporary sibling.
    public var writer: FileWriter
    private var done = false

    /// Creates the temporary sibling of `path` (a folder at `path` is an error).
    public init(_ path: String, what: String) throws {
        guard !Files.isDirectory(path) else { throw FileError("\(what): cannot write '\(path)': it is a directory") }
        let dir = Files.directory(of: path)
        let n = atomicFileCounter.add(1, ordering: .relaxed).newValue  // writers of one path in one process
        temp = (dir == "/" ? "" : dir) + "/." + Files.baseName(path) + ".tmp-\(getpid())-\(n)"
        try? Files.remove(temp, what: what)  // a leftover of an earlier process with this pid
        self.path = path
        let fd: Int32
        do { fd = try Files.open(temp, O_WRONLY | O_CREAT | O_EXCL, what: what) } catch let e as FileError where e.denied {
            throw Files.denial(path, write: true) ?? e  // name the file the caller asked for, not the temporary one
        }
        writer = FileWriter(fd: fd, path: path, what: what)
    }

    /// fsync, rename over the target, fsync the folder.
    public func commit() throws {
        guard !done else { return }
        done = true
        do {
            try writer.finish()
            try Files.rename(temp, path, what: writer.what)
        } catch { try? Files.remove(temp, what: writer.what); throw error }
        try Files.syncDirectory(Files.directory(of: path), what: writer.what)
    }

    /// Drops the temporary file; the target is untouched.
    public func abort() {
        guard !done else { return }
        done = true
        close(writer.fd)
        try? Files.remove(temp, what: writer.what)
    }

    deinit { abort() }
}

extension Files {
    /// Atomically replaces `path` with what `body` writes (see ``AtomicFile``). Returns the writer (byte count).
    @discardableResult
    public static func writeAtomically(_ path: String, what: String, _ body: (inout FileWriter) throws -> Void) throws -> FileWriter {
        let f = try AtomicFile(path, what: what)
        do { try body(&f.writer) } catch { f.abort(); throw error }
        try f.commit()
        return f.writer
    }

    /// Writes a new file at `path` through `body` and fsyncs it (no rename); fails if `path` exists.
    /// On error the partial file is removed.
    @discardableResult
    public static func create(_ path: String, what: String, _ body: (inout FileWriter) throws -> Void) throws -> FileWriter {
        let fd = try open(path, O_WRONLY | O_CREAT | O_EXCL, what: what)
        var w = FileWriter(fd: fd, path: path, what: what)
        do { try body(&w) } catch { close(fd); try? remove(path, what: what); throw error }
        do { try w.finish() } catch { try? remove(path, what: what); throw error }
        return w
    }
}
