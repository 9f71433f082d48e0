// ServeCommand: `llmscript serve CHECKPOINT [options]` (an OpenAI-compatible HTTP server) and
// `llmscript generate CHECKPOINT --prompt TEXT [options]` (the lean inference path). The work is Lua
// (stdlib-lua/llm/serve/init.lua and generate.lua, `main(words)`), run in a fresh VM; it returns the exit
// status (0 done, 1 an error, 2 a usage error) and a message, printed here (stdout on success, stderr
// otherwise). A Lua error (a checkpoint that cannot be read) is status 1 with its message.
import CLua
import CLuaShim
import LLMLua

enum ServeCommand {
    /// Runs `llmscript <command> args...` (command: "serve" or "generate") and returns the exit status.
    static func main(_ command: String, _ args: [String], argv0: String) -> Int32 {
        let module = command == "serve" ? "llm.serve" : "llm.serve.generate"
        do {
            let vm = try LuaVM(strict: false)
            ScriptRunner(vm: vm).setArgTable(argv: [argv0, command] + args, scriptIndex: 1)
            let n = try vm.run(string: "return require('\(module)').main(arg)", name: "@llmscript \(command)", keepResults: true)
            guard n == 2 else { return 1 }
            let status = Int32(clamping: lua_tointegerx(vm.L, -2, nil))
            let message = lua_tolstring(vm.L, -1, nil).map { String(cString: $0) } ?? ""
            llms_pop(vm.L, 2)
            if status == 0 {
                if !message.isEmpty { Output.out(message + "\n") }
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
