// PseudoTerminal: runs llmscript with a pseudo-terminal as stdin/stdout/stderr, so the REPL takes its
// terminal path (libedit, prompts, Tab completion). `send` types bytes; `expect` reads until a string
// appears or a deadline passes. The session is killed if still running when closed.
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

final class PseudoTerminal {
    private let master: Int32
    private let process = Process()
    /// Everything read from the terminal so far.
    private(set) var transcript = ""

    init(_ args: [String], environment extra: [String: String] = [:]) throws {
        guard let libc = PseudoTerminal.libc else { throw POSIXError(.ENOSYS) }
        master = libc.openpt(O_RDWR | O_NOCTTY)
        guard master >= 0 else { throw POSIXError(.ENOTTY) }
        guard libc.grant(master) == 0, libc.unlock(master) == 0, let name = libc.name(master) else {
            close(master)
            throw POSIXError(.ENOTTY)
        }
        let slave = open(String(cString: name), O_RDWR | O_NOCTTY)
        guard slave >= 0 else { close(master); throw POSIXError(.ENOTTY) }
        let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        process.executableURL = URL(fileURLWithPath: Subprocess.binary)
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["TERM"] = "dumb"
        for (k, v) in extra { env[k] = v }
        process.environment = env
        process.standardInput = handle
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try handle.close()
    }

    /// posix_openpt & co., looked up at run time: Swift's Glibc module does not declare them.
    private struct LibC {
        let openpt: @convention(c) (Int32) -> Int32
        let grant: @convention(c) (Int32) -> Int32
        let unlock: @convention(c) (Int32) -> Int32
        let name: @convention(c) (Int32) -> UnsafeMutablePointer<CChar>?
    }

    private static let libc: LibC? = {
        let handle = dlopen(nil, RTLD_NOW)
        guard let o = dlsym(handle, "posix_openpt"), let g = dlsym(handle, "grantpt"),
            let u = dlsym(handle, "unlockpt"), let n = dlsym(handle, "ptsname")
        else { return nil }
        typealias FdFn = @convention(c) (Int32) -> Int32
        return LibC(
            openpt: unsafeBitCast(o, to: FdFn.self), grant: unsafeBitCast(g, to: FdFn.self),
            unlock: unsafeBitCast(u, to: FdFn.self),
            name: unsafeBitCast(n, to: (@convention(c) (Int32) -> UnsafeMutablePointer<CChar>?).self))
    }()

    deinit {
        if process.isRunning { process.terminate() }
        close(master)
    }

    /// Types `text` into the terminal.
    func send(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(master, $0.baseAddress, $0.count) }
    }

    /// Reads until `needle` has appeared in the transcript after `from`; returns whether it did.
    @discardableResult
    func expect(_ needle: String, timeout: TimeInterval = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !transcript.contains(needle) {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return false }
            var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, Int32(min(left, 0.2) * 1000)) > 0 else { continue }
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = read(master, &buf, buf.count)
            guard n > 0 else { return transcript.contains(needle) }
            transcript += String(decoding: buf[0..<n], as: UTF8.self)
        }
        return true
    }

    /// Waits for the process to exit and returns its status (nil on timeout).
    func waitForExit(timeout: TimeInterval = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline {
            _ = expect("\u{0}", timeout: 0.05)  // keep draining output so the child never blocks
        }
        return process.isRunning ? nil : process.terminationStatus
    }

}
