// SandboxPaths: the file-access rule of a sandboxed state. A path is resolved like the kernel would
// (realpath for the part that exists, so `..` and symlinks cannot leave a folder; a dangling symlink is
// followed by hand; a tail that does not exist yet is normalized under its resolved parent) and then
// must lie under an allowed root: read roots (plus write roots) for reading, write roots for writing.
// Folders read recursively are walked so that a symlink inside cannot point outside.
#if canImport(Glibc)
import Glibc
#endif

/// How a path is going to be used.
public enum PathAccess: Sendable {
    /// Opening or listing for reading.
    case read
    /// Creating, writing, renaming or deleting.
    case write
    /// Reading a file, or a folder recursively (every entry, symlinks included, must be readable).
    case readTree
}

/// The folders a sandboxed script may read and write, resolved once.
public struct PathPolicy: Sendable {
    /// Resolved folders readable by the script (write roots are readable too).
    public let readRoots: [String]
    /// Resolved folders writable by the script.
    public let writeRoots: [String]

    /// Resolves `readDirs` and `writeDirs` (folders that do not exist yet are resolved through their parent).
    public init(readDirs: [String], writeDirs: [String]) {
        func roots(_ dirs: [String]) -> [String] {
            var out: [String] = []
            for d in dirs where !d.isEmpty { if let r = PathPolicy.resolve(d), !out.contains(r) { out.append(r) } }
            return out
        }
        writeRoots = roots(writeDirs)
        readRoots = roots(readDirs + writeDirs)
    }

    /// Throws `sandbox: reading 'p' is not allowed (allowed: ...)` unless `path` may be used for `access`.
    public func check(_ path: String, _ access: PathAccess) throws {
        if let denial = denial(path, access) { throw LuaError.runtime(denial) }
    }

    /// The denial message for `path`, or nil when it is allowed.
    public func denial(_ path: String, _ access: PathAccess) -> String? {
        let verb = access == .write ? "writing" : "reading"
        guard !path.isEmpty, !path.utf8.contains(0) else { return "sandbox: \(verb) '\(path)' is not allowed (not a valid path)" }
        guard let real = PathPolicy.resolve(path) else { return "sandbox: \(verb) '\(path)' is not allowed (the path cannot be resolved)" }
        let roots = access == .write ? writeRoots : readRoots
        guard PathPolicy.isUnder(real, roots) else {
            let shown = real == path ? "'\(path)'" : "'\(path)' (\(real))"
            let allowed = roots.isEmpty
                ? (access == .write ? "no folder is writable; name one with --allow-write DIR" : "no folder is readable")
                : "allowed: " + roots.joined(separator: ", ")
            return "sandbox: \(verb) \(shown) is not allowed (\(allowed))"
        }
        if access == .readTree { return treeDenial(real, shown: path) }
        return nil
    }

    /// True when `real` is one of `roots` or inside one.
    static func isUnder(_ real: String, _ roots: [String]) -> Bool {
        roots.contains { root in real == root || root == "/" || real.hasPrefix(root + "/") }
    }

    /// Walks a folder: every symlink below it must resolve inside the read roots (at most 100000 entries).
    private func treeDenial(_ real: String, shown: String) -> String? {
        var st = stat()
        guard stat(real, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
        var pending = [real], visited: Set<String> = [real], count = 0
        while let dir = pending.popLast() {
            guard let d = opendir(dir) else { continue }
            defer { closedir(d) }
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name == "." || name == ".." { continue }
                count += 1
                if count > 100_000 { return "sandbox: reading '\(shown)' is not allowed (more than 100000 entries to check)" }
                let child = dir + "/" + name
                var ls = stat()
                guard lstat(child, &ls) == 0 else { continue }
                let kind = ls.st_mode & S_IFMT
                if kind == S_IFLNK {
                    guard let target = PathPolicy.resolve(child), PathPolicy.isUnder(target, readRoots) else {
                        return "sandbox: reading '\(child)' is not allowed (a link to outside the allowed folders: " +
                            readRoots.joined(separator: ", ") + ")"
                    }
                    var ts = stat()
                    if stat(target, &ts) == 0, (ts.st_mode & S_IFMT) == S_IFDIR, visited.insert(target).inserted { pending.append(target) }
                } else if kind == S_IFDIR, visited.insert(child).inserted {
                    pending.append(child)
                }
            }
        }
        return nil
    }

    /// The absolute, symlink-free form of `path`; parts that do not exist are normalized lexically under
    /// their resolved parent. Nil when a symlink chain is too long.
    public static func resolve(_ path: String, depth: Int = 0) -> String? {
        guard depth < 40, !path.isEmpty else { return nil }
        var abs = path
        if !abs.hasPrefix("/") {
            var buf = [CChar](repeating: 0, count: 4096)
            guard getcwd(&buf, buf.count) != nil else { return nil }
            abs = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/" + path
        }
        while abs.count > 1 && abs.hasSuffix("/") { abs.removeLast() }
        if let r = realpath(abs, nil) {
            defer { free(r) }
            return String(cString: r)
        }
        if errno == ELOOP { return nil }
        guard let slash = abs.lastIndex(of: "/") else { return nil }
        let dir = slash == abs.startIndex ? "/" : String(abs[..<slash])
        let base = String(abs[abs.index(after: slash)...])
        var ls = stat()
        if lstat(abs, &ls) == 0 && (ls.st_mode & S_IFMT) == S_IFLNK {   // a dangling symlink: follow it by hand
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlink(abs, &buf, buf.count - 1)
            guard n > 0 else { return nil }
            let target = String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return resolve(target.hasPrefix("/") ? target : dir + "/" + target, depth: depth + 1)
        }
        guard let parent = resolve(dir, depth: depth + 1) else { return nil }
        switch base {
        case "", ".": return parent
        case "..":
            guard let s = parent.lastIndex(of: "/"), parent != "/" else { return "/" }
            return s == parent.startIndex ? "/" : String(parent[..<s])
        default: return parent == "/" ? "/" + base : parent + "/" + base
        }
    }
}
