// ServeCommand: `llmscript serve CHECKPOINT [options]` (an OpenAI-compatible HTTP server) and
// `llmscript generate CHECKPOINT --prompt TEXT [options]` (the lean inference path). The work is Lua
// (stdlib-lua/llm/serve/init.lua and generate.lua, `main(arg)`, which prints its messages), run in a fresh
// VM by LuaSubcommand; the exit status is 0 done, 1 an error, 2 a usage error.

enum ServeCommand {
    /// Runs `llmscript <command> args...` (command: "serve" or "generate") and returns the exit status.
    static func main(_ command: String, _ args: [String], argv0: String) -> Int32 {
        LuaSubcommand.main(command: command, module: command == "serve" ? "llm.serve" : "llm.serve.generate", args, argv0: argv0)
    }
}
