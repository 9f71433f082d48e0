// FileIO: the POSIX file plumbing of the formats: whole-file reads with a size cap, read-only memory
// maps, a writer that loops over short writes and hashes what it writes, fsync of files and directories,
// and atomic replacement of one file (temp in the same directory, fsync, rename, fsync the directory).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum FileIO {
    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Directory part of `path` ("." when there is none).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }
    /// Last path component of `path` (trailing slashes ignored).
    static func baseName(_ path: String) -> String {
        let p = stripTrailingSlashes(path)
        guard let slash = p.lastIndex(of: "/") else { return p }
        return String(p[p.index(after: slash)...])
    }
    static func stripTrailingSlashes(_ path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }

    static func exists(_ path: String) -> Bool { var st = stat(); return lstat(path, &st) == 0 }
    static func isDirectory(_ path: String) -> Bool {
        var st = stat(); return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Reads the whole regular file at `path`, refusing files larger than `maxBytes`.
    static func readAll(_ path: String, maxBytes: Int, what: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FormatError("\(what): cannot open '\(path)': \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw FormatError("\(what): '\(path)' is not a regular file") }
        let size = Int(st.st_size)
        guard size <= maxBytes else { throw FormatError("\(what): '\(path)' is too large (\(size) bytes, at most \(maxBytes))") }
        var out = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FormatError("\(what): cannot read '\(path)': \(n == 0 ? "file shrank while reading" : errnoText())") }
            done += n
        }
        return out
    }

    /// fsyncs the directory at `path` so a rename inside it is durable.
    static func syncDirectory(_ path: String, what: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FormatError("\(what): cannot open directory '\(path)': \(errnoText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FormatError("\(what): cannot sync directory '\(path)': \(errnoText())") }
    }

    static func rename(_ from: String, _ to: String, what: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw FormatError("\(what): cannot rename '\(from)' to '\(to)': \(errnoText())") }
    }

    /// Writes a new file at `path` through `body` and fsyncs it (no rename). Fails if `path` exists.
    static func create(_ path: String, what: String, _ body: (inout FileWriter) throws -> Void) throws -> FileWriter {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FormatError("\(what): cannot create '\(path)': \(errnoText())") }
        var w = FileWriter(fd: fd, path: path, what: what)
        do {
            try body(&w)
            guard fsync(fd) == 0 else { throw FormatError("\(what): cannot sync '\(path)': \(errnoText())") }
            guard close(fd) == 0 else { w.closed = true; throw FormatError("\(what): cannot close '\(path)': \(errnoText())") }
            w.closed = true
        } catch {
            if !w.closed { close(fd) }
            unlink(path)
            throw error
        }
        return w
    }

    /// Atomically replaces `path` with what `body` writes: temp file in the same directory, fsync,
    /// rename over `path`, fsync the directory. On error the temp file is removed and `path` is untouched.
    @discardableResult
    static func writeAtomically(_ path: String, what: String, _ body: (inout FileWriter) throws -> Void) throws -> FileWriter {
        guard !isDirectory(path) else { throw FormatError("\(what): cannot write '\(path)': it is a directory") }
        let dir = directory(of: path)
        let tmp = (dir == "/" ? "" : dir) + "/." + baseName(path) + ".tmp-\(getpid())"
        unlink(tmp)    // a leftover of this pid from an earlier crash
        let w = try create(tmp, what: what, body)
        do { try rename(tmp, path, what: what) } catch { unlink(tmp); throw error }
        try syncDirectory(dir, what: what)
        return w
    }
}

/// A sequential writer over a file descriptor that counts and (optionally) hashes the bytes written.
struct FileWriter {
    let fd: Int32
    let path: String
    let what: String
    var closed = false
    private(set) var bytesWritten = 0
    var hasher: SHA256? = nil

    init(fd: Int32, path: String, what: String) { self.fd = fd; self.path = path; self.what = what }

    mutating func write(_ buf: UnsafeRawBufferPointer) throws {
        hasher?.update(buf)
        var done = 0
        while done < buf.count {
            let n = Glibc.write(fd, buf.baseAddress! + done, buf.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FormatError("\(what): cannot write '\(path)': \(FileIO.errnoText())") }
            done += n
        }
        bytesWritten += buf.count
    }

    mutating func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
}

/// A read-only memory map of a whole regular file (an empty file maps to an empty buffer).
final class MappedFile {
    let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?

    init(_ path: String, what: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FormatError("\(what): cannot open '\(path)': \(FileIO.errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw FormatError("\(what): '\(path)' is not a regular file") }
        let size = Int(st.st_size)
        if size == 0 { base = nil; bytes = UnsafeRawBufferPointer(start: nil, count: 0); return }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw FormatError("\(what): cannot map '\(path)': \(FileIO.errnoText())")
        }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit { if let base { munmap(base, bytes.count) } }
}
