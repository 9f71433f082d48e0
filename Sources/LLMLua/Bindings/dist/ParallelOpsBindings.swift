// ParallelOpsBindings: Megatron's tensor-parallel operators (LLMDistributed/ParallelOps.swift) in the
// `dist` namespace: dist.copyToParallel (f), dist.reduceFromParallel (g), dist.gatherFromParallel and
// dist.scatterToParallel. Each takes a tensor and an optional dist.Communicator (the tensor-parallel
// group; default: the world) and is differentiable: the conjugate collective runs in backward. Every rank
// of the group must make the same calls in the same order (forward and backward).
import CLua
import CLuaShim
import LLMCore
import LLMDistributed

enum ParallelOpsLib: LuaLibrary {
    static let namespace = "dist"

    /// A binding `dist.<name>(x, [comm])` applying `op` of the given communicator (default: the world).
    static func op(
        _ name: String, _ doc: String, _ body: @escaping @Sendable (Communicator, Tensor) throws -> Tensor
    ) -> LuaBinding {
        LuaBinding(name, "dist.\(name)(x: Tensor, [comm: dist.Communicator = world]) -> Tensor", doc) { a in
            let x = try a.tensor(1)
            let c = a.isNoneOrNil(2) ? try DistLib.world("dist.\(name)") : try a.object(2, Communicator.self)
            a.push(try body(c, x)); return 1
        }
    }

    static let functions: [LuaBinding] = [
        op("copyToParallel", "Megatron's f: x unchanged forward; its gradient is summed over comm in backward.") {
            try $0.copyToParallel($1)
        },
        op("reduceFromParallel", "Megatron's g: the sum of x over comm (a new tensor); the gradient passes unchanged.") {
            try $0.reduceFromParallel($1)
        },
        op("gatherFromParallel", "The ranks' x concatenated along the last dim (rank order); backward keeps this rank's slice.") {
            try $0.gatherFromParallel($1)
        },
        op("scatterToParallel", "This rank's slice of x's last dim (divisible by comm's size); backward all-gathers the gradient.") {
            try $0.scatterToParallel($1)
        }
    ]
}
