// Lua steps of a pipeline. `LuaFunctionStage`: a Lua function of the calling state, run as an
// OrderedDocumentStage (calling thread, input order) while the function sits on the stack during
// p:run(). `LuaWorkerStage`: a module function run in worker Lua states borrowed from ``WorkerStates``
// (parallel/WorkerStates.swift, the one mechanism that runs Lua in parallel: same package paths, sandbox
// and child memory budget as the caller). Both speak the same protocol: doc table in; doc table, string
// (new text) or nil(, reason) out.
import CLua
import CLuaShim
import Foundation
import LLMCore
import LLMData

/// A Lua function of the calling state as a pipeline step.
final class LuaFunctionStage: OrderedDocumentStage {
    let name: String
    let L: OpaquePointer
    let index: Int32

    /// `index` must stay valid (an absolute stack slot holding the function) while the stage runs.
    init(L: OpaquePointer, index: Int32, name: String) { self.L = L; self.index = index; self.name = name }

    func process(_ doc: Document) throws -> StageOutcome {
        try PipelineBindings.callStep(L, name: name, doc: doc) { lua_pushvalue(L, index) }
    }
}

/// A function `module.fn` run in worker Lua states on the pipeline's threads: states borrowed from the
/// same mechanism as parallel.pool's (``WorkerStates``), one per concurrent call, each with one engine thread.
final class LuaWorkerStage: DocumentStage, @unchecked Sendable {
    let name: String
    let fn: String
    let states: WorkerStates

    /// `sandbox` is the calling state's: worker states get the same policy and, sandboxed, child budgets of
    /// the caller's memory budget (``MemoryAccounts/current``, set by the dispatcher for the caller), so N
    /// workers cannot take N times the limit.
    init(module: String, fn: String, name: String, path: String, cpath: String, sandbox: SandboxPolicy?) {
        self.fn = fn; self.name = name
        let budget = sandbox == nil ? nil : MemoryAccounts.current as? MemoryBudget
        states = WorkerStates(WorkerSetup(module: module, path: path, cpath: cpath, sandbox: sandbox, parentBudget: budget))
    }

    func process(_ doc: Document) throws -> StageOutcome {
        try states.borrow { state in
            try state.call(fn, [Self.value(doc)], share: 1) { L, first, count in
                // the step protocol, as PipelineBindings.callStep reads it: doc | text | nil/false(, reason)
                if count < 1 || lua_toboolean(L, first) == 0 {
                    let reason = count >= 2 && lua_type(L, first + 1) == LUA_TSTRING ? PipelineBindings.text(L, first + 1) : "dropped by \(name)"
                    return .drop(reason: reason)
                }
                return .keep(try PipelineBindings.document(L, first, base: doc, what: "step '\(name)' result"))
            }
        }
    }

    /// The document as the table a step receives: {text=, id=, meta={k=v}}.
    static func value(_ doc: Document) -> CrossStateValue {
        .table([
            (.text("text"), .text(doc.text)), (.text("id"), .text(doc.id)),
            (.text("meta"), .table(doc.meta.map { (.text($0.key), .text($0.value)) }))
        ])
    }
}

/// Lua-visible wrapper of a Swift stage (parallel or ordered): `llm.data.Stage`.
public final class StageBox: LuaBridged {
    public static var luaTypeName: String { "llm.data.Stage" }
    /// The wrapped step.
    public let step: PipelineStep
    public init(_ step: PipelineStep) { self.step = step }
}
