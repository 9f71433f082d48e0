// MappedFile: the one read-only memory map of the engine (safetensors, token shards): the whole regular file,
// opened through ``Files`` (the sandbox's file policy), mapped MAP_PRIVATE and unmapped on deinit.
#if canImport(Glibc)
    import Glibc
#endif

/// A read-only memory map of a whole regular file (an empty file maps to an empty buffer).
///
/// ```swift
/// let m = try MappedFile("model.safetensors", what: "safetensors")
/// let header = m.bytes.prefix(8)
/// ```
public final class MappedFile: @unchecked Sendable {
    /// The file's bytes, valid as long as this object.
    public let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?

    /// Maps the regular file at `path` (opened through ``Files/open(_:_:mode:what:)``, so under the policy).
    public init(_ path: String, what: String) throws {
        let fd = try Files.open(path, O_RDONLY, what: what)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw FileError("\(what): '\(path)' is not a regular file") }
        let size = Int(st.st_size)
        if size == 0 { base = nil; bytes = UnsafeRawBufferPointer(start: nil, count: 0); return }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw FileError.system(what, "map", path)
        }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit { if let base { munmap(base, bytes.count) } }
}
