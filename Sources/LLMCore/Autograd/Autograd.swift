// Autograd: the define-by-run tape. An op whose inputs require grad attaches a Node (primitive, inputs,
// saved tensors and their storage versions) to its output. backward() walks the graph in reverse
// topological order, calling each primitive's VJP with grad mode off, and accumulates into leaf .grad
// (then runs the leaf's gradient-ready hooks, GradReadyHooks.swift).
// reference: PyTorch autograd semantics (accumulation, retain_graph, version counters), micrograd.

#if canImport(Glibc)
    import Glibc
#endif

/// A recorded operation in the graph: what produced a non-leaf tensor.
public final class Node {
    /// The operation.
    public let op: Primitive
    var inputs: [Tensor]
    var saved: [Tensor]
    let savedVersions: [Int]
    /// Storage versions of the inputs and the output when recorded (checked when the VJP reads them).
    let inputVersions: [Int]
    let outputVersion: Int
    /// The output, held weakly (the output owns the node).
    unowned(unsafe) var output: Tensor
    var released = false

    init(op: Primitive, inputs: [Tensor], saved: [Tensor], output: Tensor) {
        self.op = op
        self.inputs = inputs
        self.saved = saved
        self.savedVersions = saved.map { $0.storage.version }
        self.inputVersions = inputs.map { $0.storage.version }
        self.outputVersion = output.storage.version
        self.output = output
    }
}

/// Whether operations are recorded (per thread). `llm.noGrad(fn)` turns recording off.
public enum GradMode {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// Depth of nested no-grad scopes on this thread.
    static var disabledDepth: Int {
        get { Int(bitPattern: pthread_getspecific(key)) }
        set { pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue)) }
    }

    /// True when operations are being recorded.
    public static var isEnabled: Bool { disabledDepth == 0 }

    /// Runs `body` without recording (like `torch.no_grad()`).
    public static func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
        disabledDepth += 1
        defer { disabledDepth -= 1 }
        return try body()
    }
}

extension Tensor {
    /// Attaches a node for `op` when recording is on and some input requires grad; returns self.
    @discardableResult
    func record(_ op: @autoclosure () -> Primitive, _ inputs: [Tensor], saved: [Tensor] = []) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGradFlag }) else { return self }
        gradNode = Node(op: op(), inputs: inputs, saved: saved, output: self)
        requiresGradFlag = true
        return self
    }

    /// A new leaf sharing this tensor's storage, outside the graph.
    public func detach() -> Tensor {
        view(shape: shape, strides: strides, offset: offset)
    }

    /// Back-propagates from this tensor, accumulating gradients into the `.grad` of leaves.
    /// - Parameters:
    ///   - gradient: the gradient of this tensor; required unless it has one element.
    ///   - retainGraph: keep the graph so backward can run through it again.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) throws {
        guard requiresGradFlag else {
            throw TensorError.autograd("backward: this tensor does not require grad (no input of the computation had requiresGrad = true)")
        }
        let seed: Tensor
        if let g = gradient {
            guard g.shape == shape else {
                throw TensorError.shape("backward: gradient shape \(shapeString(g.shape)) does not match tensor shape \(shapeString(shape))")
            }
            seed = try g.toDType(.float32)
        } else {
            guard count == 1 else {
                throw TensorError.autograd("backward: gradient can be implicit only for one-element tensors; this one has shape \(shapeString(shape)), pass a gradient")
            }
            seed = try Tensor.full(shape, 1)
        }
        try GradMode.withoutGrad {
            // reverse topological order over tensors that have nodes
            var order: [Tensor] = []
            var visited = Set<ObjectIdentifier>()
            var stack: [(Tensor, Bool)] = [(self, false)]
            while let (t, expanded) = stack.popLast() {
                if expanded { order.append(t); continue }
                let id = ObjectIdentifier(t)
                if visited.contains(id) { continue }
                visited.insert(id)
                stack.append((t, true))
                if let node = t.gradNode {
                    for input in node.inputs where input.requiresGradFlag && !visited.contains(ObjectIdentifier(input)) {
                        stack.append((input, false))
                    }
                }
            }
            var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
            // Without retainGraph, each node drops its saved tensors and inputs as soon as its VJP ran, and the
            // walk drops its own reference, so activations are freed during backward (lower peak memory).
            // Safe: in reverse topological order nothing later reads a processed tensor.
            // With gradient-ready hooks, a leaf is finished (t.grad, hooks) as soon as every node that uses it
            // has run its VJP rather than at its own, often late, place in the walk (GradReadyHooks.swift).
            var ready = LeafReadiness(order)
            var pending: [Tensor?] = order
            order = []
            // Accumulators this walk allocated (sums of several gradients, the fresh buffers of narrow, linear
            // and embedding VJPs) are referenced only by `grads`, so further contributions are added into them
            // in place: the gradients of the chunks of one tensor (the qkv split) fill one buffer, and the
            // embedding rows of a tied weight go straight into the head's weight gradient.
            var owned = Set<ObjectIdentifier>()
            func finishLeaf(_ t: Tensor, _ g: Tensor, owned gOwned: Bool) throws {
                t.grad = try t.grad.map { try $0.add(g) } ?? (gOwned ? g : g.clone())
                try ready?.runHooks(t)  // t's gradient is final for this backward
            }
            func finishLeaves(usedBy inputs: [Tensor]) throws {
                guard ready != nil else { return }
                for x in ready!.consumed(inputs) {
                    let k = ObjectIdentifier(x)
                    if let g = grads.removeValue(forKey: k) { try finishLeaf(x, g, owned: owned.remove(k) != nil) }
                }
            }
            for idx in stride(from: pending.count - 1, through: 0, by: -1) {
                guard let t = pending[idx] else { continue }
                guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else {
                    if let node = t.gradNode { try finishLeaves(usedBy: node.inputs) }
                    continue
                }
                let gOwned = owned.remove(ObjectIdentifier(t)) != nil
                guard let node = t.gradNode else {
                    try finishLeaf(t, g, owned: gOwned)
                    continue
                }
                guard !node.released else {
                    throw TensorError.autograd(
                        "backward: trying to backward through the graph a second time (its saved tensors were freed); pass {retainGraph=true} to the first backward")
                }
                for (s, v) in zip(node.saved, node.savedVersions) where s.storage.version != v {
                    throw TensorError.autograd("backward: a tensor saved by \(node.op.kind.rawValue) was modified by an in-place operation after it was used")
                }
                if node.op.vjpReadsInputs {
                    for (x, v) in zip(node.inputs, node.inputVersions) where x.storage.version != v {
                        throw TensorError.autograd("backward: an input of \(node.op.kind.rawValue) was modified by an in-place operation after it was used")
                    }
                }
                if node.op.vjpReadsOutput && node.output.storage.version != node.outputVersion {
                    throw TensorError.autograd("backward: the output of \(node.op.kind.rawValue) was modified by an in-place operation after it was computed")
                }
                let inputGrads: [Tensor?]
                if case .narrow(let dim, let start, let length) = node.op, let input = node.inputs.first, input.requiresGradFlag,
                    owned.contains(ObjectIdentifier(input)), let acc = grads[ObjectIdentifier(input)]
                {
                    try Tensor.accumulate(into: acc.narrow(dim, start, length), g)  // no zero-padded copy
                    inputGrads = []
                } else if case .embedding = node.op, let weight = node.inputs.first, weight.requiresGradFlag,
                    owned.contains(ObjectIdentifier(weight)), let acc = grads[ObjectIdentifier(weight)], acc.isContiguous
                {
                    try Tensor.embeddingAccumulate(into: acc, g, ids: node.saved[0])  // no dense V×C gradient
                    inputGrads = []
                } else {
                    inputGrads = try node.op.vjp(g, node)
                }
                for (input, ig) in zip(node.inputs, inputGrads) {
                    guard input.requiresGradFlag, let ig else { continue }
                    guard ig.shape == input.shape else {
                        throw TensorError.autograd(
                            "internal: \(node.op.kind.rawValue) produced a gradient of shape \(shapeString(ig.shape)) for an input of shape \(shapeString(input.shape))")
                    }
                    let k = ObjectIdentifier(input)
                    if let acc = grads[k] {
                        if owned.contains(k) { try Tensor.accumulate(into: acc, ig) } else { grads[k] = try acc.add(ig); owned.insert(k) }
                    } else {
                        grads[k] = ig
                        if node.op.vjpReturnsFreshBuffers { owned.insert(k) }
                    }
                }
                try finishLeaves(usedBy: node.inputs)
                if !retainGraph {
                    node.released = true; node.inputs = []; node.saved = []
                    pending[idx] = nil
                }
            }
            if !retainGraph {
                for t in pending { if let t, let n = t.gradNode { n.released = true; n.inputs = []; n.saved = [] } }
            }
        }
    }

    /// acc += g elementwise (same shape; acc is float32, possibly a strided view; g any layout).
    static func accumulate(into acc: Tensor, _ g0: Tensor) throws {
        let g = try g0.asFloat().contiguous()
        let n = acc.count, pg = g.f32
        if n == 0 { return }
        if acc.isContiguous {
            let pa = acc.f32
            Parallel.forRanges(n) { r in for i in r { pa[i] += pg[i] } }
            return
        }
        let base = acc.storage.bytes.assumingMemoryBound(to: Float.self)
        guard acc.rank >= 1, acc.strides[acc.rank - 1] == 1 else {
            var i = 0
            acc.forEachOffset {
                base[$0] += pg[i]; i += 1
            }
            return
        }
        let inner = acc.shape[acc.rank - 1]
        var rows: [Int] = []
        rows.reserveCapacity(n / Swift.max(inner, 1))
        forEachStridedOffset(shape: Array(acc.shape.dropLast()), strides: Array(acc.strides.dropLast()), base: acc.offset) { rows.append($0) }
        rows.withUnsafeBufferPointer { rp in
            Parallel.forRanges(rp.count, cost: inner) { r in
                for i in r {
                    let pa = base + rp[i], src = pg + i * inner
                    for j in 0..<inner { pa[j] += src[j] }
                }
            }
        }
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }
}
