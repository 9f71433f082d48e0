// ExportCommand: `llmscript export CHECKPOINT --format hf|gguf|safetensors [--dtype ...] [--force] OUT`
// and `llmscript import FOLDER OUT [--force]`. The work is Lua (stdlib-lua/llm/export.lua, `main`), run
// in a fresh VM with `arg` = the words after the command; it returns the exit status (0 done, 1 a
// refusal, 2 a usage error) and the message, printed here (stdout on success, stderr otherwise).
import CLua
import CLuaShim
import LLMLua

enum ExportCommand {
    /// Runs `llmscript <command> args...` (command: "export" or "import") and returns the exit status.
    static func main(_ command: String, _ args: [String], argv0: String) -> Int32 {
        let vm: LuaVM
        do { vm = try LuaVM(strict: false) } catch {
            Output.err("llmscript \(command): \(error)\n")
            return 1
        }
        ScriptRunner(vm: vm).setArgTable(argv: [argv0, command] + args, scriptIndex: 1)
        do {
            let n = try vm.run(string: "return require('llm.export').main('\(command)', arg)", name: "@llmscript \(command)", keepResults: true)
            guard n == 2 else { return 1 }
            let status = Int32(clamping: lua_tointegerx(vm.L, -2, nil))
            let message = lua_tolstring(vm.L, -1, nil).map { String(cString: $0) } ?? ""
            llms_pop(vm.L, 2)
            if status == 0 {
                Output.out(message + "\n")
            } else {
                Output.err("llmscript \(command): \(message)\n")
            }
            return status
        } catch {
            Output.err("llmscript \(command): \(error)\n")
            return 1
        }
    }
}
