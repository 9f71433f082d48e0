// Streaming safetensors reader: reads a file in one pass with a single copy of its data in memory. The
// header is read and validated first (the same checks and messages as `Safetensors.decode`), then each
// tensor's storage is allocated and its bytes are read straight into it, in file order. Every byte of the
// file goes through a SHA-256 hasher as it streams, and the whole file is always hashed, a malformed one
// too, before the caller's `verify` sees the digest: a file that fails `verify` is refused with its error
// before any decode error, and no tensor is returned unless `verify` passed (the partly read ones are freed).
import LLMCore
#if canImport(Glibc)
    import Glibc
#endif

extension Safetensors {
    /// Bytes read (and hashed) per read(2) call, so each piece is hashed while it is still in cache.
    static let streamChunkBytes = 4 << 20

    /// Reads the regular file at `path` (through the sandbox's file policy), of at most `size` bytes, into
    /// tensors that own their memory. `verify`, when given, gets the SHA-256 of the whole file, after it was
    /// read to its end and before anything is returned or a format error is thrown; it throws to refuse the
    /// file. `what` starts IO error messages (`checkpoint: cannot read '<path>': ...`).
    static func readStreaming(
        path: String, size: Int = .max, what: String, verify: ((inout SHA256) throws -> Void)? = nil
    ) throws -> SafetensorsFile {
        let fd = try FileIO.openForReading(path, what: what)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw FormatError("\(what): '\(path)' is not a regular file") }
        guard Int(st.st_size) <= size else { throw FormatError("\(what): '\(path)' is too large (\(st.st_size) bytes, at most \(size))") }
        var reader = HashingReader(fd: fd, remaining: Int(st.st_size), path: path, what: what, hashing: verify != nil)
        let decoded: Result<SafetensorsFile, any Error>
        do { decoded = .success(try streamDecode(&reader, source: path)) } catch { decoded = .failure(error) }
        if let e = reader.ioError { throw e }
        if let verify {
            try reader.drain()  // a malformed file is still hashed to its end: a modified one fails `verify` first
            try verify(&reader.hash)
        }
        return try decoded.get()
    }

    /// Reads the header, then each tensor's data into its own storage, from `r` (positioned at the start).
    private static func streamDecode(_ r: inout HashingReader, source: String) throws -> SafetensorsFile {
        let fail = failure(source), fileSize = r.remaining
        var prefix: UInt64 = 0
        try withUnsafeMutableBytes(of: &prefix) { try r.read(into: $0.baseAddress!, count: min(8, fileSize)) }
        let headerLen = try withUnsafeBytes(of: prefix) { try headerLength($0, fileSize: fileSize, fail: fail) }
        var header = [UInt8](repeating: 0, count: headerLen)
        try header.withUnsafeMutableBytes { b in try b.baseAddress.map { try r.read(into: $0, count: headerLen) } }  // nil: empty
        let layout = try header.withUnsafeBufferPointer { try Layout(header: $0, fileSize: fileSize, fail: fail) }
        header = []
        var tensors: [String: Tensor] = [:]
        for e in layout.entries {  // in offset order, tiling the data: the reads follow the file
            let t = try allocate(e, fail: fail)
            try r.read(into: t.rawPointer, count: e.end - e.begin)
            tensors[e.name] = t
        }
        return layout.file(tensors)
    }
}

/// Sequential reads of a descriptor that feed a SHA-256 hasher (when `hashing`), never past the expected size.
private struct HashingReader {
    let fd: Int32
    /// Bytes of the file not read yet.
    var remaining: Int
    let path: String, what: String
    let hashing: Bool
    var hash = SHA256()
    /// The first read failure (a system error, or the file shrinking), kept so that it is never mistaken
    /// for a format problem of the file.
    var ioError: FormatError?

    init(fd: Int32, remaining: Int, path: String, what: String, hashing: Bool) {
        self.fd = fd; self.remaining = remaining; self.path = path; self.what = what; self.hashing = hashing
    }

    /// Reads exactly `count` bytes into `to` (and hashes them).
    mutating func read(into to: UnsafeMutableRawPointer, count: Int) throws {
        precondition(count <= remaining, "HashingReader: read past the expected end")
        var done = 0
        while done < count {
            let n = Glibc.read(fd, to + done, min(count - done, Safetensors.streamChunkBytes))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e =
                    n == 0
                    ? FormatError("\(what): cannot read '\(path)': file shrank while reading")
                    : FormatError("\(what): cannot read '\(path)': \(FileIO.errnoText())")
                ioError = e
                throw e
            }
            if hashing { hash.update(UnsafeRawBufferPointer(start: to + done, count: n)) }
            done += n
        }
        remaining -= count
    }

    /// Reads (and hashes) the rest of the file.
    mutating func drain() throws {
        guard remaining > 0 else { return }
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: min(remaining, Safetensors.streamChunkBytes), alignment: 64)
        defer { chunk.deallocate() }
        while remaining > 0 { try read(into: chunk, count: min(remaining, Safetensors.streamChunkBytes)) }
    }
}
