// ValuePrinter: shows the results of a REPL entry. The formatting itself is Lua (stdlib-lua/llm/repl.lua:
// quoted strings, shallow bounded tables, tostring for tensors) and runs under pcall, so a failing
// __tostring is reported as an error instead of raising through Swift.
import CLua
import CLuaShim
import LLMLua

struct ValuePrinter {
    let vm: LuaVM
    /// Registry reference of `require('llm.repl').format`.
    private let formatRef: Int32

    init(vm: LuaVM) throws {
        self.vm = vm
        try vm.run(string: "return require('llm.repl').format", name: "=(repl)", keepResults: true)
        formatRef = luaL_ref(vm.L, llms_registryindex())
    }

    /// Pops the `count` values on top of the stack and prints them on one line (tab-separated).
    func printTop(_ count: Int32) {
        let L = vm.L
        guard count > 0 else { return }
        _ = lua_rawgeti(L, llms_registryindex(), lua_Integer(formatRef))
        lua_rotate(L, -(count + 1), 1)  // formatter below the values
        do {
            try vm.protectedCall(nargs: count, nresults: 1)
            var len = 0
            if let s = lua_tolstring(L, -1, &len) {
                let bytes = UnsafeRawBufferPointer(start: s, count: len)
                Output.line(String(decoding: bytes, as: UTF8.self))
            }
            llms_pop(L, 1)
        } catch {
            Output.line("\(error)", toError: true)
        }
    }
}
