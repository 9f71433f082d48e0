// GradReadyHooks: per-leaf callbacks that backward() runs at the moment a leaf's gradient for that
// backward is final (like PyTorch's register_post_accumulate_grad_hook), so that a consumer can act on
// it while the rest of the backward still runs: data-parallel training starts the all-reduce of a
// gradient bucket as soon as its last gradient is ready (LLMDistributed.GradReducer).
// Contract: a hook runs on the thread that called backward(), with grad mode off, after `t.grad` holds
// the accumulated gradient (earlier backwards' sum plus this one's), at most once per backward per leaf
// (a weight used twice, such as a tied embedding/head, is one leaf: one call with the full gradient),
// and only when this backward produced a gradient for the leaf. Leaves are reached in reverse
// topological order, so hooks of parameters used late in the forward run first. An error thrown by a
// hook ends backward() with that error. With no hook registered backward() pays one atomic load.
// Hooks are keyed by tensor identity and hold the tensor weakly: they never keep a parameter alive.
import Synchronization

/// Registry of gradient-ready hooks (see the file header for when they run).
public enum GradReadyHooks {
    /// A registered hook; pass it to ``remove(_:)`` to unregister.
    public struct Handle: Hashable, Sendable {
        let key: ObjectIdentifier
        let id: Int
    }

    /// The callback type: receives the leaf whose `grad` is final for this backward.
    public typealias Hook = @Sendable (Tensor) throws -> Void

    final class Entry: @unchecked Sendable {
        weak var tensor: Tensor?
        let id: Int
        let hook: Hook
        init(_ tensor: Tensor, _ id: Int, _ hook: @escaping Hook) { self.tensor = tensor; self.id = id; self.hook = hook }
    }

    private struct Table {
        var entries: [ObjectIdentifier: [Entry]] = [:]
        var nextID = 0
    }

    private static let table = Mutex(Table())
    /// Number of registered hooks: backward() looks at the table only when this is above zero.
    private static let registered = Atomic<Int>(0)

    /// Registers `hook` for the leaf `tensor`; several hooks on one tensor run in registration order.
    @discardableResult
    public static func register(_ tensor: Tensor, _ hook: @escaping Hook) -> Handle {
        let key = ObjectIdentifier(tensor)
        let handle = table.withLock { t -> Handle in
            // drop entries whose tensor died (a new tensor may reuse the identifier)
            t.entries[key]?.removeAll { $0.tensor == nil }
            t.nextID += 1
            t.entries[key, default: []].append(Entry(tensor, t.nextID, hook))
            return Handle(key: key, id: t.nextID)
        }
        registered.add(1, ordering: .relaxed)
        return handle
    }

    /// Unregisters a hook (nothing happens when it was already removed).
    public static func remove(_ handle: Handle) {
        let removed = table.withLock { t -> Bool in
            guard var list = t.entries[handle.key], let i = list.firstIndex(where: { $0.id == handle.id }) else { return false }
            list.remove(at: i)
            t.entries[handle.key] = list.isEmpty ? nil : list
            return true
        }
        if removed { registered.subtract(1, ordering: .relaxed) }
    }

    /// The hooks by leaf for one backward, or nil when none is registered (the common case).
    static func snapshot() -> [ObjectIdentifier: [Entry]]? {
        guard registered.load(ordering: .relaxed) > 0 else { return nil }
        return table.withLock { $0.entries }
    }

    /// Runs the hooks of `t` found in `hooks` (skipping entries of a dead tensor with the same identifier).
    static func run(_ hooks: [ObjectIdentifier: [Entry]], _ t: Tensor) throws {
        guard let list = hooks[ObjectIdentifier(t)] else { return }
        for e in list where e.tensor === t { try e.hook(t) }
    }
}

/// One backward's bookkeeping for hooks: how many graph edges still lead into each leaf. A leaf whose
/// edges have all been walked has its final gradient, even when the reverse topological order reaches the
/// leaf itself much later (a DFS post-order places the leaves found first, such as the output head's
/// weight, at the end of the walk). Created only when a hook is registered.
struct LeafReadiness {
    private let hooks: [ObjectIdentifier: [GradReadyHooks.Entry]]
    private var edges: [ObjectIdentifier: Int] = [:]

    /// nil when no hook is registered; else counts the edges from the nodes of `order` into leaves.
    init?(_ order: [Tensor]) {
        guard let hooks = GradReadyHooks.snapshot() else { return nil }
        self.hooks = hooks
        for t in order {
            guard let node = t.gradNode else { continue }
            for x in node.inputs where x.requiresGradFlag && x.gradNode == nil { edges[ObjectIdentifier(x), default: 0] += 1 }
        }
    }

    /// Marks the edges from one node into `inputs` walked; returns the leaves that have no edge left.
    mutating func consumed(_ inputs: [Tensor]) -> [Tensor] {
        var done: [Tensor] = []
        for x in inputs where x.requiresGradFlag && x.gradNode == nil {
            let k = ObjectIdentifier(x)
            guard let n = edges[k] else { continue }
            if n > 1 { edges[k] = n - 1 } else { edges[k] = nil; done.append(x) }
        }
        return done
    }

    /// Runs the hooks registered for `t`.
    func runHooks(_ t: Tensor) throws { try GradReadyHooks.run(hooks, t) }
}
