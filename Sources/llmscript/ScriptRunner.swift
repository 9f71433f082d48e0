// ScriptRunner: runs the non-interactive parts of a command line in a LuaVM, like lua.c: the `arg` table
// (arg[0] = script, options at negative indices, script arguments at 1...), `-e` chunks and `-l` modules
// in order, then the script from a file or stdin with its arguments as `...`. Every Lua error comes back
// as a thrown LuaError with its traceback (`usageError(in:)` picks out a recipe's bad command line);
// nothing here prints or exits.
import CLua
import CLuaShim
import LLMLua

struct ScriptRunner {
    let vm: LuaVM

    /// Creates the global `arg` like lua.c: `argv[scriptIndex]` at 0, everything before it at negative
    /// indices (the interpreter at the lowest), script arguments from 1. Without a script, arg[0] is the
    /// interpreter and the options follow from 1 (as lua.c does).
    func setArgTable(argv: [String], scriptIndex: Int) {
        let L = vm.L
        let base = scriptIndex
        lua_createtable(L, Int32(clamping: max(argv.count - base - 1, 0)), Int32(clamping: base + 1))
        for (i, a) in argv.enumerated() {
            lua_pushstring(L, a)
            lua_rawseti(L, -2, lua_Integer(i - base))
        }
        vm.rawSetGlobal("arg")
    }

    /// Runs one `-e` / `-l` action.
    func run(_ action: StartupAction) throws {
        switch action {
        case .execute(let code):
            try vm.run(string: code, name: "=(command line)")
        case .require(let module, let global):
            try vm.require(module, global: global)
        }
    }

    /// Loads and runs the main chunk with `args` as its varargs.
    func run(_ source: ScriptSource, args: [String]) throws {
        let L = vm.L
        let status: Int32
        switch source {
        case .file(let path): status = llms_loadfile(L, path)
        case .stdin: status = llms_loadfile(L, nil)  // luaL_loadfilex(NULL) reads stdin as "=stdin"
        }
        if status != LUA_OK { throw LuaError.script(popString()) }
        guard lua_checkstack(L, Int32(clamping: args.count + 1)) != 0 else {
            llms_pop(L, 1)
            throw LuaError.script("too many script arguments (\(args.count))")
        }
        for a in args { lua_pushstring(L, a) }
        try vm.protectedCall(nargs: Int32(args.count), nresults: 0)
    }

    /// Calls `llm.manualSeed(seed)` (under pcall, so a missing function is a Lua error, not a crash).
    func seed(_ seed: Int64) throws {
        try vm.run(string: "llm.manualSeed(\(seed))", name: "=(--seed)")
    }

    /// The one-line message of a recipe's command-line error (an unknown or ill-typed `--key`, raised by
    /// llm.config), without its traceback; nil for any other error.
    func usageError(in error: Error) -> String? {
        guard case LuaError.script(let message) = error else { return nil }
        let L = vm.L
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        let code = "local c = package.loaded['llm.config']; return type(c) == 'table' and c.usageErrorOf and c.usageErrorOf(...)"
        guard llms_loadbuffer(L, code, code.utf8.count, "=(usage)") == LUA_OK else { return nil }
        lua_pushstring(L, message)
        guard (try? vm.protectedCall(nargs: 1, nresults: 1)) != nil, lua_type(L, -1) == LUA_TSTRING,
            let text = llms_tostring(L, -1)
        else { return nil }
        return String(cString: text)
    }

    private func popString() -> String {
        let msg = llms_tostring(vm.L, -1).map { String(cString: $0) } ?? "(error object is not a string)"
        llms_pop(vm.L, 1)
        return msg
    }
}
