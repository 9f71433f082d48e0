// BLASEnvironmentTests: the binary re-executes itself once with OPENBLAS_THREAD_TIMEOUT=16 (so idle
// OpenBLAS workers stop spinning against the engine's threads), and keeps a value the user chose.
import Foundation
import Testing

@Suite struct BLASEnvironmentTests {
    @Test func shortThreadTimeoutUnlessTheUserChoseOne() throws {
        let chosen = try Subprocess.run(["-e", "print(os.getenv('OPENBLAS_THREAD_TIMEOUT'))"],
                                        environment: ["OPENBLAS_THREAD_TIMEOUT": "10"])
        #expect(chosen.stdout == "10\n", "\(chosen.stderr)")
        let plain = try Subprocess.run(["-e", "print(os.getenv('OPENBLAS_THREAD_TIMEOUT'))"])
        #expect(plain.stdout == "16\n" || ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] != nil, "\(plain.stdout)")
    }
}
