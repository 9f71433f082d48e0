// BLASEnvironmentTests: the environment the binary gives OpenBLAS by re-executing itself once
// (BLASEnvironment.swift): OPENBLAS_THREAD_TIMEOUT=16 unless the user chose a value; OPENBLAS_CORETYPE set to
// the best core for the CPU's features when OpenBLAS chose a lower one, never over the user's value; and the
// core in use is not below the best this OpenBLAS build offers for this CPU (expected cores derived here from
// Linux's CPU flags, independently of the binary's cpuid code) — so a detection regression fails on any
// CI machine whose OpenBLAS selects cores at run time. Also what `--version` reports.
import Foundation
import Testing

@Suite struct BLASEnvironmentTests {
    /// llm.system() of a run with `env`, as "key=value" lines parsed into a dictionary.
    func system(_ env: [String: String] = [:]) throws -> [String: String] {
        let r = try Subprocess.run(
            ["-e", "for k, v in pairs(llm.system()) do if type(v) ~= 'table' then print(k .. '=' .. tostring(v)) end end"],
            environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        var out: [String: String] = [:]
        for line in r.stdout.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2 { out[kv[0]] = kv[1] }
        }
        return out
    }

    /// The instruction-set tier of an OpenBLAS 0.3.x core: 3 AVX-512, 2 AVX2, 1 AVX, 0 SSE.
    func tier(_ core: String) -> Int {
        switch core.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return 3
        case "haswell", "zen", "excavator": return 2
        case "sandybridge", "bulldozer", "piledriver", "steamroller": return 1
        default: return 0
        }
    }

    @Test func shortThreadTimeoutUnlessTheUserChoseOne() throws {
        let chosen = try Subprocess.run(
            ["-e", "print(os.getenv('OPENBLAS_THREAD_TIMEOUT'))"],
            environment: ["OPENBLAS_THREAD_TIMEOUT": "10"])
        #expect(chosen.stdout == "10\n", "\(chosen.stderr)")
        let plain = try Subprocess.run(["-e", "print(os.getenv('OPENBLAS_THREAD_TIMEOUT'))"])
        #expect(plain.stdout == "16\n" || ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] != nil, "\(plain.stdout)")
    }

    @Test("a core the user sets stays, even a slow one")
    func userCoreRespected() throws {
        let s = try system(["OPENBLAS_CORETYPE": "Prescott"])
        guard s["blasConfig"]?.contains("DYNAMIC_ARCH") == true else { return }  // one fixed core: nothing to force
        #expect(s["blasCore"] == "Prescott" && s["blasCoreChoice"] == "user", "\(s)")
    }

    @Test("a low core the binary forced and the build did not improve on is replaced by the next better one")
    func forcedCoreUpgraded() throws {
        // as on a CPU OpenBLAS does not know: the core in use is Prescott, recorded as the binary's own choice
        let s = try system(["OPENBLAS_CORETYPE": "Prescott", "LLMSCRIPT_BLAS_CORE_AUTO": "Prescott"])
        guard s["blasConfig"]?.contains("DYNAMIC_ARCH") == true, s["simd"] != "baseline" else { return }
        #expect(tier(s["blasCore"] ?? "") >= 2, "\(s)")
        #expect(s["blasCoreChoice"] == "llmscript", "\(s)")
    }

    @Test("the BLAS core in use is not below the best this OpenBLAS build offers for the CPU's features")
    func bestCoreInUse() throws {
        if let set = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !set.isEmpty {
            print("skipped: OPENBLAS_CORETYPE=\(set) is set for the tests (the user's choice is kept)")
            return
        }
        let s = try system()
        guard s["blasConfig"]?.contains("DYNAMIC_ARCH") == true else {
            print("skipped: OpenBLAS was built without run-time CPU selection (\(s["blasConfig"] ?? "?"))")
            return
        }
        // the CPU's features as Linux reports them (it clears those whose register state it does not save)
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flagLine = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }
        let flags = Set((flagLine?.split(separator: ":").last ?? "").split(separator: " ").map(String.init))
        let amd = cpuinfo.contains("AuthenticAMD") || cpuinfo.contains("HygonGenuine")
        var candidates: [String] = []  // the best cores for these features, best first
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) {
            candidates += flags.contains("avx512_bf16") ? ["Cooperlake", "SkylakeX"] : ["SkylakeX"]
        }
        if flags.contains("avx2") && flags.contains("fma") { candidates.append(amd ? "Zen" : "Haswell") }
        if flags.contains("avx") { candidates.append("Sandybridge") }
        // the best of them this build has: forcing it (as the user) makes it the core in use
        guard let best = try candidates.first(where: { try system(["OPENBLAS_CORETYPE": $0])["blasCore"]?.lowercased() == $0.lowercased() }) else {
            return  // an SSE-only CPU: any core is as good
        }
        let inUse = s["blasCore"] ?? "?"
        #expect(tier(inUse) >= tier(best), "OpenBLAS runs the \(inUse) core; this CPU (flags \(candidates)) and build allow \(best)")
    }

    @Test("--version names the CPU, its SIMD level, the kernels in use, OpenBLAS's core and threads, and the GEMM route")
    func versionReport() throws {
        let r = try Subprocess.run(["--version"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(r.stdout)")
        let s = try system()
        #expect(lines.dropFirst().first?.hasPrefix("cpu: \(s["cpu"] ?? "?")") == true, "\(r.stdout)")
        #expect(r.stdout.contains("simd \(s["simd"] ?? "?"), kernels \(s["kernels"] ?? "?")"), "\(r.stdout)")
        #expect(lines.dropFirst(2).first?.hasPrefix("blas: \(s["blasCore"] ?? "?") core (chosen by ") == true, "\(r.stdout)")
        #expect(lines.last == "gemm: \(s["gemm"] ?? "?")", "\(r.stdout)")
        let forced = try Subprocess.run(["--version"], environment: ["LLMSCRIPT_GEMM": "openblas"])
        #expect(forced.stdout.contains("gemm: OpenBLAS for every product (LLMSCRIPT_GEMM=openblas"), "\(forced.stdout)")
        #expect(r.stdout.contains("\(s["threads"] ?? "?") thread"))
        let baseline = try Subprocess.run(["--version"], environment: ["LLMSCRIPT_NO_AVX2": "1"])
        #expect(baseline.stdout.contains("kernels baseline"), "\(baseline.stdout)")
        let one = try Subprocess.run(["--threads", "1", "--version"])  // the count in force, after --threads
        #expect(one.stdout.contains(", 1 thread"), "\(one.stdout)")
        let noAVX512 = try system(["LLMSCRIPT_NO_AVX512": "1"])
        #expect(noAVX512["kernels"] != "avx512" && noAVX512["kernels"] == (s["simd"] == "baseline" ? "baseline" : "avx2"))
    }
}
