// llmscript entry point: parse the command line, then run `-e`/`-l` actions, the script and the REPL in
// lua.c's order. Exit status: 0 success, 1 a Lua error (message and traceback on stderr, starting with
// file:line), 2 a usage error (message and usage line on stderr). No ML logic lives in this target.
#if canImport(Glibc)
import Glibc
#endif

exit(Launcher.main(CommandLine.arguments))
