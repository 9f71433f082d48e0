// RuntimeIdentity: what ran — the CPU, its SIMD level, the CKernels version in use, OpenBLAS's core, build
// and thread count, and which GEMM library runs which products (OpenBLAS, oneDNN) — for `llmscript --version`, `llm.system()` and benchmark records, so that a bug report
// or a timing says which code paths produced it.

/// A snapshot of the CPU and BLAS identity of this process.
public struct RuntimeIdentity: Sendable {
    /// The CPU (features, SIMD level).
    public let cpu: CPUInfo
    /// The CKernels version in use ("baseline", "avx2", "avx512").
    public let kernels: CPUInfo.SIMDLevel
    /// OpenBLAS's core, who chose it, its build line and its thread count.
    public let blasCore: String, blasCoreChoice: BLAS.CoreChoice, blasConfig: String, threads: Int
    /// Which library runs which GEMMs (``GEMMRoute/summary``), and oneDNN's version when it is in use.
    public let gemm: String, oneDNNVersion: String?

    /// The identity now (thread count and kernel version may change during a run).
    public static var current: RuntimeIdentity {
        RuntimeIdentity(
            cpu: .current, kernels: CPUInfo.kernels, blasCore: BLAS.coreName, blasCoreChoice: BLAS.coreChoice,
            blasConfig: BLAS.config, threads: BLAS.threads, gemm: GEMMRoute.summary, oneDNNVersion: GEMMRoute.oneDNNVersion)
    }

    /// Three lines: "cpu: <brand> (<vendor> family F model M), simd <level>, kernels <level>",
    /// "blas: <core> core (chosen by <who>), <n> threads; <build line>" and "gemm: <which library runs what>".
    public var summary: String {
        let detail = cpu.vendor.isEmpty ? "" : " (\(cpu.vendor) family \(cpu.family) model \(cpu.model))"
        return "cpu: \(cpu.brand)\(detail), simd \(cpu.simd.name), kernels \(kernels.name)\n"
            + "blas: \(blasCore) core (chosen by \(blasCoreChoice.rawValue)), \(threads) thread\(threads == 1 ? "" : "s"); \(blasConfig)\n"
            + "gemm: \(gemm)"
    }
}
