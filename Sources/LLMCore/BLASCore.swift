// BLASCore: which OpenBLAS kernels ("core") this process uses, and the rule that picks the best core for
// the CPU's features. OpenBLAS built with DYNAMIC_ARCH chooses a core by CPU model when it loads, and falls
// back to its oldest SSE3 kernels ("Prescott") for models it does not know (0.3.21 on recent Xeons: 3–5×
// slower sgemm). The rule here goes by features instead: AVX-512 F/BW/VL/DQ -> Cooperlake (with
// AVX512-BF16) or SkylakeX, AVX2+FMA -> Zen (AMD, Hygon) or Haswell, AVX -> Sandybridge. OPENBLAS_CORETYPE
// is read only when the library loads, so the binary applies the choice by re-executing itself
// (Sources/llmscript/BLASEnvironment.swift).
import CBLAS
#if canImport(Glibc)
    import Glibc
#endif

extension BLAS {
    /// Who chose the core in use: OpenBLAS itself, llmscript (forced by the rule below, recorded in
    /// `autoCoreVariable`), or the user (OPENBLAS_CORETYPE).
    public enum CoreChoice: String, Sendable { case openblas, llmscript, user }

    /// The environment variable in which the binary records a core it forced through OPENBLAS_CORETYPE.
    public static let autoCoreVariable = "LLMSCRIPT_BLAS_CORE_AUTO"

    /// Who chose the core in use, from the environment.
    public static var coreChoice: CoreChoice {
        guard let set = getenv("OPENBLAS_CORETYPE").map({ String(cString: $0) }), !set.isEmpty else { return .openblas }
        return getenv(autoCoreVariable).map { String(cString: $0) } == set ? .llmscript : .user
    }

    /// The core OpenBLAS uses ("Haswell", "Zen", "SkylakeX", "Prescott", ...).
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }
    /// OpenBLAS's build description ("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64").
    public static var config: String { openblas_get_config().map { String(cString: $0) } ?? "unknown" }
    /// True when the library chooses its kernels at run time (built with DYNAMIC_ARCH), so a core can be forced.
    public static var selectsCoreAtRunTime: Bool { config.split(separator: " ").contains("DYNAMIC_ARCH") }

    /// The instruction-set tier of a core's kernels: 0 SSE, 1 AVX, 2 AVX2, 3 AVX-512; nil for a name this
    /// rule does not know (a newer OpenBLAS's core: trusted, never overridden).
    public static func coreTier(_ name: String) -> Int? {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return 3
        case "haswell", "zen", "excavator": return 2
        case "sandybridge", "bulldozer", "piledriver", "steamroller": return 1
        case "unknown", "katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2", "penryn",
            "dunnington", "nehalem", "athlon", "opteron", "opteron_sse3", "barcelona", "nano", "bobcat":
            return 0
        default: return nil
        }
    }

    /// The cores OpenBLAS 0.3.21 has for the CPU's features, best first (each a fallback for the one before
    /// it in a build that lacks it); empty without AVX.
    public static func preferredCores(for cpu: CPUInfo) -> [String] {
        let amd = cpu.vendor == "AuthenticAMD" || cpu.vendor == "HygonGenuine"
        var cores: [String] = []
        if cpu.simd == .avx512 {
            if cpu.has("avx512_bf16") { cores.append("Cooperlake") }
            cores.append("SkylakeX")
        }
        if cpu.simd >= .avx2 { cores.append(amd ? "Zen" : "Haswell") }
        if cpu.has("avx") { cores.append("Sandybridge") }
        return cores
    }

    /// The core to force with OPENBLAS_CORETYPE when OpenBLAS chose `current` on `cpu`: the first of
    /// `preferredCores` whose tier is above `current`'s (after `tried`, a core already forced that this
    /// build did not take); nil when `current` is as good, unknown to this rule, or nothing better exists.
    public static func coreToForce(current: String, cpu: CPUInfo, after tried: String? = nil) -> String? {
        guard let have = coreTier(current) else { return nil }
        var candidates = preferredCores(for: cpu)
        if let tried, let i = candidates.firstIndex(where: { $0.lowercased() == tried.lowercased() }) {
            candidates.removeFirst(i + 1)
        }
        return candidates.first { (coreTier($0) ?? 0) > have }
    }
}
