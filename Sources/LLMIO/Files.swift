// Files: every open, stat, listing, folder creation, rename and removal of the engine's readers and writers.
// Each goes through the file policy in force (FileAccess.policy): nil acts on the plain path; a policy
// resolves the path beneath an allowed folder (CLLMIO), so a sandboxed recipe cannot reach outside it,
// through `..`, a symbolic link, or a link swapped in by another process. Errors are FileErrors whose
// message names the path as the caller gave it (never a resolved one).
import CLLMIO
#if canImport(Glibc)
    import Glibc
#endif

/// File-system operations through the current ``FileAccess/policy``.
///
/// ```swift
/// let fd = try Files.open("data/a.txt", O_RDONLY, what: "corpus")
/// defer { close(fd) }
/// ```
public enum Files {
    /// Throws the denial or the system error of a failed llmio call (`r < 0`).
    static func check(_ r: Int32, _ denied: Int32, _ path: String, write: Bool, what: String, verb: String) throws {
        guard r < 0 else { return }
        if denied != 0, let e = denial(path, write: write, reason: denied) { throw e }
        throw FileError.system(what, verb, path)
    }

    /// The policy's denial of `path` as a FileError (nil without a policy).
    static func denial(_ path: String, write: Bool, reason: Int32 = LLMIO_DENIED_OUTSIDE) -> FileError? {
        FileAccess.policy.map { FileError($0.denialMessage(path, write: write, reason: reason), denied: true, code: EACCES) }
    }

    /// The policy's refusal of reading `path` (or, with `write`, of creating it), or nil when it is allowed
    /// or no policy is in force. For telling a refused path from a missing one.
    public static func refusal(_ path: String, write: Bool = false) -> FileError? {
        guard let p = FileAccess.policy else { return nil }
        var denied: Int32 = 0
        let fd: Int32
        if write {
            var name = [CChar](repeating: 0, count: 256)
            fd = llmio_open_parent(p.raw, path, 1, &name, name.count, &denied)
        } else {
            fd = llmio_open(p.raw, path, LLMIO_O_PATH, 0, &denied)
        }
        if fd >= 0 { close(fd) }
        return denied != 0 ? denial(path, write: write, reason: denied) : nil
    }

    /// Opens `path` (open(2) flags; O_CLOEXEC is added) and returns the descriptor; the caller closes it.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644, what: String) throws -> Int32 {
        var denied: Int32 = 0
        let fd = llmio_open(FileAccess.policy?.raw, path, flags, mode, &denied)
        let write = flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND) != 0
        try check(fd, denied, path, write: write, what: what, verb: flags & O_EXCL != 0 ? "create" : "open")
        return fd
    }

    /// stat(2) of `path` (following links that stay inside the allowed folders); nil when it does not exist
    /// or may not be read.
    public static func info(_ path: String, followLinks: Bool = true) -> stat? {
        guard let fd = try? open(path, LLMIO_O_PATH | (followLinks ? 0 : O_NOFOLLOW), what: "stat") else { return nil }
        defer { close(fd) }
        var st = stat()
        return fstat(fd, &st) == 0 ? st : nil
    }
    /// True when something (a link included) exists at `path`.
    public static func exists(_ path: String) -> Bool { info(path, followLinks: false) != nil }
    /// True when `path` is a folder (after links).
    public static func isDirectory(_ path: String) -> Bool { info(path).map { ($0.st_mode & S_IFMT) == S_IFDIR } ?? false }
    /// True when `path` is a regular file (after links).
    public static func isRegularFile(_ path: String) -> Bool { info(path).map { ($0.st_mode & S_IFMT) == S_IFREG } ?? false }

    /// Reads the whole regular file at `path`, refusing files larger than `maxBytes`.
    public static func readAll(_ path: String, maxBytes: Int, what: String) throws -> [UInt8] {
        let fd = try open(path, O_RDONLY, what: what)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw FileError("\(what): '\(path)' is not a regular file") }
        let size = Int(st.st_size)
        guard size <= maxBytes else { throw FileError("\(what): '\(path)' is too large (\(size) bytes, at most \(maxBytes))") }
        var out = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw n == 0 ? FileError("\(what): cannot read '\(path)': file shrank while reading") : FileError.system(what, "read", path)
            }
            done += n
        }
        return out
    }

    /// Names in the folder `path` (without `.` and `..`), unsorted.
    public static func list(_ path: String, what: String) throws -> [String] {
        let fd = try open(path, O_RDONLY | O_DIRECTORY, what: what)
        guard let d = fdopendir(fd) else { let e = errno; close(fd); throw FileError.system(what, "list", path, e) }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Creates the folder `path` (its parent must exist).
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755, what: String) throws {
        var denied: Int32 = 0
        try check(llmio_mkdir(FileAccess.policy?.raw, path, mode, &denied), denied, path, write: true, what: what, verb: "create")
    }

    /// Creates the folder `path` and its missing parents (like `mkdir -p`); fine when it exists. Under a
    /// policy, parents above the allowed folders are not created (a denial there is passed over: only the
    /// folders inside count, each created through the policy, and `path` itself must be allowed).
    public static func makeDirectories(_ path: String, what: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        for (i, part) in parts.enumerated() {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
            let last = i == parts.count - 1
            if (part == "." || part == "..") && !last { continue }
            if isDirectory(prefix) { continue }
            do { try makeDirectory(prefix, what: what) } catch let e as FileError {
                if e.denied && !last { continue }
                guard e.code == EEXIST else { throw e }
                guard isDirectory(prefix) else { throw FileError("\(what): '\(prefix)' exists and is not a folder") }
            }
        }
    }

    /// Removes the file (or, with `directory`, the empty folder) `path`; links are removed, not followed.
    public static func remove(_ path: String, directory: Bool = false, what: String) throws {
        var denied: Int32 = 0
        try check(llmio_remove(FileAccess.policy?.raw, path, directory ? 1 : 0, &denied), denied, path, write: true, what: what, verb: "remove")
    }

    /// Removes `path` and everything below it, from folder descriptors (`unlinkat`; links are never followed).
    /// Fine when `path` does not exist.
    public static func removeTree(_ path: String, what: String) throws {
        var denied: Int32 = 0
        var name = [CChar](repeating: 0, count: 256)
        let parent = llmio_open_parent(FileAccess.policy?.raw, path, 1, &name, name.count, &denied)
        try check(parent, denied, path, write: true, what: what, verb: "remove")
        defer { close(parent) }
        try removeTree(at: parent, string(fromCBuffer: name), shown: path, what: what)
    }

    private static func removeTree(at parentFd: Int32, _ name: String, shown: String, what: String) throws {
        if unlinkat(parentFd, name, 0) == 0 || errno == ENOENT { return }
        guard errno == EISDIR || errno == EPERM else { throw FileError.system(what, "remove", shown) }
        let fd = openat(parentFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.system(what, "remove", shown) }
        guard let d = fdopendir(fd) else { close(fd); throw FileError.system(what, "remove", shown) }
        var names: [String] = []
        while let e = readdir(d) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if n != "." && n != ".." { names.append(n) }
        }
        for n in names { try removeTree(at: dirfd(d), n, shown: shown + "/" + n, what: what) }
        closedir(d)
        guard unlinkat(parentFd, name, AT_REMOVEDIR) == 0 || errno == ENOENT else { throw FileError.system(what, "remove", shown) }
    }

    /// Renames `from` to `to` (both inside writable folders when a policy is in force).
    public static func rename(_ from: String, _ to: String, what: String) throws {
        var denied: Int32 = 0
        let r = llmio_rename(FileAccess.policy?.raw, from, to, &denied)
        guard r < 0 else { return }
        if denied != 0 {
            var name = [CChar](repeating: 0, count: 256), d: Int32 = 0
            let fd = llmio_open_parent(FileAccess.policy?.raw, from, 1, &name, name.count, &d)
            if fd >= 0 { close(fd) }
            if let e = denial(d != 0 ? from : to, write: true, reason: d != 0 ? d : denied) { throw e }
        }
        throw FileError("\(what): cannot rename '\(from)' to '\(to)': \(String(cString: strerror(errno)))", code: errno)
    }

    /// fsyncs the folder `path` so that a rename inside it is durable.
    public static func syncDirectory(_ path: String, what: String) throws {
        let fd = try open(path, O_RDONLY | O_DIRECTORY, what: what)
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileError.system(what, "sync folder", path) }
    }

    /// Folder part of `path` ("." when there is none, "/" for a file at the root).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }
    /// Last component of `path` (trailing slashes ignored).
    public static func baseName(_ path: String) -> String {
        let p = stripTrailingSlashes(path)
        guard let slash = p.lastIndex(of: "/") else { return p }
        return String(p[p.index(after: slash)...])
    }
    /// `path` without trailing slashes (except a lone "/").
    public static func stripTrailingSlashes(_ path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }
}
