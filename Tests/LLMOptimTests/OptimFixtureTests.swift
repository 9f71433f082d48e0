// OptimFixtureTests: LLMOptim against PyTorch. Tests/Fixtures/optim.json is written by
// scripts/reference/make_optim_fixtures.py (float64 reference from float32-exact inputs): parameters after
// each of 10 steps of every optimizer config (grad = coef·(p − target), recomputed before each step),
// clip_grad_norm_ results, and 30-step lr sequences. Tolerance |got − want| ≤ 1e-6 + 1e-5·|want|.
import Foundation
import Testing
import LLMCore
@testable import LLMOptim

enum OptimFixture {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("optim.json")

    static func load() throws -> [String: Any] {
        let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let d = obj as? [String: Any] else { throw TensorError.invalid("optim.json: not an object") }
        return d
    }
    static func list(_ d: [String: Any], _ k: String) -> [[String: Any]] { d[k] as? [[String: Any]] ?? [] }
    static func doubles(_ v: Any?) -> [Double] { (v as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? [] }
    static func options(_ v: Any?) -> [String: Double] {
        (v as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }

    /// Returns the largest |got − want| / max(|want|, 1e-3) and whether every element is within atol + rtol·|want|.
    static func compare(_ got: [Double], _ want: [Double], atol: Double = 1e-6, rtol: Double = 1e-5) -> (Double, Bool) {
        guard got.count == want.count else { return (.infinity, false) }
        var worst = 0.0, ok = true
        for (g, w) in zip(got, want) {
            let d = Swift.abs(g - w)
            worst = Swift.max(worst, d / Swift.max(Swift.abs(w), 1e-3))
            if !(d <= atol + rtol * Swift.abs(w)) { ok = false }
        }
        return (worst, ok)
    }
}

func makeOptimizer(_ type: String, groups: [ParamGroup], options: [String: Double]) throws -> Optimizer {
    switch type {
    case "SGD": return try SGD(groups: groups, options: options)
    case "Adam": return try Adam(groups: groups, options: options)
    case "AdamW": return try AdamW(groups: groups, options: options)
    case "RMSprop": return try RMSprop(groups: groups, options: options)
    case "Adagrad": return try Adagrad(groups: groups, options: options)
    default: throw TensorError.invalid("unknown optimizer \(type)")
    }
}

@Suite struct OptimFixtureTests {
    @Test func optimizersMatchPyTorch() throws {
        let fx = try OptimFixture.load()
        let problem = fx["problem"] as? [String: Any] ?? [:]
        let shapes = (problem["shapes"] as? [[Int]]) ?? []
        let inits = (problem["init"] as? [Any] ?? []).map(OptimFixture.doubles)
        let coefs = (problem["coef"] as? [Any] ?? []).map(OptimFixture.doubles)
        let targets = (problem["target"] as? [Any] ?? []).map(OptimFixture.doubles)
        let cases = OptimFixture.list(fx, "optimizers")
        #expect(cases.count >= 7)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let params = try zip(inits, shapes).map { try Tensor.from($0.0, shape: $0.1) }
            let groups = OptimFixture.list(c, "groups").map { g in
                ParamGroup(params: ((g["params"] as? [Int]) ?? []).map { params[$0] }, options: OptimFixture.options(g["options"]))
            }
            let opt = try makeOptimizer(c["type"] as? String ?? "", groups: groups, options: OptimFixture.options(c["options"]))
            let steps = c["steps"] as? [Any] ?? []
            var worst = 0.0, worstAbs = 0.0
            for (k, stepAny) in steps.enumerated() {
                for (i, p) in params.enumerated() {  // g = coef * (p - target), in float32
                    let w = p.toFloats()
                    let g = (0..<w.count).map { Double(Float(coefs[i][$0]) * (w[$0] - Float(targets[i][$0]))) }
                    p.grad = try Tensor.from(g, shape: p.shape)
                }
                try opt.step()
                let want = (stepAny as? [Any] ?? []).map(OptimFixture.doubles)
                for (i, p) in params.enumerated() {
                    let (dev, ok) = OptimFixture.compare(p.toDoubles(), want[i])
                    worst = Swift.max(worst, dev)
                    worstAbs = Swift.max(worstAbs, zip(p.toDoubles(), want[i]).map { Swift.abs($0 - $1) }.max() ?? 0)
                    #expect(ok, "\(name): parameter \(i) after step \(k + 1) deviates by \(dev) (relative)")
                }
            }
            print("optim fixture \(name): max deviation \(worstAbs) absolute, \(worst) relative (to max(|want|, 1e-3))")
        }
    }

    @Test func clipGradNormMatchesPyTorch() throws {
        let fx = try OptimFixture.load()
        for c in OptimFixture.list(fx, "clip") {
            let name = c["name"] as? String ?? "?"
            let grads = (c["grads"] as? [Any] ?? []).map(OptimFixture.doubles)
            let params = try [[3, 4], [4]].map { try Tensor.zeros($0) }
            for (p, g) in zip(params, grads) { p.grad = try Tensor.from(g, shape: p.shape) }
            let nt = c["normType"] as? String == "inf" ? Double.infinity : Double(c["normType"] as? String ?? "2") ?? 2
            let total = try clipGradNorm(params, maxNorm: (c["maxNorm"] as? NSNumber)?.doubleValue ?? 0, normType: nt)
            let want = (c["total"] as? NSNumber)?.doubleValue ?? .nan
            let (dt, okT) = OptimFixture.compare([total], [want])
            #expect(okT, "\(name): total \(total) vs \(want)")
            var worst = dt
            for (p, w) in zip(params, (c["clipped"] as? [Any] ?? []).map(OptimFixture.doubles)) {
                let (d, ok) = OptimFixture.compare(p.grad?.toDoubles() ?? [], w)
                worst = Swift.max(worst, d)
                #expect(ok, "\(name): clipped grads deviate by \(d)")
            }
            print("clip fixture \(name): max relative deviation \(worst)")
        }
    }

    static func schedule(_ type: String, _ a: [String: Any]) throws -> any LRSchedule {
        func n(_ k: String) -> Double? { (a[k] as? NSNumber)?.doubleValue }
        func i(_ k: String) -> Int? { (a[k] as? NSNumber)?.intValue }
        switch type {
        case "step": return try StepLR(lr: n("lr")!, stepSize: i("stepSize")!, gamma: n("gamma")!)
        case "multiStep": return try MultiStepLR(lr: n("lr")!, milestones: a["milestones"] as? [Int] ?? [], gamma: n("gamma")!)
        case "exponential": return try ExponentialLR(lr: n("lr")!, gamma: n("gamma")!)
        case "warmupCosine":
            return try WarmupCosine(maxLR: n("maxLR")!, warmupSteps: i("warmupSteps")!, totalSteps: i("totalSteps")!, minLR: n("minLR")!)
        case "oneCycle":
            return try OneCycle(
                maxLR: n("maxLR")!, totalSteps: i("totalSteps")!, pctStart: n("pctStart") ?? 0.3,
                anneal: a["anneal"] as? String ?? "cos", threePhase: a["threePhase"] as? Bool ?? false)
        case "reduceOnPlateau":
            return try ReduceOnPlateau(
                lr: n("lr")!, mode: a["mode"] as? String ?? "min", factor: n("factor")!, patience: i("patience")!,
                threshold: n("threshold")!, thresholdMode: a["thresholdMode"] as? String ?? "rel",
                cooldown: i("cooldown")!, minLR: n("minLR")!)
        default: throw TensorError.invalid("unknown schedule \(type)")
        }
    }

    @Test func schedulesMatchPyTorch() throws {
        let fx = try OptimFixture.load()
        let cases = OptimFixture.list(fx, "schedules")
        #expect(cases.count >= 7)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let want = OptimFixture.doubles(c["lrs"])
            var s = try Self.schedule(c["type"] as? String ?? "", c["args"] as? [String: Any] ?? [:])
            let got: [Double]
            if var plateau = s as? ReduceOnPlateau {
                got = OptimFixture.doubles(c["metrics"]).map { plateau.observe($0) }
                s = plateau
            } else {
                got = s.values(steps: want.count)
            }
            let (dev, ok) = OptimFixture.compare(got, want, atol: 1e-12, rtol: 1e-9)
            #expect(ok, "\(name): \(got) vs \(want)")
            print("schedule fixture \(name): max relative deviation \(dev)")
        }
    }
}
