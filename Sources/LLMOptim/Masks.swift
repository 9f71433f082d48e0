// Masks: the optimizers' masked path for pruning (stdlib-lua/llm/compress). A parameter may carry a mask
// of its shape (1 = kept, 0 = pruned); after each update of that parameter, the parameter and every state
// buffer (Adam's exp_avg, exp_avg_sq, max_exp_avg_sq; SGD's momentum_buffer; ...) are zeroed where the
// mask is 0, so the update of a pruned weight is cancelled and its moments stay 0: a later gradient cannot
// make it regrow through momentum. All updates are elementwise, so kept weights get exactly the unmasked
// update. Without masks the step loop pays one `isEmpty` check. Masks are not part of the state dict (the
// pruning extension saves them with its own state).
import LLMCore

extension Optimizer {
    /// Sets (or, with nil, removes) the sparsity mask of parameter `p`: a tensor of `p`'s shape whose zeros
    /// mark pruned elements. It is kept as a 0/1 float32 copy, so later changes to the caller's tensor do
    /// not affect it. Throws when `p` is not a parameter of this optimizer or the shapes differ.
    ///
    /// In Lua: `opt:setMask(p, mask)`, `opt:setMask(p, nil)`.
    public func setMask(_ mask: Tensor?, for p: Tensor) throws {
        guard parameters.contains(where: { $0 === p }) else {
            throw TensorError.invalid("\(name).setMask: the tensor is not a parameter of this optimizer")
        }
        guard let mask else {
            masks[ObjectIdentifier(p)] = nil
            return
        }
        guard mask.shape == p.shape else {
            throw TensorError.shape("\(name).setMask: mask of shape \(shapeString(mask.shape)) for a parameter of shape \(shapeString(p.shape))")
        }
        masks[ObjectIdentifier(p)] = try GradMode.withoutGrad { try mask.compare(try Tensor.full([], 0), "ne").contiguous() }
    }

    /// The sparsity mask of parameter `p` (nil when it has none).
    public func mask(of p: Tensor) -> Tensor? { masks[ObjectIdentifier(p)] }

    /// Number of parameters that carry a mask.
    public var maskCount: Int { masks.count }

    /// Zeroes `p` and each of its state buffers where `mask` (0/1, shapes checked by ``setMask(_:for:)``) is 0.
    func applyMask(_ mask: Tensor, to p: Tensor, state: ParamState) throws {
        try GradMode.withoutGrad {
            for t in [p] + state.buffers.values { try t.mulInPlace(mask) }
        }
    }
}
