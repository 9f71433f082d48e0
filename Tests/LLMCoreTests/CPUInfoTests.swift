// CPUInfoTests: the CPU description is consistent with itself and with Linux's view of the CPU
// (/proc/cpuinfo flags, which the kernel clears for state it does not save), and the BLAS core rule picks
// the best OpenBLAS 0.3.21 core for the features of CPUs this test does not run on (AVX-512 Xeons with and
// without BF16, AMD and Intel AVX2, AVX-only, SSE-only).
import CKernels
import Foundation
import Testing
@testable import LLMCore

@Suite("CPU and BLAS identity")
struct CPUInfoTests {
    @Test("features imply their prerequisites, and the SIMD level follows from them")
    func consistent() {
        let cpu = CPUInfo.current
        #if arch(x86_64)
            #expect(!cpu.vendor.isEmpty && cpu.has("sse2"), "\(cpu)")
        #endif
        if cpu.has("avx2") || cpu.has("fma") { #expect(cpu.has("avx")) }
        for f in ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16", "avx512_fp16"] where cpu.has(f) {
            #expect(cpu.has("avx2") && cpu.has("avx"), "\(f) without AVX2")
            if f != "avx512f" { #expect(cpu.has("avx512f"), "\(f) without AVX-512F") }
        }
        let want: CPUInfo.SIMDLevel =
            ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx2", "fma"].allSatisfy(cpu.has)
            ? .avx512
            : ["avx2", "fma"].allSatisfy(cpu.has) ? .avx2 : .baseline
        #expect(cpu.simd == want)
        #expect(CPUInfo.kernels <= cpu.simd)
        #expect(Int(llmk_kernels_cpu_level()) == cpu.simd.rawValue)
    }

    @Test("the features agree with the Linux kernel's flags")
    func agreesWithLinux() throws {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return }
        let flags = Set(line.split(separator: ":").last!.split(separator: " ").map(String.init))
        let cpu = CPUInfo.current
        for (name, _) in CPUInfo.featureNames {
            let linux = flags.contains(name == "sse3" ? "pni" : name)
            #expect(cpu.has(name) == linux, "\(name): cpuid+xgetbv \(cpu.has(name)), /proc/cpuinfo \(linux)")
        }
        func field(_ name: String) -> String? {
            text.split(separator: "\n").first { $0.split(separator: ":").first?.trimmingCharacters(in: .whitespaces) == name }
                .map { $0.split(separator: ":", maxSplits: 1).last!.split(separator: " ").joined(separator: " ") }
        }
        if let brand = field("model name") { #expect(cpu.brand == brand) }
        if let family = field("cpu family").flatMap({ Int($0) }) { #expect(cpu.family == family) }
        if let model = field("model").flatMap({ Int($0) }) { #expect(cpu.model == model) }
        if let vendor = field("vendor_id") { #expect(cpu.vendor == vendor) }
    }

    @Test("the best BLAS core goes by features, and a core is forced only when OpenBLAS chose a lower one")
    func coreRule() {
        let avx2 = ["sse2", "sse3", "ssse3", "sse4_1", "sse4_2", "avx", "fma", "avx2"]
        let skx = avx2 + ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni"]
        let spr = CPUInfo(
            vendor: "GenuineIntel", brand: "Intel(R) Xeon(R) Platinum 8481C", family: 6, model: 143,
            features: skx + ["avx512_bf16", "avx512_fp16", "amx_tile"])
        let sky = CPUInfo(vendor: "GenuineIntel", brand: "Xeon", features: skx)
        let zen = CPUInfo(vendor: "AuthenticAMD", brand: "AMD EPYC", features: avx2)
        let hsw = CPUInfo(vendor: "GenuineIntel", brand: "Xeon", features: avx2)
        let snb = CPUInfo(vendor: "GenuineIntel", brand: "Xeon", features: ["sse2", "sse3", "sse4_2", "avx"])
        let old = CPUInfo(vendor: "GenuineIntel", brand: "Core 2", features: ["sse2", "sse3"])
        #expect(spr.simd == .avx512 && sky.simd == .avx512 && zen.simd == .avx2 && snb.simd == .baseline && old.simd == .baseline)
        #expect(BLAS.preferredCores(for: spr) == ["Cooperlake", "SkylakeX", "Haswell", "Sandybridge"])
        #expect(BLAS.coreToForce(current: "Prescott", cpu: spr) == "Cooperlake")
        #expect(BLAS.coreToForce(current: "Prescott", cpu: spr, after: "Cooperlake") == "SkylakeX")  // build lacks Cooperlake
        #expect(BLAS.coreToForce(current: "Haswell", cpu: spr) == "Cooperlake")
        #expect(BLAS.coreToForce(current: "SkylakeX", cpu: spr) == nil)
        #expect(BLAS.coreToForce(current: "Nehalem", cpu: sky) == "SkylakeX")
        #expect(BLAS.coreToForce(current: "Sandybridge", cpu: zen) == "Zen")
        #expect(BLAS.coreToForce(current: "Haswell", cpu: zen) == nil)  // same tier: OpenBLAS's own choice stays
        #expect(BLAS.coreToForce(current: "Prescott", cpu: hsw) == "Haswell")
        #expect(BLAS.coreToForce(current: "Prescott", cpu: snb) == "Sandybridge")
        #expect(BLAS.coreToForce(current: "Prescott", cpu: old) == nil)
        #expect(BLAS.coreToForce(current: "SomeFutureCore", cpu: spr) == nil)  // unknown names are trusted
        #expect(BLAS.coreToForce(current: "Prescott", cpu: spr, after: "Sandybridge") == nil)
    }

    @Test("this process's OpenBLAS reports its core, build and threads")
    func blasIdentity() {
        #expect(!BLAS.coreName.isEmpty && BLAS.config.hasPrefix("OpenBLAS"), "\(BLAS.config)")
        #expect(BLAS.threads >= 1)
    }
}
