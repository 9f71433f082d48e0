// ChildProcess: one child process of a parallel study (one trial), started with posix_spawn in a process
// group of its own, stdin from /dev/null, stdout and stderr appended to a log file. Contract: `poll()` never
// blocks; a child still running past its timeout is killed (SIGKILL to its whole group) and reported as
// timed out; a memory limit is set with the shell's `ulimit -v` before exec, so an allocation beyond it fails
// in that child only. `kill()` ends the group; the object reaps its child when polled, waited or released.
#if canImport(Glibc)
    import Glibc
#endif

/// How a child ended.
struct ChildExit: Equatable {
    /// Exit status (0-255), or nil when a signal ended it.
    var code: Int32?
    /// The signal that ended it, or nil.
    var signal: Int32?
    /// True when it was killed for running past its timeout.
    var timedOut: Bool
}

/// A spawned child process, polled from one Lua state.
final class ChildProcess: LuaBridged, @unchecked Sendable {
    static var luaTypeName: String { "tune.Process" }

    /// The child's process id (also its process group id).
    let pid: pid_t
    private let started: Double
    private let timeout: Double?
    private(set) var exit: ChildExit?
    private var killedForTimeout = false

    /// Starts `argv` (argv[0] a path or a name looked up on PATH) with extra environment variables.
    init(argv: [String], env: [String: String], log: String?, timeout: Double?, memoryMB: Int?) throws {
        guard !argv.isEmpty else { throw LuaError.runtime("tune.spawn: empty command") }
        var full = argv
        if let mb = memoryMB {  // the limit applies to the exec'd program: sh sets it, then execs
            full = ["/bin/sh", "-c", "ulimit -v \(mb * 1024) && exec \"$@\"", "sh"] + argv
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let log {
            posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attr, 0)
        var environment: [String] = []
        var i = 0
        while let p = environ[i] {
            let entry = String(cString: p)
            let key = entry.prefix { $0 != "=" }
            if env[String(key)] == nil { environment.append(entry) }
            i += 1
        }
        environment += env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let cargs: [UnsafeMutablePointer<CChar>?] = full.map { strdup($0) } + [nil]
        let cenv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for p in cargs { free(p) }
            for p in cenv { free(p) }
        }
        fflush(nil)
        var child: pid_t = 0
        let rc = posix_spawnp(&child, full[0], &actions, &attr, cargs, cenv)
        guard rc == 0 else { throw LuaError.runtime("tune.spawn: cannot start '\(argv[0])': \(String(cString: strerror(rc)))") }
        pid = child
        started = ChildProcess.now()
        self.timeout = timeout
    }

    deinit {
        if exit == nil {
            Glibc.kill(-pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }

    /// Seconds since the child started.
    var elapsed: Double { ChildProcess.now() - started }

    /// The exit once the child has ended (reaping it), else nil; kills it first when past its timeout.
    func poll() -> ChildExit? {
        if let exit { return exit }
        if let timeout, elapsed > timeout, !killedForTimeout {
            killedForTimeout = true
            Glibc.kill(-pid, SIGKILL)
        }
        var status: Int32 = 0
        var r: pid_t
        repeat { r = waitpid(pid, &status, WNOHANG) } while r < 0 && errno == EINTR
        guard r == pid else { return nil }
        Glibc.kill(-pid, SIGKILL)  // leftovers of its group, if any
        let signal = status & 0x7f
        exit = ChildExit(code: signal == 0 ? (status >> 8) & 0xff : nil, signal: signal == 0 ? nil : signal, timedOut: killedForTimeout)
        return exit
    }

    /// Blocks until the child ends (its timeout still applies).
    func wait() -> ChildExit {
        while true {
            if let e = poll() { return e }
            usleep(20_000)
        }
    }

    /// Ends the child and its group now (SIGKILL); a no-op once it has ended.
    func kill() {
        if exit == nil { Glibc.kill(-pid, SIGKILL) }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
