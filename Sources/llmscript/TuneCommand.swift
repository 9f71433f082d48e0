// TuneCommand: `llmscript tune show STUDY_FILE [--study NAME] [--out DIR] [--top N]` prints a tuning study's
// best trials and writes its SVG plots. The body is Lua (stdlib-lua/llm/tune/show.lua, `main(args)`), run in
// a fresh VM by LuaSubcommand (PlotCommand.swift); its return value is the exit status (0 ok, 1 an error such
// as a missing or corrupt file, 2 usage).

enum TuneCommand {
    static func main(_ args: [String], argv0: String) -> Int32 {
        LuaSubcommand.main(command: "tune", module: "llm.tune.show", args, argv0: argv0)
    }
}
