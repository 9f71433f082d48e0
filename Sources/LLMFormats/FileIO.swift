// FileIO: the formats' view of the shared IO layer (LLMIO): the same operations, with LLMIO's FileError
// turned into this module's FormatError (a sandbox denial keeps its message unchanged). Every open, map,
// atomic write, rename and removal of safetensors and checkpoint files goes through here, so the sandbox's
// file policy (resolution beneath the allowed folders) applies to all of them.
import LLMIO
#if canImport(Glibc)
    import Glibc
#endif

typealias FileWriter = LLMIO.FileWriter

enum FileIO {
    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Opens `path` for reading through the file policy (the caller closes the descriptor).
    static func openForReading(_ path: String, what: String) throws -> Int32 {
        try formatted { try Files.open(path, O_RDONLY, what: what) }
    }
    /// Runs `body`, rethrowing an LLMIO FileError as a FormatError with the same message.
    static func formatted<R>(_ body: () throws -> R) throws -> R {
        do { return try body() } catch let e as FileError { throw FormatError(e.message) }
    }

    static func directory(of path: String) -> String { Files.directory(of: path) }
    static func baseName(_ path: String) -> String { Files.baseName(path) }
    static func stripTrailingSlashes(_ path: String) -> String { Files.stripTrailingSlashes(path) }
    static func exists(_ path: String) -> Bool { Files.exists(path) }
    static func isDirectory(_ path: String) -> Bool { Files.isDirectory(path) }
    static func size(_ path: String) -> Int? { Files.info(path).map { Int($0.st_size) } }

    static func readAll(_ path: String, maxBytes: Int, what: String) throws -> [UInt8] {
        try formatted { try Files.readAll(path, maxBytes: maxBytes, what: what) }
    }
    static func list(_ path: String, what: String) throws -> [String] { try formatted { try Files.list(path, what: what) } }
    static func makeDirectory(_ path: String, what: String) throws { try formatted { try Files.makeDirectory(path, what: what) } }
    static func makeDirectories(_ path: String, what: String) throws { try formatted { try Files.makeDirectories(path, what: what) } }
    static func removeTree(_ path: String, what: String) throws { try formatted { try Files.removeTree(path, what: what) } }
    static func syncDirectory(_ path: String, what: String) throws { try formatted { try Files.syncDirectory(path, what: what) } }
    static func rename(_ from: String, _ to: String, what: String) throws { try formatted { try Files.rename(from, to, what: what) } }

    /// Writes a new file at `path` through `body` and fsyncs it (no rename). Fails if `path` exists.
    @discardableResult
    static func create(_ path: String, what: String, _ body: (inout FileWriter) throws -> Void) throws -> FileWriter {
        try formatted { try Files.create(path, what: what, body) }
    }

    /// Atomically replaces `path` with what `body` writes (LLMIO.AtomicFile).
    @discardableResult
    static func writeAtomically(_ path: String, what: String, _ body: (inout FileWriter) throws -> Void) throws -> FileWriter {
        try formatted { try Files.writeAtomically(path, what: what, body) }
    }

    /// A read-only memory map of the whole file at `path`.
    static func map(_ path: String, what: String) throws -> MappedFile { try formatted { try MappedFile(path, what: what) } }
}
