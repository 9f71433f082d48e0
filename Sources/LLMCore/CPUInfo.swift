// CPUInfo: what this process runs on — the CPU's vendor, brand string, family/model and SIMD features as
// cpuid reports them (a feature counts only when the OS also saves its register state: XCR0 via xgetbv),
// the SIMD level those features allow, and the CKernels version actually in use (which the environment
// variables LLMSCRIPT_NO_AVX2 / LLMSCRIPT_NO_AVX512 may lower). Read once; values never change in a process.
import CKernels

/// The CPU this process runs on, from cpuid and the OS's XSAVE state (`llmk_cpu_query`).
public struct CPUInfo: Sendable, Equatable {
    /// The widest vector instruction set the kernels can use: baseline x86-64 (SSE2), AVX2+FMA, or
    /// AVX-512 (F, BW, VL, DQ, with AVX2+FMA).
    public enum SIMDLevel: Int, Sendable, Comparable, CaseIterable {
        case baseline = 0, avx2 = 1, avx512 = 2
        /// "baseline", "avx2" or "avx512".
        public var name: String { ["baseline", "avx2", "avx512"][rawValue] }
        public static func < (a: SIMDLevel, b: SIMDLevel) -> Bool { a.rawValue < b.rawValue }
    }

    /// Feature names (as Linux's /proc/cpuinfo spells them, except sse3 which Linux calls pni) and bits.
    public static let featureNames: [(String, Int)] = [
        ("sse2", LLMK_CPU_SSE2), ("sse3", LLMK_CPU_SSE3), ("ssse3", LLMK_CPU_SSSE3),
        ("sse4_1", LLMK_CPU_SSE41), ("sse4_2", LLMK_CPU_SSE42), ("avx", LLMK_CPU_AVX),
        ("f16c", LLMK_CPU_F16C), ("fma", LLMK_CPU_FMA), ("avx2", LLMK_CPU_AVX2),
        ("avx_vnni", LLMK_CPU_AVXVNNI), ("avx512f", LLMK_CPU_AVX512F),
        ("avx512bw", LLMK_CPU_AVX512BW), ("avx512vl", LLMK_CPU_AVX512VL),
        ("avx512dq", LLMK_CPU_AVX512DQ), ("avx512_vnni", LLMK_CPU_AVX512VNNI),
        ("avx512_bf16", LLMK_CPU_AVX512BF16), ("avx512_fp16", LLMK_CPU_AVX512FP16),
        ("amx_tile", LLMK_CPU_AMX_TILE), ("amx_bf16", LLMK_CPU_AMX_BF16),
        ("amx_int8", LLMK_CPU_AMX_INT8)
    ]

    /// cpuid's vendor string ("GenuineIntel", "AuthenticAMD", ...); empty on other architectures.
    public let vendor: String
    /// The processor's brand string, trimmed ("AMD EPYC 7B13", ...); "unknown" when the CPU has none.
    public let brand: String
    /// Display family, model and stepping (extended fields folded in).
    public let family: Int, model: Int, stepping: Int
    /// The features present, in `featureNames` order.
    public let features: [String]
    /// The SIMD level the features allow.
    public let simd: SIMDLevel

    /// Builds the description from a feature mask (tests use this for CPUs they do not run on).
    public init(vendor: String, brand: String, family: Int = 0, model: Int = 0, stepping: Int = 0, features: [String]) {
        self.vendor = vendor
        self.brand = brand
        self.family = family; self.model = model; self.stepping = stepping
        let present = Set(features)
        self.features = CPUInfo.featureNames.map(\.0).filter { present.contains($0) }
        var info = llmk_cpu_info()
        info.features = CPUInfo.featureNames.reduce(UInt64(0)) { present.contains($1.0) ? $0 | UInt64($1.1) : $0 }
        simd = SIMDLevel(rawValue: Int(llmk_cpu_simd_level(&info))) ?? .baseline
    }

    /// True when the feature (a `featureNames` name) is present.
    public func has(_ feature: String) -> Bool { features.contains(feature) }

    /// The CPU of this process.
    public static let current: CPUInfo = {
        var info = llmk_cpu_info()
        llmk_cpu_query(&info)
        let vendor = withUnsafeBytes(of: info.vendor) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let brand = withUnsafeBytes(of: info.brand) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        let names = featureNames.filter { info.features & UInt64($0.1) != 0 }.map(\.0)
        return CPUInfo(
            vendor: vendor, brand: brand.isEmpty ? "unknown" : brand, family: Int(info.family),
            model: Int(info.model), stepping: Int(info.stepping), features: names)
    }()

    /// The CKernels version in use now (at most `simd`; lowered by LLMSCRIPT_NO_AVX2 / LLMSCRIPT_NO_AVX512).
    public static var kernels: SIMDLevel { SIMDLevel(rawValue: Int(llmk_kernels_level())) ?? .baseline }
}
