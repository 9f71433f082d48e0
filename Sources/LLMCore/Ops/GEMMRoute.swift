// GEMMRoute: which library runs a float32 GEMM, OpenBLAS or oneDNN (CDNNLShim, libdnnl loaded on first
// use), by a fixed rule of shape and CPU features — never by run-time timing, so for a given thread count a
// run stays bit-reproducible. The rule (measured in BENCHMARKS.md, "CPU kinds"):
// - AVX-512 CPUs: oneDNN for every product of at least `minimumWork` multiply-adds, and for one-row products
//   (decoding) of at least `minimumRowWork` — the issue-12 probe on an AVX-512 Xeon had oneDNN ahead of
//   OpenBLAS's best core on every shape (GEMV 2–3x).
// - AVX2 and older: oneDNN for products with k ≤ 512 that overwrite their output (beta 0; a Linear's bias is
//   then fused into oneDNN's kernel instead of prefilled): OpenBLAS pays a separate pass that zeroes or
//   prefills C, which dominates when k is short (the tiny config's 4096×N×128 products: +16–83%); OpenBLAS
//   keeps accumulating products, long reductions and single rows (ties or losses for oneDNN).
// The CPU level is the kernels' level, so LLMSCRIPT_NO_AVX512=1 gives the AVX2 rule (and caps oneDNN's ISA).
// LLMSCRIPT_GEMM=openblas|onednn|auto (at start) or llm.setGEMM (later) overrides the rule (onednn: every
// product it can run; openblas at start never loads libdnnl). oneDNN runs on
// ``BLAS/threads`` OpenMP threads — the caller's share of the one thread budget.
import CDNNLShim
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The GEMM libraries and the rule that picks one per product.
public enum GEMMRoute {
    /// The libraries a product can run on.
    public enum Library: String, Sendable { case openblas, onednn }

    /// What LLMSCRIPT_GEMM asks for.
    public enum Policy: String, Sendable, CaseIterable { case auto, openblas, onednn }

    /// The policy in force: LLMSCRIPT_GEMM at start (unset or unknown values mean `auto`), then whatever
    /// ``setPolicy(_:)`` set (`llm.setGEMM` in Lua).
    public static var policy: Policy { Policy.allCases[policyIndex.load(ordering: .relaxed)] }

    /// Sets the policy for the products that start from now on (the thread budget is unchanged).
    public static func setPolicy(_ p: Policy) { policyIndex.store(index(of: p), ordering: .relaxed) }

    /// LLMSCRIPT_GEMM, read once.
    private static let startPolicy: Policy =
        getenv("LLMSCRIPT_GEMM").flatMap { Policy(rawValue: String(cString: $0).lowercased()) } ?? .auto
    private static let policyIndex = Atomic<Int>(index(of: startPolicy))
    private static func index(of p: Policy) -> Int { Policy.allCases.firstIndex(of: p) ?? 0 }

    /// Products below this many multiply-adds stay on OpenBLAS (a oneDNN call costs a few µs).
    public static let minimumWork = 1 << 18

    /// Single-row products (matrix-vector) below this many multiply-adds stay on OpenBLAS's sgemv: they take
    /// tens of µs, where oneDNN's per-call cost and OpenMP wake-up would eat the gain.
    public static let minimumRowWork = 1 << 20

    /// The longest reduction (k) the AVX2 rule sends to oneDNN.
    public static let avx2MaximumK = 512

    /// True when oneDNN can run products here (libdnnl loaded: the first call loads it). LLMSCRIPT_GEMM=openblas
    /// at start keeps it from ever being loaded.
    public static var oneDNNUsable: Bool { oneDNNLoaded }
    private static let oneDNNLoaded: Bool = startPolicy != .openblas && llms_dnnl_available() != 0

    /// oneDNN's version, or nil when it is not in use.
    public static var oneDNNVersion: String? { oneDNNUsable ? String(cString: llms_dnnl_version()) : nil }

    /// The rule alone: the library for an (m, n, k) product that overwrites (`overwrites`: beta 0) or
    /// accumulates into its output, on a CPU whose kernels run at `level`.
    public static func rule(m: Int, n: Int, k: Int, overwrites: Bool, level: CPUInfo.SIMDLevel) -> Library {
        guard m * n * k >= (m == 1 ? minimumRowWork : minimumWork) else { return .openblas }
        if level >= .avx512 { return .onednn }
        return m > 1 && overwrites && k <= avx2MaximumK ? .onednn : .openblas
    }

    /// The library that runs this product in this process (policy, availability, rule).
    public static func library(m: Int, n: Int, k: Int, overwrites: Bool) -> Library {
        switch policy {
        case .openblas: return .openblas
        case .onednn: return oneDNNUsable ? .onednn : .openblas
        case .auto:
            let choice = rule(m: m, n: n, k: k, overwrites: overwrites, level: CPUInfo.kernels)
            return choice == .onednn && oneDNNUsable ? .onednn : .openblas
        }
    }

    /// One line for `--version` and `llm.system()`: which library runs which products, and why.
    public static var summary: String {
        if policy == .openblas { return "OpenBLAS for every product (LLMSCRIPT_GEMM=openblas or llm.setGEMM)" }
        guard oneDNNUsable else { return "OpenBLAS for every product (oneDNN unavailable: \(String(cString: llms_dnnl_unavailable_reason())))" }
        let v = String(cString: llms_dnnl_version())
        if policy == .onednn { return "oneDNN \(v) for every product (LLMSCRIPT_GEMM=onednn or llm.setGEMM)" }
        if CPUInfo.kernels >= .avx512 {
            return "oneDNN \(v) for products of ≥ \(minimumWork) multiply-adds (single rows: ≥ \(minimumRowWork)) (avx512 rule), OpenBLAS below"
        }
        return "oneDNN \(v) for products with k ≤ \(avx2MaximumK) that overwrite their output (avx2 rule), OpenBLAS otherwise"
    }

    /// Runs out (m,n) = op(a)·op(b) [+ bias row] + beta·out on oneDNN when the route picks it; false when the
    /// caller must run it on OpenBLAS (out untouched).
    static func runOnOneDNN(
        _ a: UnsafePointer<Float>, transposedA ta: Bool, lda: Int, _ b: UnsafePointer<Float>, transposedB tb: Bool,
        ldb: Int, m: Int, n: Int, k: Int, bias: UnsafePointer<Float>?, beta: Float, into out: UnsafeMutablePointer<Float>
    ) -> Bool {
        guard library(m: m, n: n, k: k, overwrites: beta == 0) == .onednn else { return false }
        return llms_dnnl_gemm(
            ta ? 1 : 0, tb ? 1 : 0, m, n, k, a, lda, b, ldb, bias, beta, out, n, Int32(clamping: BLAS.threads)) == 0
    }
}
