// System bindings for recipes: a monotonic wall clock (os.clock is CPU time, wrong with BLAS threads), the
// real-time clock (timestamps of metrics records), terminal detection (progress bars vs log lines), the
// global RNG state (for exact resume), threads.
import CLua
import CLuaShim
import LLMCore
import LLMIO

#if canImport(Glibc)
import Glibc
#endif

enum SystemBindings {
    static let functions: [LuaBinding] = [
        LuaBinding("clock", "llm.clock() -> number", "Monotonic wall-clock time in seconds (for timing and tokens/s).") { a in
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            a.push(Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9); return 1
        },
        LuaBinding("time", "llm.time() -> number", "Wall-clock time: seconds since the Unix epoch, with a fractional part (for timestamps).") { a in
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            a.push(Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9); return 1
        },
        LuaBinding("isTerminal", "llm.isTerminal([fd: int]) -> boolean", "True when the file descriptor (default 1, stdout) is a terminal.") { a in
            let fd = try a.optInteger(1, 1)
            guard let fd32 = Int32(exactly: fd), fd32 >= 0 else { throw LuaError.argument(1, "invalid file descriptor \(fd)") }
            a.push(isatty(fd32) == 1); return 1
        },
        LuaBinding("getRngState", "llm.getRngState() -> {int}", "The global generator's state (llm.manualSeed's stream), for checkpoints.") { a in
            a.push(ints: Generator.shared.state.map { Int(Int64(bitPattern: $0)) }); return 1
        },
        LuaBinding("setRngState", "llm.setRngState(state: {int})", "Restores a state saved with llm.getRngState().") { a in
            let s = try a.intList(1, allowNegative: true)
            guard s.count == 6 else { throw LuaError.argument(1, "expected a state of 6 integers from llm.getRngState(), got \(s.count)") }
            Generator.shared.state = s.map { UInt64(bitPattern: Int64($0)) }
            return 0
        },
        LuaBinding("setThreads", "llm.setThreads(n: int)", "Sets the number of BLAS threads.") { a in
            let n = try a.integer(1)
            guard n >= 1 && n <= 1024 else { throw LuaError.argument(1, "thread count must be between 1 and 1024, got \(n)") }
            BLAS.setThreads(n); return 0
        },
        LuaBinding("makeDirs", "llm.makeDirs(path: string)", "Creates a folder and its missing parents (like mkdir -p); an existing folder is fine.") { a in
            let path = try a.path(1, .write)
            guard !path.isEmpty, !path.utf8.contains(0) else { throw LuaError.argument(1, "expected a non-empty path") }
            do { try Files.makeDirectories(path, what: "makeDirs") } catch let e as FileError { throw LuaError.runtime(e.message) }
            return 0
        },
        LuaBinding("getThreads", "llm.getThreads() -> int", "The number of BLAS threads.") { a in a.push(BLAS.threads); return 1 },
    ]
}
