// llmscript entry point (placeholder until the CLI lands).
import LLMLua
do {
    let vm = try LuaVM()
    if CommandLine.arguments.count > 1 { try vm.run(file: CommandLine.arguments[1], args: Array(CommandLine.arguments.dropFirst(2))) }
} catch { print(error) }
