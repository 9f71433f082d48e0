// BLASThreadsTests: the thread budget survives overlapping single-threaded sections. Parallel kernels whose
// workers call BLAS run OpenBLAS on one thread meanwhile; when several run at once (pipeline workers,
// parallel tests), OpenBLAS must get the budget back after the last one, not stay at 1 (each section used
// to save and restore the current count, so an overlapping one saved the 1 and restored it).
import Dispatch
import Glibc
import Testing

@testable import LLMCore

@Suite("BLAS thread budget", .serialized)
struct BLASThreadsTests {
    @Test func overlappingSingleThreadedSectionsRestoreTheBudget() throws {
        let original = BLAS.threads
        defer { BLAS.setThreads(original) }
        BLAS.setThreads(2)
        guard BLAS.activeThreads == 2 else { return }  // an OpenBLAS capped at one thread has nothing to restore
        DispatchQueue.concurrentPerform(iterations: 8) { round in
            for _ in 0..<20 {
                Parallel.forEachChunk(4, blasInside: true) { _, _ in
                    #expect(BLAS.activeThreads == 1)
                    usleep(UInt32(100 + 50 * (round % 3)))
                }
            }
        }
        #expect(BLAS.threads == 2)
        #expect(BLAS.activeThreads == 2)
    }

    @Test func setThreadsInsideASectionTakesEffectWhenItEnds() {
        let original = BLAS.threads
        defer { BLAS.setThreads(original) }
        BLAS.setThreads(2)
        guard BLAS.activeThreads == 2 else { return }
        BLAS.withSingleThreaded {
            BLAS.setThreads(1)
            #expect(BLAS.activeThreads == 1)
            BLAS.setThreads(2)
            #expect(BLAS.activeThreads == 1)  // still inside the section
            #expect(BLAS.threads == 2)
        }
        #expect(BLAS.activeThreads == 2)
    }
}
