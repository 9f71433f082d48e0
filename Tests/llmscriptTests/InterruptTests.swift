// InterruptTests: Ctrl-C (SIGINT) while Lua code runs becomes the Lua error "interrupted!": a script
// exits with status 1 and a traceback instead of being killed mid-write — also after worker Lua states
// (parallel.pool) were made on other threads, which must not take the main state's Ctrl-C target.
import Foundation
import Testing

@Suite struct InterruptTests {
    @Test func sigintInterruptsARunningScript() throws {
        try expectInterrupted(code: "io.stdout:write('ready\\n'); io.stdout:flush(); while true do end")
    }

    @Test func sigintInterruptsAfterAPoolStartedWorkerStates() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llms-interrupt-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "return {id = function(x) return x end}".write(to: dir.appendingPathComponent("idmod.lua"), atomically: true, encoding: .utf8)
        try expectInterrupted(
            code: "package.path = '\(dir.path)/?.lua;' .. package.path; local p = parallel.pool{init = 'idmod', workers = 2}; "
                + "assert(p:map('id', {1, 2})[2] == 2); io.stdout:write('ready\\n'); io.stdout:flush(); while true do end")
    }

    private func expectInterrupted(code: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Subprocess.binary)
        p.arguments = ["-e", code]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // wait until the loop runs (the handler is installed for the duration of the call)
        var ready = Data()
        let deadline = Date().addingTimeInterval(20)
        while !String(decoding: ready, as: UTF8.self).contains("ready") && Date() < deadline {
            ready.append(out.fileHandleForReading.availableData)
        }
        Thread.sleep(forTimeInterval: 0.2)
        p.interrupt()
        p.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationReason == .exit)
        #expect(p.terminationStatus == 1)
        #expect(stderr.contains("interrupted!"), "\(stderr)")
    }
}
