// PlotCommand: `llmscript plot RUN [RUN...] [--out FILE.svg|FILE.png] [--metrics loss,lr,tokensPerSec,energy]`
// draws the training curves of one or several runs (their metrics.jsonl) into one SVG. The body is Lua
// (stdlib-lua/llm/observe/runplot.lua, `main(args)`), run by LuaSubcommand: a subcommand whose body is a
// stdlib module's `main(arg)` in a fresh VM, its return value the exit status (0 ok, 1 an error such as a
// missing or corrupt file, 2 usage).
import CLua
import CLuaShim
import LLMLua

enum PlotCommand {
    static func main(_ args: [String], argv0: String) -> Int32 {
        LuaSubcommand.main(command: "plot", module: "llm.observe.runplot", args, argv0: argv0)
    }
}

/// Runs `require(module).main(arg)` for `llmscript <command> ARGS...`; returns its integer result (1 when it
/// returns none or fails).
enum LuaSubcommand {
    static func main(command: String, module: String, _ args: [String], argv0: String) -> Int32 {
        do {
            let vm = try LuaVM(strict: false)
            ScriptRunner(vm: vm).setArgTable(argv: [argv0, command] + args, scriptIndex: 1)
            let n = try vm.run(string: "return require('\(module)').main(arg)", name: "@llmscript \(command)", keepResults: true)
            guard n > 0 else { return 1 }
            var ok: Int32 = 0
            let status = lua_tointegerx(vm.L, -1, &ok)
            llms_pop(vm.L, n)
            return ok != 0 ? Int32(clamping: status) : 1
        } catch {
            Output.err("llmscript \(command): \(error)\n")
            return 1
        }
    }
}
