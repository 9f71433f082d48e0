// ReadOnlyShareTests: what parallel.pool relies on in the core. A read-only share views the same memory
// (later writes through the owner are visible), refuses every in-place op on itself and its views, does not
// count the bytes twice and keeps the memory alive after the owner is gone; a clone is writable. A worker
// share makes `BLAS.threads` report the share on its thread only, with OpenBLAS on one thread meanwhile.
import Dispatch
import Foundation
import Testing

@testable import LLMCore

@Suite("Read-only shares and worker shares", .serialized)
struct ReadOnlyShareTests {
    @Test func aShareReadsTheSameMemoryAndRefusesWrites() throws {
        let owner = try Tensor([1, 2, 3, 4], shape: [4])
        let live = Storage.liveBytes.load(ordering: .relaxed)
        let shared = owner.readOnlyShare()
        #expect(Storage.liveBytes.load(ordering: .relaxed) == live)  // no new memory, counted once
        #expect(shared.isReadOnly && !owner.isReadOnly)
        #expect(shared.storage.bytes == owner.storage.bytes)
        try owner.addInPlace(try Tensor.ones([4]))
        #expect(shared.toFloats() == [2, 3, 4, 5])
        let writes: [(String, () throws -> Void)] = [
            ("add_", { try shared.addInPlace(owner) }), ("copy_", { try shared.copyInPlace(owner) }),
            ("fill_", { try shared.fillInPlace(0) }), ("fill_", { try shared.zeroInPlace() }),
            ("normal_", { try shared.normalInPlace(mean: 0, std: 1) }),
            ("fill_", { try shared.view(shape: [2], strides: [1], offset: 2).fillInPlace(9) }),
            ("fill_", { try shared.readOnlyShare().fillInPlace(9) })
        ]
        for (op, write) in writes {
            #expect(throws: TensorError.self) { try write() }
            do { try write() } catch { #expect("\(error)".contains("\(op): the tensor is read-only")) }
        }
        #expect(owner.toFloats() == [2, 3, 4, 5])
        let copy = try shared.clone()
        #expect(!copy.isReadOnly)
        try copy.addInPlace(copy)
        #expect(copy.toFloats() == [4, 6, 8, 10])
    }

    @Test func aShareKeepsTheMemoryAliveAfterItsOwner() throws {
        var owner: Tensor? = try Tensor([7, 8], shape: [2])
        let shared = owner!.readOnlyShare()
        let again = shared.readOnlyShare()  // an alias of an alias points at the owner
        owner = nil
        #expect(shared.toFloats() == [7, 8])
        #expect(again.toFloats() == [7, 8])
    }

    @Test func aWorkerShareLimitsThreadsOnItsThreadOnly() {
        let original = BLAS.threads
        defer { BLAS.setThreads(original) }
        BLAS.setThreads(4)
        BLAS.withWorkerShare(2) {
            #expect(BLAS.threads == 2)
            #expect(BLAS.activeThreads == 1)
            BLAS.withWorkerShare(1) { #expect(BLAS.threads == 1) }
            #expect(BLAS.threads == 2)
            let other = Box()
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                other.value = BLAS.threads; done.signal()
            }
            done.wait()
            #expect(other.value == 4)  // another thread: the whole budget
        }
        BLAS.withWorkerShare(16) { #expect(BLAS.threads == 4) }  // never more than the budget
        #expect(BLAS.threads == 4)
        if BLAS.activeThreads > 1 { #expect(BLAS.activeThreads == 4) }  // OpenBLAS gets the budget back
    }
}

/// A value written by another thread (read after a semaphore wait).
private final class Box: @unchecked Sendable { var value = 0 }
