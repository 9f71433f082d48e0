// TuneCommand: `llmscript tune show STUDY_FILE [--study NAME] [--out DIR] [--top N]` prints a tuning study's
// best trials and writes its SVG plots. The body is Lua (stdlib-lua/llm/tune/show.lua, `main(args)`), run in
// a fresh VM; its return value is the exit status (0 ok, 1 an error such as a missing or corrupt file, 2 usage).
import CLua
import CLuaShim
import LLMLua

enum TuneCommand {
    static func main(_ args: [String], argv0: String) -> Int32 {
        do {
            let vm = try LuaVM(strict: false)
            ScriptRunner(vm: vm).setArgTable(argv: [argv0, "tune"] + args, scriptIndex: 1)
            let n = try vm.run(string: "return require('llm.tune.show').main(arg)", name: "@llmscript tune", keepResults: true)
            guard n > 0 else { return 1 }
            var ok: Int32 = 0
            let status = lua_tointegerx(vm.L, -1, &ok)
            llms_pop(vm.L, n)
            return ok != 0 ? Int32(clamping: status) : 1
        } catch {
            Output.err("llmscript tune: \(error)\n")
            return 1
        }
    }
}
