// System bindings for recipes: a monotonic wall clock (os.clock is CPU time, wrong with BLAS threads), the
// real-time clock (timestamps of metrics records), terminal detection (progress bars vs log lines), the
// global RNG state (for exact resume), threads, and what the process runs on (llm.system: CPU, SIMD level,
// kernel version, OpenBLAS core and threads).
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
            try Files.makeDirectories(path, what: "makeDirs")
            return 0
        },
        LuaBinding("getThreads", "llm.getThreads() -> int", "The number of BLAS threads.") { a in
            a.push(BLAS.threads); return 1
        },
        LuaBinding(
            "setGEMM", "llm.setGEMM(library: string)",
            "Which library runs matrix products from now on: 'auto' (a fixed rule of shape and CPU: oneDNN where it is faster, OpenBLAS otherwise; the default), 'openblas' or 'onednn' (every product oneDNN can run). Same as LLMSCRIPT_GEMM at start; llm.system().gemm says what is in force. Results differ between libraries only in float rounding."
        ) { a in
            let name = try a.string(1)
            guard let p = GEMMRoute.Policy(rawValue: name) else {
                throw LuaError.argument(1, "unknown GEMM library '\(name)' (expected 'auto', 'openblas' or 'onednn')")
            }
            if p == .onednn && !GEMMRoute.oneDNNUsable {
                throw LuaError.argument(1, "oneDNN is not available here: \(GEMMRoute.summary)")
            }
            GEMMRoute.setPolicy(p); return 0
        },
        LuaBinding("getGEMM", "llm.getGEMM() -> string", "The GEMM library policy in force: 'auto', 'openblas' or 'onednn' (see llm.setGEMM).") { a in
            a.push(GEMMRoute.policy.rawValue); return 1
        },
        LuaBinding(
            "system", "llm.system() -> table",
            "What this process runs on, for bug reports and benchmark records: cpu (brand string), vendor, family, model, simd ('baseline', 'avx2' or 'avx512': what the CPU and OS support), features (list: sse4_2, avx, fma, avx2, avx512f/bw/vl/dq, avx512_bf16, avx512_fp16, avx512_vnni, avx_vnni, amx_*), kernels (the SIMD kernel version in use; LLMSCRIPT_NO_AVX2=1 / LLMSCRIPT_NO_AVX512=1 lower it), blasCore (OpenBLAS's kernels, e.g. 'Haswell', 'SkylakeX'), blasCoreChoice ('openblas', 'llmscript' when the binary forced a better core for the CPU's features, 'user' for OPENBLAS_CORETYPE), blasConfig (OpenBLAS's build line), threads (BLAS threads), gemm (which library runs which matrix products: oneDNN by a fixed rule of shape and CPU, OpenBLAS otherwise; LLMSCRIPT_GEMM=openblas|onednn overrides), onednn (oneDNN's version, nil when not in use)."
        ) { a in
            let id = RuntimeIdentity.current, L = a.L
            lua_createtable(L, 0, 12)
            let strings = [
                ("cpu", id.cpu.brand), ("vendor", id.cpu.vendor), ("simd", id.cpu.simd.name), ("kernels", id.kernels.name),
                ("blasCore", id.blasCore), ("blasCoreChoice", id.blasCoreChoice.rawValue), ("blasConfig", id.blasConfig),
                ("gemm", id.gemm)
            ]
            for (k, v) in strings { a.push(v); lua_setfield(L, -2, k) }
            for (k, v) in [("family", id.cpu.family), ("model", id.cpu.model), ("threads", id.threads)] { a.push(v); lua_setfield(L, -2, k) }
            lua_createtable(L, Int32(id.cpu.features.count), 0)
            for (i, f) in id.cpu.features.enumerated() { a.push(f); lua_rawseti(L, -2, lua_Integer(i + 1)) }
            lua_setfield(L, -2, "features")
            if let v = id.oneDNNVersion { a.push(v); lua_setfield(L, -2, "onednn") }
            return 1
        }
    ]
}
