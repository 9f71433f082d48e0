// ParallelOps: Megatron-LM's conjugate operators for tensor parallelism, autograd-aware collectives over
// a Communicator (recorded as LLMCore `CustomFunction`s). In a tensor-parallel group every rank holds the
// same replicated activations and a slice of each split layer:
//   copyToParallel (f):     forward identity,                      backward all-reduce (sum) of the gradient
//   reduceFromParallel (g): forward all-reduce (sum),              backward identity
//   gatherFromParallel:     forward all-gather along the last dim, backward this rank's slice of the gradient
//   scatterToParallel:      forward this rank's slice of the last dim, backward all-gather of the gradient
// The backward collectives run inside `backward()` on the calling thread (MPI's one-thread rule holds when
// backward is called from the thread that runs the forward). Every rank must build the same graph, so that
// the backward collectives happen in the same order everywhere. Tensors are float32 (others are converted).
// reference: Shoeybi et al. 2019, Megatron-LM (f and g operators); megatron/core/tensor_parallel/mappings.py.
import LLMCore

extension Communicator {
    /// Megatron's f: returns `x` unchanged (a view); in backward the gradient is summed over the group.
    ///
    /// Put it in front of a column-parallel layer whose input is replicated: each rank's layer contributes a
    /// partial gradient for the input, and the sum is the gradient of the whole layer.
    public func copyToParallel(_ x: Tensor) throws -> Tensor {
        let fn = CustomFunction(name: "copyToParallel") { [self] g in [try summed(g)] }
        return x.detach().recordCustom(fn, inputs: [x])
    }

    /// Megatron's g: the sum of `x` over the group (a new tensor); in backward the gradient passes unchanged.
    ///
    /// Put it after a row-parallel layer: each rank holds a partial sum of the output.
    public func reduceFromParallel(_ x: Tensor) throws -> Tensor {
        let fn = CustomFunction(name: "reduceFromParallel") { g in [g] }
        return try summed(x).recordCustom(fn, inputs: [x])
    }

    /// The ranks' tensors concatenated along the last dimension (rank order); in backward each rank keeps
    /// the gradient of its own slice.
    public func gatherFromParallel(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1 else { throw DistError("dist.gatherFromParallel: expected a tensor with at least one dimension, got a scalar") }
        let n = x.shape[x.rank - 1]
        let fn = CustomFunction(name: "gatherFromParallel") { [self] g in [try g.narrow(g.rank - 1, rank * n, n).contiguous()] }
        return try gatherLast(x).recordCustom(fn, inputs: [x])
    }

    /// This rank's slice of the last dimension (its size must be divisible by the group size); in backward
    /// the slices' gradients are gathered.
    public func scatterToParallel(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1 else { throw DistError("dist.scatterToParallel: expected a tensor with at least one dimension, got a scalar") }
        let last = x.shape[x.rank - 1]
        guard last % size == 0 else {
            throw DistError("dist.scatterToParallel: the last dimension (\(last)) is not divisible by the group size (\(size))")
        }
        let n = last / size
        let fn = CustomFunction(name: "scatterToParallel") { [self] g in [try gatherLast(g)] }
        let out = try GradMode.withoutGrad { try x.detach().narrow(x.rank - 1, rank * n, n).contiguous() }
        return out.recordCustom(fn, inputs: [x])
    }

    /// A new float32 contiguous tensor holding the sum of `t` over the group.
    private func summed(_ t: Tensor) throws -> Tensor {
        let out = try GradMode.withoutGrad { try t.detach().toDType(.float32).clone() }
        try allReduce(out, op: .sum)
        return out
    }

    /// The group's tensors concatenated along the last dimension, without recording.
    private func gatherLast(_ t: Tensor) throws -> Tensor {
        try GradMode.withoutGrad {
            let x = try t.detach().toDType(.float32).contiguous()
            let all = try allGather(x)  // [size, ..., n]
            let r = x.rank
            let order = Array(1..<r) + [0, r]  // [..., size, n]
            return try all.permute(order).contiguous().reshape(Array(x.shape.dropLast()) + [size * x.shape[r - 1]])
        }
    }
}
