// GradCheck: compares the autograd gradient of a function with central finite differences.
// The scalar checked is L = Σ f(x)·w for a fixed random projection w (so every output element counts);
// the sum is taken in f64 to keep float32 round-off small. reference: torch.autograd.gradcheck.

/// The outcome of a gradient check.
public struct GradCheckResult: Sendable {
    public let passed: Bool
    public let maxAbsError: Double
    /// A human-readable summary, listing the worst mismatches.
    public let report: String
}

public enum GradCheck {
    /// Checks `f` at `inputs` (float32 inputs that require grad are checked; others are held fixed).
    public static func run(
        inputs: [Tensor], eps: Double = 1e-3, atol: Double = 1e-2, rtol: Double = 1e-2,
        _ f: ([Tensor]) throws -> Tensor
    ) throws -> GradCheckResult {
        let checked = inputs.enumerated().filter { $0.element.requiresGrad }
        guard !checked.isEmpty else { throw TensorError.invalid("gradcheck: no input requires grad; create inputs with {requiresGrad=true}") }
        for (_, x) in checked where !x.isLeaf { throw TensorError.invalid("gradcheck: inputs must be leaf tensors") }
        for (_, x) in checked { x.grad = nil }
        let y0 = try f(inputs)
        let w = try Tensor.randn(y0.shape, generator: Generator(seed: 1234))
        let wv = w.toDoubles()
        func loss(_ y: Tensor) throws -> Double {
            guard y.shape == y0.shape else { throw TensorError.shape("gradcheck: fn returned shape \(shapeString(y.shape)), first call returned \(shapeString(y0.shape))") }
            return zip(y.toDoubles(), wv).reduce(0) { $0 + $1.0 * $1.1 }
        }
        guard y0.requiresGrad else { throw TensorError.invalid("gradcheck: the output does not depend on any input that requires grad") }
        try y0.backward(w)
        var maxErr = 0.0, failures: [String] = [], total = 0
        for (k, x) in checked {
            let analytic = x.grad?.toDoubles() ?? [Double](repeating: 0, count: x.count)
            var offsets: [Int] = []
            x.forEachOffset { offsets.append($0) }
            for (e, o) in offsets.enumerated() {
                let orig = x.load(at: o)
                x.store(orig + eps, at: o)
                let lp = try GradMode.withoutGrad { try loss(f(inputs)) }
                x.store(orig - eps, at: o)
                let lm = try GradMode.withoutGrad { try loss(f(inputs)) }
                x.store(orig, at: o)
                let numeric = (lp - lm) / (2 * eps)
                let err = Swift.abs(numeric - analytic[e])
                maxErr = Swift.max(maxErr, err)
                total += 1
                if err > atol + rtol * Swift.abs(numeric) && failures.count < 8 {
                    failures.append("input \(k + 1) element \(e + 1): autograd \(analytic[e]), numeric \(numeric)")
                }
            }
            x.grad = nil
        }
        let passed = failures.isEmpty
        let report =
            passed
            ? "gradcheck passed: \(total) elements, max abs error \(maxErr)"
            : "gradcheck failed (max abs error \(maxErr)):\n" + failures.joined(separator: "\n")
        return GradCheckResult(passed: passed, maxAbsError: maxErr, report: report)
    }
}
