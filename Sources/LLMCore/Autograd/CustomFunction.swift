// CustomFunction: a differentiable operation defined outside LLMCore (collectives in LLMDistributed,
// Megatron's f/g operators), recorded on the tape as `Primitive.custom`. The caller computes the forward
// value itself (without recording) and attaches the function with `recordCustom`; backward then calls
// the function's `vjp` closure with the output's gradient, on the thread that runs backward. The closure
// must not modify the gradient it receives in place (it may be shared) and returns one gradient (or nil)
// per input, each of the input's shape.

/// A named operation whose vector-Jacobian product is a closure.
public final class CustomFunction: @unchecked Sendable {
    /// A short name, for messages (`copyToParallel`).
    public let name: String
    let vjp: (Tensor) throws -> [Tensor?]

    /// - Parameters:
    ///   - name: the operation's name, shown in autograd errors.
    ///   - vjp: the output gradient -> one gradient per input (nil: none). Must not modify its argument.
    public init(name: String, vjp: @escaping (Tensor) throws -> [Tensor?]) {
        self.name = name
        self.vjp = vjp
    }
}

extension Tensor {
    /// Records `function` as the operation that produced this tensor from `inputs` (when grad mode is on
    /// and some input requires grad); returns self. Compute self without recording (e.g. under
    /// `GradMode.withoutGrad` or from a detached input) so that it has no node of its own.
    @discardableResult
    public func recordCustom(_ function: CustomFunction, inputs: [Tensor]) -> Tensor {
        record(.custom(function), inputs)
    }
}
