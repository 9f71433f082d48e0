// BLASEnvironment: the environment OpenBLAS must see when it loads (it reads these variables once, before
// main), applied by main.swift re-executing the binary when something had to change:
// - OPENBLAS_THREAD_TIMEOUT=16 unless the user set it: idle OpenBLAS workers spin ~20 µs instead of ~2^28
//   cycles after each call, so they stop taking cores from the engine's own threads (BENCHMARKS.md).
// - OPENBLAS_CORETYPE=<best core for the CPU's features> when OpenBLAS picked a lower one (0.3.21 falls
//   back to "Prescott" on CPU models it does not know) and the user did not set OPENBLAS_CORETYPE
//   (BLASCore.swift has the rule). The forced core is also recorded in LLMSCRIPT_BLAS_CORE_AUTO, so the
//   re-executed process knows the value is the binary's, not the user's: if this OpenBLAS build did not take
//   it (a build without that core), the next core of the rule is tried, one re-execution each.
import LLMCore
#if canImport(Glibc)
    import Glibc
#endif

enum BLASEnvironment {
    /// What runs, for `--version`: CPU, SIMD level, kernel version, OpenBLAS core and threads (two lines).
    static var identity: String { RuntimeIdentity.current.summary }

    /// Sets the variables this process needs; true when one changed (the caller re-executes).
    static func prepare() -> Bool {
        var changed = false
        if getenv("OPENBLAS_THREAD_TIMEOUT") == nil {
            setenv("OPENBLAS_THREAD_TIMEOUT", "16", 1)
            changed = true
        }
        if let core = coreToForce() {
            setenv("OPENBLAS_CORETYPE", core, 1)
            setenv(BLAS.autoCoreVariable, core, 1)
            changed = true
        }
        return changed
    }

    /// The core to force now, or nil (the user's choice, a library without run-time selection, or OpenBLAS's
    /// own choice already as good as the CPU's features allow).
    static func coreToForce() -> String? {
        guard BLAS.selectsCoreAtRunTime else { return nil }
        let forced = getenv(BLAS.autoCoreVariable).map { String(cString: $0) }
        switch BLAS.coreChoice {
        case .user: return nil
        case .openblas: return BLAS.coreToForce(current: BLAS.coreName, cpu: .current)
        case .llmscript: return BLAS.coreToForce(current: BLAS.coreName, cpu: .current, after: forced)
        }
    }
}
