// Binding: how a Swift closure becomes a Lua function. Each binding is declarative data (name, signature,
// one-line doc, closure); the signature and doc feed error messages, `help()` and the README API list
// from one source. All calls go through the C trampoline in CLuaShim, so no longjmp crosses Swift.
import CLua
import CLuaShim
import LLMCore
import Synchronization

/// A Swift function callable from Lua. It reads arguments through ``LuaArgs``, pushes its results,
/// and returns how many it pushed. It only throws; it never raises a Lua error itself.
public typealias LuaFunction = @Sendable (LuaArgs) throws -> Int32

/// One entry of a binding table.
public struct LuaBinding: Sendable {
    /// Lua name within its namespace (`matmul`).
    public let name: String
    /// Call signature shown by `help` (`t:matmul(other: Tensor) -> Tensor`).
    public let signature: String
    /// One-line description.
    public let doc: String
    /// The implementation.
    public let fn: LuaFunction

    public init(_ name: String, _ signature: String, _ doc: String, _ fn: @escaping LuaFunction) {
        self.name = name; self.signature = signature; self.doc = doc; self.fn = fn
    }
}

/// The retained payload behind one registered function id.
final class FunctionBox {
    let binding: LuaBinding
    /// Why a sandboxed state may not call this function (an unchecked path parameter), or nil.
    let sandboxDenial: String?
    init(_ b: LuaBinding, key: String = "") { binding = b; sandboxDenial = Sandbox.denial(key: key, signature: b.signature) }
}

/// Process-wide registration state: bindings by id (the C id table holds the same boxes, retained),
/// and ids by key, so a binding table is registered once even when many states (threads) open it.
struct BindingTable {
    var bindings: [LuaBinding] = []
    var ids: [String: Int32] = [:]
}
let bindingTable = Mutex(BindingTable())

private let dispatcher:
    @convention(c) (
        OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?,
        UnsafeMutablePointer<Int32>?
    ) -> Int32 = { L, ctx, arg, gckb in
        guard let L, let ctx, let arg, let gckb else { return LLMS_ERR_MSG }
        let before = Storage.allocatedBytes.load(ordering: .relaxed)
        // sandboxed state: tensor storages made during the call are charged to the state's own budget
        let budget = MemoryBudget.of(L)
        defer {
            let now = Storage.allocatedBytes.load(ordering: .relaxed)
            let grown = now &- before
            if grown > 0 {
                // sandboxed: step the GC by the native bytes (its memory budget counts tensors the GC has not freed)
                if budget != nil { gckb.pointee = Int32(clamping: grown >> 10) } else if NativeGCPacing.shouldCollect(allocated: now) { gckb.pointee = -1 }  // full cycle (C side)
            }
        }
        let box = Unmanaged<FunctionBox>.fromOpaque(ctx).takeUnretainedValue()
        if budget != nil, let denial = box.sandboxDenial { lua_pushstring(L, denial); return LLMS_ERR_MSG }
        do {
            if let budget { return try MemoryAccounts.withCurrent(budget) { try Sandbox.withFiles(L) { try box.binding.fn(LuaArgs(L, box.binding.name)) } } }
            return try box.binding.fn(LuaArgs(L, box.binding.name))
        } catch let e as LuaError {
            switch e {
            case .argument(let i, let m): arg.pointee = i; lua_pushstring(L, m); return LLMS_ERR_ARG
            case .type(let i, let t): arg.pointee = i; lua_pushstring(L, t); return LLMS_ERR_TYPE
            case .runtime(let m): lua_pushstring(L, m); return LLMS_ERR_MSG
            case .script(let m): lua_pushstring(L, m); return LLMS_ERR_RAW
            }
        } catch let e as any UserFacingError {
            let prefixed = type(of: e).prefixedWithFunctionName
            lua_pushstring(L, prefixed ? "\(box.binding.name): \(e.description)" : e.description); return LLMS_ERR_MSG
        } catch {
            lua_pushstring(L, "\(box.binding.name): \(error)"); return LLMS_ERR_MSG
        }
    }

func installDispatcher() { llms_set_dispatcher(dispatcher) }

/// Pushes the Lua function for `b`, registering it on first use under `key`.
func pushBinding(_ L: OpaquePointer, _ b: LuaBinding, key: String) {
    let id: Int32 = bindingTable.withLock { table in
        if let known = table.ids[key] { return known }
        let id = llms_register_ctx(Unmanaged.passRetained(FunctionBox(b, key: key)).toOpaque())
        table.bindings.append(b)
        table.ids[key] = id
        return id
    }
    llms_push_function(L, id)
}

/// The binding behind a Lua value, if it is a registered llmscript function.
func binding(at idx: Int32, in L: OpaquePointer) -> LuaBinding? {
    var id: Int32 = 0
    guard llms_function_id(L, idx, &id) != 0 else { return nil }
    return bindingTable.withLock { id >= 0 && Int(id) < $0.bindings.count ? $0.bindings[Int(id)] : nil }
}

/// When a Lua state runs a garbage-collection cycle because of tensor memory. Lua's own pacing sees only the
/// Lua heap (a few hundred KB in a training script), not the native bytes its tensor userdata hold, so the
/// bridge asks for a full cycle whenever native allocations since the last one exceed a quarter of the live
/// native bytes, clamped to 64–256 MB: garbage tensors stay below min(25% of live memory, 256 MB), at a few
/// cycles per training step. (Stepping the GC by every allocated KB ran 45 cycles per tiny GPT step: 1.8% of its time.)
enum NativeGCPacing {
    static let lastCollect = Atomic<Int>(0)
    static let minimumDebt = 64 << 20
    static let maximumDebt = 256 << 20

    static func shouldCollect(allocated: Int) -> Bool {
        let last = lastCollect.load(ordering: .relaxed)
        let threshold = Swift.min(Swift.max(minimumDebt, Storage.liveBytes.load(ordering: .relaxed) / 4), maximumDebt)
        guard allocated &- last >= threshold else { return false }
        return lastCollect.compareExchange(expected: last, desired: allocated, ordering: .relaxed).exchanged
    }
}
