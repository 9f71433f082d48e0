// GradReadyHookTests: backward() runs a leaf's gradient-ready hooks once per backward, after the
// leaf's .grad holds its final value, in reverse topological order (parameters used last run first),
// once for a weight used twice (tied), never for leaves the backward did not reach; removed hooks
// and dead tensors are not called; a hook's error ends backward.
import Synchronization
import Testing

@testable import LLMCore

/// Records (name, grad values at call time) of each hook call.
private final class CallLog: Sendable {
    let calls = Mutex<[(String, [Float])]>([])
    func hook(_ name: String) -> GradReadyHooks.Hook {
        { t in
            let g = t.grad?.toFloats() ?? []
            self.calls.withLock { $0.append((name, g)) }
        }
    }
    var names: [String] { calls.withLock { $0.map(\.0) } }
    func grad(_ name: String) -> [Float]? { calls.withLock { c in c.first { $0.0 == name }?.1 } }
}

private func leaf(_ values: [Float], _ shape: [Int]) throws -> Tensor {
    let t = try Tensor(values, shape: shape)
    try t.setRequiresGrad(true)
    return t
}

@Suite("Gradient-ready hooks")
struct GradReadyHookTests {
    @Test func runsOncePerLeafInReverseOrderWithTheFinalGradient() throws {
        let x = try Tensor([1, 2], shape: [1, 2])
        let w1 = try leaf([1, 0, 0, 1], [2, 2]), w2 = try leaf([2, 0, 0, 3], [2, 2]), unused = try leaf([5], [1])
        let log = CallLog()
        let handles = [
            GradReadyHooks.register(w1, log.hook("w1")), GradReadyHooks.register(w2, log.hook("w2")),
            GradReadyHooks.register(unused, log.hook("unused"))
        ]
        defer { handles.forEach(GradReadyHooks.remove) }
        let y = try x.matmul(w1).matmul(w2).sum()
        try y.backward()
        #expect(log.names == ["w2", "w1"])  // w2 is used last in the forward: its gradient is ready first
        #expect(log.grad("w1") == w1.grad?.toFloats())
        #expect(log.grad("w2") == w2.grad?.toFloats())
    }

    @Test func aTiedWeightGetsOneCallWithBothContributions() throws {
        let w = try leaf([1, 2, 3, 4], [2, 2])
        let x = try Tensor([1, 1], shape: [1, 2])
        let log = CallLog()
        let h = GradReadyHooks.register(w, log.hook("w"))
        defer { GradReadyHooks.remove(h) }
        try x.matmul(w).matmul(w).sum().backward()  // w used twice
        #expect(log.names == ["w"])
        #expect(log.grad("w") == w.grad?.toFloats())
        // d/dw sum(x w w) = x^T (1 w^T) + (x w)^T 1 = [[3, 7], [3, 7]] + [[4, 4], [6, 6]] for x = [1 1]
        #expect(w.grad?.toFloats() == [7, 11, 9, 13])
    }

    @Test func gradientsAreTheSameWithHooks() throws {
        // a tied embedding/head (the embedding fast path accumulates into the head's gradient) and a weight
        // split into chunks (narrow): finishing leaves early must not change any value
        func grads(hooked: Bool) throws -> [[Float]] {
            let w = try leaf((0..<12).map { Float($0) * 0.1 - 0.5 }, [4, 3])
            let u = try leaf((0..<18).map { Float($0) * 0.05 - 0.4 }, [3, 6])
            let ids = try Tensor([0, 2, 2, 1, 3], shape: [5]).toDType(.int64)
            let log = CallLog()
            let handles = hooked ? [GradReadyHooks.register(w, log.hook("w")), GradReadyHooks.register(u, log.hook("u"))] : []
            defer { handles.forEach(GradReadyHooks.remove) }
            let e = try Tensor.embedding(w, ids)
            let h = try e.matmul(u.narrow(1, 0, 3)).tanh().add(e.matmul(u.narrow(1, 3, 3)))
            try h.matmul(w.transpose(0, 1)).tanh().sum().backward()
            if hooked { #expect(log.names == ["w", "u"] || log.names == ["u", "w"]) }
            return [w.grad?.toFloats() ?? [], u.grad?.toFloats() ?? []]
        }
        #expect(try grads(hooked: true) == grads(hooked: false))
    }

    @Test func accumulationSeesTheRunningSumAndEveryBackwardCallsAgain() throws {
        let w = try leaf([1, 2], [2])
        let log = CallLog()
        let h = GradReadyHooks.register(w, log.hook("w"))
        try w.mul(3).sum().backward()
        try w.mul(2).sum().backward()
        #expect(log.names == ["w", "w"])
        #expect(log.calls.withLock { $0.map(\.1) } == [[3, 3], [5, 5]])
        GradReadyHooks.remove(h)
        GradReadyHooks.remove(h)  // a second removal is harmless
        try w.mul(1).sum().backward()
        #expect(log.names.count == 2)
    }

    @Test func aHookErrorEndsBackward() throws {
        struct Boom: Error {}
        let w = try leaf([1], [1])
        let h = GradReadyHooks.register(w) { _ in throw Boom() }
        defer { GradReadyHooks.remove(h) }
        #expect(throws: Boom.self) { try w.mul(2).sum().backward() }
    }

    @Test func hooksDoNotKeepTheirTensorAlive() throws {
        weak var dead: Tensor?
        let log = CallLog()
        var handle: GradReadyHooks.Handle?
        do {
            let w = try leaf([1], [1])
            dead = w
            handle = GradReadyHooks.register(w, log.hook("gone"))
        }
        #expect(dead == nil)
        if let handle { GradReadyHooks.remove(handle) }
        #expect(log.names.isEmpty)
    }
}
