// llmscript entry point: parse the command line, then run `-e`/`-l` actions, the script and the REPL in
// lua.c's order. Exit status: 0 success, 1 a Lua error (message and traceback on stderr, starting with
// file:line), 2 a usage error (message and usage line on stderr; a first argument that is neither a script
// nor a command, FirstArgument.swift; a recipe's unknown or ill-typed --key, one line). No ML logic here.
#if canImport(Glibc)
import Glibc
#endif

// OpenBLAS reads OPENBLAS_THREAD_TIMEOUT once, when the library loads (before main). By default its idle
// workers spin for about 2^28 cycles after every call, competing for the 2 cores with the engine's own
// worker threads (measured in BENCHMARKS.md: a tiny GPT step 286 -> 230 ms, char 2104 -> 1844 ms with 4).
// 2^16 cycles (~20 µs) keeps them awake between the back-to-back matrix-vector products of decoding (KV-cache
// generation +20% over 4) without costing training steps. So, unless the user chose a value, the process
// re-executes itself once with that timeout.
if getenv("OPENBLAS_THREAD_TIMEOUT") == nil {
    setenv("OPENBLAS_THREAD_TIMEOUT", "16", 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)   // returns only on failure: then run as we are
}

exit(Launcher.main(CommandLine.arguments))
