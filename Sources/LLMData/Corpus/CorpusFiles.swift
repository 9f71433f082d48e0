// CorpusFiles: finds and reads the files of a text corpus. Paths expand to files in a deterministic
// order (directories recursively, entries sorted bytewise, hidden entries and fortune `.dat` indexes
// skipped, symlinks resolved and each real file read once). Files are read as UTF-8 text; binary files
// (NUL bytes, invalid UTF-8) are errors when named, and skipped with a reason when found in a directory.
import Foundation
import LLMIO

/// File discovery and reading for ``TextCorpus``.
public enum CorpusFiles {
    /// A file found in a directory but left out of the corpus, with the reason.
    public struct Skipped: Error, Sendable, Equatable {
        public let path: String
        public let reason: String
    }

    /// Expands `paths` into the files to read, in order.
    ///
    /// A file is kept as given; a directory contributes its files recursively, sorted bytewise by name.
    /// ```swift
    /// let (files, skipped) = try CorpusFiles.expand(["/usr/share/games/fortunes"])
    /// ```
    /// - Throws: ``DataError/corpus(_:)`` for a path that does not exist or a directory that cannot be listed.
    public static func expand(_ paths: [String]) throws -> (files: [String], skipped: [Skipped]) {
        var files: [String] = [], skipped: [Skipped] = []
        var seen = Set<String>(), visitedDirs = Set<String>()
        for path in paths {
            guard let kind = kind(of: path) else {
                if let refused = Files.refusal(path) { throw DataError.corpus(refused.message) }  // the sandbox's, not "missing"
                throw DataError.corpus("corpus: no such file or directory: \(path)")
            }
            if kind == .directory {
                try walk(path, &files, &skipped, &seen, &visitedDirs)
            } else if seen.insert(realPath(path)).inserted {
                files.append(path)
            }
        }
        return (files, skipped)
    }

    enum Kind { case file, directory, other }

    /// The kind of `path` after following symlinks; nil when it does not exist.
    static func kind(of path: String) -> Kind? {
        guard let st = Files.info(path) else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        default: return .other
        }
    }

    /// The identity of the file at `path` (device and inode, after links), to read each file once.
    static func realPath(_ path: String) -> String {
        guard let st = Files.info(path) else { return path }
        return "\(st.st_dev):\(st.st_ino)"
    }

    private static func walk(
        _ dir: String, _ files: inout [String], _ skipped: inout [Skipped],
        _ seen: inout Set<String>, _ visited: inout Set<String>
    ) throws {
        guard visited.insert(realPath(dir)).inserted else { return }  // symlink cycle or repeat
        let names: [String]
        do { names = try Files.list(dir, what: "corpus") } catch let e as FileError {
            throw DataError.corpus(e.denied ? e.message : "corpus: cannot read directory \(dir): \(e.message)")
        }
        let base = dir.hasSuffix("/") ? dir : dir + "/"
        for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) where !name.hasPrefix(".") {
            let path = base + name
            switch kind(of: path) {
            case .directory?: try walk(path, &files, &skipped, &seen, &visited)
            case .file?:
                if name.hasSuffix(".dat") {
                    skipped.append(Skipped(path: path, reason: "fortune index file (.dat)"))
                } else if seen.insert(realPath(path)).inserted {
                    files.append(path)
                }
            case nil where Files.exists(path):  // a link that cannot be followed (the sandbox's policy refused it)
                skipped.append(Skipped(path: path, reason: "a dangling link or one outside the allowed folders"))
            default: skipped.append(Skipped(path: path, reason: "not a regular file"))
            }
        }
    }

    /// The largest `limit` honoured (1 TiB); larger limits are clamped.
    public static let maxLimit = 1 << 40

    /// Reads `path` as UTF-8 text of at most `limit` bytes.
    /// - Returns: the text, or a reason why it is not text (NUL bytes, invalid UTF-8).
    /// - Throws: ``DataError/corpus(_:)`` when the file cannot be opened or read, or is larger than `limit`.
    public static func readText(_ path: String, limit: Int) throws -> Result<String, Skipped> {
        let limit = min(max(limit, 0), maxLimit)
        let fd: Int32
        do { fd = try Files.open(path, O_RDONLY, what: "corpus") } catch let e as FileError {
            throw DataError.corpus(e.denied ? e.message : "corpus: cannot read \(path): \(String(cString: strerror(e.code)))")
        }
        defer { close(fd) }
        var st = stat()
        let size = fstat(fd, &st) == 0 ? max(Int(st.st_size), 0) : 0
        var bytes = [UInt8](repeating: 0, count: min(size, limit) + 1)  // +1 sees growth and the limit
        var used = 0
        while true {
            if used == bytes.count {
                guard used <= limit else {
                    throw DataError.corpus("corpus: too large: \(path) goes past the limit of \(limit) bytes (raise maxBytes)")
                }
                bytes.append(contentsOf: [UInt8](repeating: 0, count: min(bytes.count, limit - used + 1)))
            }
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + used, $0.count - used) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError.corpus("corpus: cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            used += n
        }
        bytes.removeSubrange(used..<bytes.count)
        if bytes.withUnsafeBytes({ b in b.baseAddress.flatMap { memchr($0, 0, b.count) } }) != nil {
            return .failure(Skipped(path: path, reason: "binary file (contains NUL bytes)"))
        }
        guard let s = String(validating: bytes, as: UTF8.self) else {
            return .failure(Skipped(path: path, reason: "binary file (not valid UTF-8)"))
        }
        return .success(s)
    }
}
