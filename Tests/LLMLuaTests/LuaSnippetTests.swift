// Runs small Lua snippets through LuaVM and checks the results (the host, bindings and errors).
import Testing
@testable import LLMLua

/// Runs `code` in a fresh VM and returns the error message, or nil on success.
func luaError(_ code: String, strict: Bool = true) throws -> String? {
    let vm = try LuaVM(strict: strict)
    do { try vm.run(string: code, name: "=test"); return nil } catch let e as LuaError { return e.description }
}

@Test func smokeRunsSnippet() throws {
    #expect(try luaError("assert(llm.zeros(2, 3):numel() == 6)") == nil)
}
