// EvalCommand: `llmscript eval CHECKPOINT TASK... [--json OUT] [--batch N] [--stride N] [--unk C] [--bins N]`
// scores a checkpoint on text files (perplexity, bits per byte) and multiple-choice JSONL tasks (acc,
// acc_norm, expected calibration error). The body is Lua (stdlib-lua/llm/eval/cli.lua, `main(args)`), run in
// a fresh VM by LuaSubcommand (PlotCommand.swift); its return value is the exit status (0 ok, 1 an error such
// as a missing checkpoint or a bad task file, 2 usage).

enum EvalCommand {
    static func main(_ args: [String], argv0: String) -> Int32 {
        LuaSubcommand.main(command: "eval", module: "llm.eval.cli", args, argv0: argv0)
    }
}
