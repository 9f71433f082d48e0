// SandboxMemoryTests: memory budgets are per state, in process. Two sandboxed states with different limits
// keep their own limits, closing one leaves the other's in place (no process-wide reset), tensors are
// credited to the budget they were charged to when they are freed (also after their state is gone), a
// child budget charges its parent and starts with what the parent has left, and size checks refuse
// before building. Peak RSS per binding is measured in Tests/lua/sandbox_memory_spec.lua (CLI processes).
import CLuaShim
import Foundation
import LLMCore
import Testing
@testable import LLMLua

@Suite struct SandboxMemoryTests {
    static func vm(_ limit: Int) throws -> LuaVM { try LuaVM(strict: false, sandbox: SandboxPolicy(memoryLimit: limit)) }

    /// Runs `code`; nil when it succeeded, else the message.
    static func error(_ vm: LuaVM, _ code: String) -> String? {
        do { try vm.run(string: code, name: "=t"); return nil } catch { return "\(error)" }
    }

    @Test func eachStateKeepsItsOwnLimit() throws {
        let small = try Self.vm(16 << 20), large = try Self.vm(256 << 20)
        #expect(Self.error(small, "x = llm.zeros(8e6)")?.contains("memory limit of 16777216 bytes exceeded") == true)
        #expect(Self.error(large, "x = llm.zeros(8e6)") == nil)  // 32 MB: fits the large budget only
        #expect(Self.error(large, "y = llm.zeros(8e7)")?.contains("memory limit of 268435456 bytes exceeded") == true)
    }

    @Test func closingAStateLeavesTheOthersLimit() throws {
        let kept = try Self.vm(16 << 20)
        do { let other = try Self.vm(16 << 20); _ = Self.error(other, "x = llm.zeros(1000)") }  // closed here
        #expect(Self.error(kept, "x = llm.zeros(8e6)")?.contains("memory limit of 16777216 bytes exceeded") == true)
        let trusted = try LuaVM(strict: false)  // an unlimited state next to it
        #expect(Self.error(trusted, "x = llm.zeros(8e6)") == nil)
        #expect(Self.error(kept, "x = llm.zeros(8e6)")?.contains("memory limit") == true)
    }

    @Test func tensorsAreCreditedWhenFreed() throws {
        let vm = try Self.vm(64 << 20)
        let budget = try #require(MemoryBudget.of(vm.L))
        let before = budget.usedBytes
        #expect(Self.error(vm, "x = llm.zeros(4e6)") == nil)
        #expect(budget.usedBytes >= before + 15_000_000)
        #expect(Self.error(vm, "x = nil; collectgarbage(); collectgarbage()") == nil)
        #expect(budget.usedBytes < before + 1_000_000)
        // 10 rounds of 40 MB under a 64 MB limit: freed tensors give their bytes back
        #expect(Self.error(vm, "for i = 1, 10 do local t = llm.zeros(1e7); t:free() end") == nil)
    }

    @Test func aTensorOutlivingItsStateCreditsItsBudget() throws {
        var kept: Tensor? = nil
        do {
            let vm = try Self.vm(64 << 20)
            try vm.run(string: "return llm.zeros(1000)", name: "=t", keepResults: true)
            kept = try Userdata.tensor(vm.L, -1)
        }
        #expect(kept?.count == 1000)
        kept = nil  // credits a budget whose state is closed: no crash
    }

    @Test func childBudgetsChargeTheirParentAndStartWithWhatIsLeft() throws {
        let parent = try #require(llms_budget_new(1 << 20, nil))
        defer { llms_budget_release(parent) }
        #expect(llms_budget_charge(parent, 600 << 10, 0) == 1)
        let L = try #require(llms_sandbox_newstate_child(parent))
        let sb = try #require(llms_sandbox_of(L))
        let child = try #require(sb.pointee.budget)
        #expect(llms_budget_limit(child) > 0 && llms_budget_limit(child) <= 424 << 10)  // what the parent had left
        #expect(llms_budget_used(parent) > 600 << 10)  // the child's Lua heap is charged to the parent
        #expect(llms_budget_charge(child, 500 << 10, 0) == 0)  // past what the parent has left
        #expect(llms_budget_used(parent) < 1 << 20)
        llms_sandbox_close(L)
        #expect(llms_budget_used(parent) == 600 << 10)  // everything the child held is back
        #expect(llms_budget_limit(parent) == 1 << 20)
    }

    @Test func sizesAreCheckedBeforeBuilding() throws {
        let vm = try Self.vm(32 << 20)
        #expect(Self.error(vm, "llm.json.decode('[' .. string.rep('1,', 1e6) .. '1]')")?.contains("decode needs about") == true)
        #expect(Self.error(vm, "llm.zeros(4e6):totable()")?.contains("totable needs about") == true)
        #expect(Self.error(vm, "llm.text.sample(2^62, 2^62)")?.contains("memory limit") == true)
        #expect(Self.error(vm, "assert(#llm.text.sample(2^62, 3) == 3)") == nil)
        #expect(Self.error(vm, "assert(#llm.json.decode('[1,2,3]') == 3)") == nil)
    }
}
