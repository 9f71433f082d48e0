// MemoryBudget: the Swift face of a sandboxed state's memory budget (llms_budget, CLuaShim/llms_sandbox.c).
// One budget per sandboxed state holds its Lua heap (counted by the allocator), the tensor storages
// allocated while its bindings run (Storage charges MemoryAccounts.current, which the dispatcher sets),
// and the transient Swift buffers a binding declares with `LuaArgs.reserve`. Worker states get a child
// budget (the parent's remaining bytes, charged to the parent as well). Nothing here is process-wide.
//
// Checking before producing: a binding that builds Lua values or Swift buffers from native data calls
// `a.reserve(lua:native:)` with the byte estimate of what it will build (sizes from `LuaSize`) before
// building it; the estimate is refused with a clear error when it does not fit what the budget has left
// (or, unsandboxed, the machine's memory), and the native part is held until the call returns.
import CLua
import CLuaShim
import LLMCore

/// A reference-counted `llms_budget` as a ``MemoryAccount``.
final class MemoryBudget: MemoryAccount, @unchecked Sendable {
    let raw: OpaquePointer

    /// Wraps `raw`, taking one reference of its own.
    init(_ raw: OpaquePointer) { self.raw = raw; llms_budget_retain(raw) }
    deinit { llms_budget_release(raw) }

    func charge(_ bytes: Int) -> Bool { bytes <= 0 || llms_budget_charge(raw, bytes, 0) != 0 }
    func credit(_ bytes: Int) { if bytes > 0 { llms_budget_credit(raw, bytes) } }
    var limitBytes: Int { Int(clamping: llms_budget_effective_limit(raw)) }
    var usedBytes: Int { Int(clamping: llms_budget_used(raw)) }
    /// Bytes that can still be charged (Int.max when nothing limits it).
    var availableBytes: Int { Int(clamping: llms_budget_available(raw)) }

    /// The budget of a sandboxed state (created on first use and kept in the sandbox record until
    /// ``close(_:)``); nil for an ordinary state.
    static func of(_ L: OpaquePointer) -> MemoryBudget? {
        guard let sb = llms_sandbox_of(L) else { return nil }
        if let host = sb.pointee.host { return Unmanaged<MemoryBudget>.fromOpaque(host).takeUnretainedValue() }
        let b = MemoryBudget(sb.pointee.budget)
        sb.pointee.host = Unmanaged.passRetained(b).toOpaque()
        return b
    }

    /// Closes a sandboxed state and drops its budget object (storages still alive keep theirs).
    static func close(_ L: OpaquePointer) {
        let host = llms_sandbox_of(L)?.pointee.host
        llms_sandbox_close(L)
        if let host { Unmanaged<MemoryBudget>.fromOpaque(host).release() }
    }
}

/// Byte estimates of Lua values on a 64-bit Lua 5.4 (upper bounds, used before building them).
enum LuaSize {
    /// A table header.
    static let table = 64
    /// One slot of a table's array part (a TValue).
    static let arraySlot = 16
    /// One entry of a table's hash part (a Node, times 2 for the power-of-two rounding).
    static let hashEntry = 64
    /// A string of `n` bytes (header + bytes + NUL, rounded).
    static func string(_ n: Int) -> Int { n &+ 40 }

    /// Overflow-checked sum of products: `terms` pairs (count, bytes each). Int.max on overflow.
    static func total(_ terms: (Int, Int)...) -> Int {
        var sum = 0
        for (n, each) in terms {
            let (p, o1) = Swift.max(n, 0).multipliedReportingOverflow(by: each)
            let (s, o2) = sum.addingReportingOverflow(p)
            if o1 || o2 { return Int.max }
            sum = s
        }
        return sum
    }
}

extension LuaArgs {
    /// Checks, before a binding builds them, that `lua` bytes of Lua values plus `native` bytes of Swift
    /// buffers fit the state's remaining memory budget (unsandboxed: the machine's memory), and holds the
    /// `native` bytes against the budget until the call returns. Throws a clear error naming the call
    /// otherwise. Pass estimates from ``LuaSize`` (Int.max stands for an overflowed size).
    public func reserve(lua: Int = 0, native: Int = 0) throws {
        let (total, o) = lua.addingReportingOverflow(native)
        let need = o || lua < 0 || native < 0 ? Int.max : total
        let size = need == Int.max ? "more than \(Int.max)" : "about \(need)"
        if let sb = llms_sandbox_of(L), let budget = MemoryBudget.of(L), budget.limitBytes > 0 {
            let left = budget.availableBytes
            guard need <= left, llms_sandbox_hold(sb, native) != 0 else {
                throw LuaError.runtime("sandbox: memory limit of \(budget.limitBytes) bytes exceeded (\(name) needs \(size) bytes, \(left) left)")
            }
            return
        }
        guard need <= Storage.maxBytes else {
            throw LuaError.runtime("\(name): the result needs \(size) bytes, more than this machine's memory (\(Storage.maxBytes) bytes)")
        }
    }

    /// What the state's memory budget has left in bytes; nil when nothing limits it.
    public var memoryLeft: Int? {
        guard let budget = MemoryBudget.of(L), budget.limitBytes > 0 else { return nil }
        return budget.availableBytes
    }

    /// The memory limit that applies to the state in bytes (0: none).
    public var memoryLimit: Int { MemoryBudget.of(L)?.limitBytes ?? 0 }

    /// Throws when a Lua allocation inside this call has already passed the memory limit (a builder
    /// calls it every few thousand values, so an estimate that was too low stops early).
    public func checkMemory() throws {
        guard let sb = llms_sandbox_of(L), sb.pointee.over != 0 else { return }
        throw LuaError.runtime("sandbox: memory limit of \(sb.pointee.limit) bytes exceeded (in \(name))")
    }
}
