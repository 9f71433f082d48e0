// llmscript entry point: parse the command line, then run `-e`/`-l` actions, the script and the REPL in
// lua.c's order. Exit status: 0 success, 1 a Lua error (message and traceback on stderr, starting with
// file:line), 2 a usage error (message and usage line on stderr; a first argument that is neither a script
// nor a command, FirstArgument.swift; a recipe's unknown or ill-typed --key, one line). No ML logic here.
#if canImport(Glibc)
    import Glibc
#endif
import LLMDistributed

// OpenBLAS reads its environment once, when the library loads (before main): the thread timeout (idle
// workers otherwise spin ~2^28 cycles after every call against the engine's own threads; 16 measured best
// in BENCHMARKS.md) and the core (kernels) to use, which it picks by CPU model and gets wrong on models it
// does not know. BLASEnvironment.prepare() sets what is missing — never a value the user chose — and then
// the process re-executes itself once so that OpenBLAS loads again with it.
if BLASEnvironment.prepare() {
    execv("/proc/self/exe", CommandLine.unsafeArgv)  // returns only on failure: then run as we are
}

let status = Launcher.main(CommandLine.arguments)
// under mpirun: a rank that fails must end the job, not wait in MPI_Finalize for ranks that wait for it
if status != 0 { Communicator.abortJobIfDistributed(status: status) }
exit(status)
