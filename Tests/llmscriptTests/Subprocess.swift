// Subprocess: runs the built llmscript binary for the CLI tests. The binary is found next to the test
// bundle (same build folder) or through $LLMSCRIPT_BIN. stdin comes from a temp file, stdout/stderr go
// to temp files (no pipe deadlocks), and every run has a deadline after which the process is killed.
import Foundation

struct RunResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum Subprocess {
    /// Path of the llmscript executable under test.
    static let binary: String = {
        if let env = ProcessInfo.processInfo.environment["LLMSCRIPT_BIN"], !env.isEmpty { return env }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("llmscript").path
    }()

    /// A fresh temporary directory for one test.
    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmscript-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs llmscript with `args`, feeding `stdin`, and waits at most `timeout` seconds.
    static func run(
        _ args: [String], stdin: String = "", environment extra: [String: String] = [:],
        cwd: URL? = nil, timeout: TimeInterval = 30
    ) throws -> RunResult {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inURL = dir.appendingPathComponent("stdin"), outURL = dir.appendingPathComponent("stdout"),
            errURL = dir.appendingPathComponent("stderr")
        try stdin.write(to: inURL, atomically: true, encoding: .utf8)
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let input = try FileHandle(forReadingFrom: inURL)
        let output = try FileHandle(forWritingTo: outURL), errors = try FileHandle(forWritingTo: errURL)
        defer { try? input.close(); try? output.close(); try? errors.close() }

        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["LLMSCRIPT_HISTORY"] = dir.appendingPathComponent("history").path
        for (k, v) in extra { env[k] = v }
        p.environment = env
        if let cwd { p.currentDirectoryURL = cwd }
        p.standardInput = input
        p.standardOutput = output
        p.standardError = errors
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(5_000) }
        if p.isRunning { p.terminate(); p.waitUntilExit() }
        p.waitUntilExit()
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return RunResult(status: p.terminationStatus, stdout: out, stderr: err)
    }

    /// Writes `contents` to a file `name` in a new temp dir, passes its path to `body`, then removes it.
    static func withScript<T>(_ name: String = "script.lua", _ contents: String, _ body: (String) throws -> T) throws -> T {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(name)
        try contents.write(to: url, atomically: true, encoding: .utf8)
        return try body(url.path)
    }
}
