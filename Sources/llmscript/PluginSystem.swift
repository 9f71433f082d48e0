// PluginSystem: the few POSIX operations the `plugin` and `test` commands need, without Foundation:
// PATH lookup, running a program (posix_spawn, optional working directory and output captured to a
// file), temporary directories, listing, reading, writing and removing files. Nothing here throws;
// failures come back as nil/false/exit statuses for the commands to report.
import CLuaShim
#if canImport(Glibc)
    import Glibc
#endif

enum PluginSystem {
    static func isDir(_ p: String) -> Bool { var st = stat(); return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR }
    static func isFile(_ p: String) -> Bool { var st = stat(); return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG }
    static func exists(_ p: String) -> Bool { var st = stat(); return lstat(p, &st) == 0 }
    static func isLink(_ p: String) -> Bool { var st = stat(); return lstat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK }

    /// The value of an environment variable, nil when unset.
    static func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// The first executable `name` on $PATH (or `name` itself when it contains a slash).
    static func which(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for dir in (env("PATH") ?? "").split(separator: ":") where !dir.isEmpty {
            let p = "\(dir)/\(name)"
            if isFile(p) && access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    /// An absolute, symlink-free path of an existing file or directory (the input when it does not exist).
    static func absolute(_ p: String) -> String {
        guard let r = realpath(p, nil) else { return p }
        defer { free(r) }
        return String(cString: r)
    }

    static func dirname(_ p: String) -> String {
        guard let i = p.lastIndex(of: "/") else { return "." }
        return i == p.startIndex ? "/" : String(p[..<i])
    }

    static func basename(_ p: String) -> String {
        p.lastIndex(of: "/").map { String(p[p.index(after: $0)...]) } ?? p
    }

    /// Names in a directory (no `.`/`..`), sorted; empty when it cannot be read.
    static func list(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// A new empty directory under $TMPDIR (or /tmp).
    static func makeTempDir() -> String? {
        var template = Array("\(env("TMPDIR") ?? "/tmp")/llmscript-plugin-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { buf in mkdtemp(buf.baseAddress!).map { String(cString: $0) } }
    }

    /// Removes a file or a directory tree (symlinks are removed, not followed).
    static func remove(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in list(path) { remove("\(path)/\(name)") }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// Creates a directory and its missing parents.
    @discardableResult
    static func makeDirs(_ path: String) -> Bool {
        if isDir(path) { return true }
        let parent = dirname(path)
        if parent != path && !isDir(parent) { makeDirs(parent) }
        return mkdir(path, 0o755) == 0 || isDir(path)
    }

    static func read(_ path: String) -> String? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            bytes += buf[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @discardableResult
    static func write(_ path: String, _ text: String) -> Bool {
        guard let f = fopen(path, "wb") else { return false }
        defer { fclose(f) }
        let bytes = Array(text.utf8)
        return fwrite(bytes, 1, bytes.count, f) == bytes.count
    }

    /// Runs `argv` (argv[0] an executable path) and waits; stdout and stderr go to `captureTo` when
    /// given (else they are inherited). With `newGroup` the child leads a process group of its own, which
    /// the signal catcher of a staging session (llms_signals_catch) terminates on Ctrl-C.
    /// Returns the exit status, 128+signal, or 127 when it cannot start.
    static func run(_ argv: [String], cwd: String? = nil, captureTo: String? = nil, newGroup: Bool = false) -> Int32 {
        fflush(nil)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let out = captureTo {
            posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // posix_spawn_file_actions_addchdir_np is not visible from Swift: change folder through sh.
        let full = cwd.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + argv } ?? argv
        let cargs: [UnsafeMutablePointer<CChar>?] = full.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        if newGroup {  // not the terminal's foreground group: stdin from /dev/null, so nothing stops on a read
            posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
            posix_spawnattr_setpgroup(&attr, 0)
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        var pid: pid_t = 0
        guard posix_spawn(&pid, full[0], &actions, &attr, cargs, environ) == 0 else { return 127 }
        if newGroup { llms_signals_set_child(pid) }
        defer { if newGroup { llms_signals_set_child(0) } }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
