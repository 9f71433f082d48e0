// InterruptTests: Ctrl-C (SIGINT) while Lua code runs becomes the Lua error "interrupted!": a script
// exits with status 1 and a traceback instead of being killed mid-write.
import Foundation
import Testing

@Suite struct InterruptTests {
    @Test func sigintInterruptsARunningScript() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Subprocess.binary)
        p.arguments = ["-e", "io.stdout:write('ready\\n'); io.stdout:flush(); while true do end"]
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
