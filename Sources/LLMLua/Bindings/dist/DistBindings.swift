// DistBindings: the `dist` namespace, collectives over MPI (LLMDistributed.Communicator). `dist.init()`
// loads libmpi and joins the job started by mpirun (or runs alone: size 1); the namespace functions act
// on the world communicator, `dist.split(color)` returns a `dist.Communicator` whose methods are the same
// collectives on the sub-group. Tensors are float32 and contiguous, reduced and broadcast in place.
// Sandboxed states cannot use dist (see Sandbox.disabled).
import CLua
import CLuaShim
import LLMCore
import LLMDistributed

extension Communicator: LuaBridged {
    public static var luaTypeName: String { "dist.Communicator" }
}

extension Request: LuaBridged {
    public static var luaTypeName: String { "dist.Request" }
}

enum DistLib: LuaLibrary {
    static let namespace = "dist"

    /// The world communicator, or an error telling the user to call dist.init() first.
    static func world(_ fn: String) throws -> Communicator {
        guard let w = Communicator.initialized else { throw LuaError.runtime("\(fn): call dist.init() first") }
        return w
    }

    /// The optional message tag of a point-to-point call (default 0).
    static func tag(_ a: LuaArgs, _ i: Int32) throws -> Int { a.isNoneOrNil(i) ? 0 : try a.integer(i) }

    /// The 'op' option of a reduction (default 'sum').
    static func reduceOp(_ o: LuaOptions) throws -> ReduceOp {
        let name = try o.string("op") ?? "sum"
        guard let op = ReduceOp(rawValue: name) else {
            throw LuaError.runtime("Invalid 'op': expected 'sum', 'avg', 'max' or 'min', got '\(name)'")
        }
        return op
    }

    /// The methods of a non-blocking operation.
    static let requestMethods: [LuaBinding] = [
        LuaBinding("wait", "dist.Request:wait() -> Tensor", "Blocks until the operation completes (under the dist watchdog); returns its tensor. Waiting again returns at once.") {
            a in
            let r = try a.object(1, Request.self)
            let t = r.tensor
            try r.wait()
            if let t { a.push(t) } else { a.pushNil() }
            return 1
        },
        LuaBinding("test", "dist.Request:test() -> boolean", "True when the operation has completed (completing it); never blocks.") { a in
            a.push(try a.object(1, Request.self).test()); return 1
        }
    ]

    /// The collectives, for the namespace (`self` = the world, arguments from 1) and as methods
    /// (`self` = argument 1, arguments from 2).
    static func collectives(prefix: String, method: Bool) -> [LuaBinding] {
        let base: Int32 = method ? 2 : 1
        let sep = method ? ":" : "."
        let comm: @Sendable (LuaArgs, String) throws -> Communicator = { a, fn in
            method ? try a.object(1, Communicator.self) : try world(fn)
        }
        return [
            LuaBinding("rank", "\(prefix)\(sep)rank() -> integer", "This process's rank, 0..size-1.") { a in
                a.push(try comm(a, "\(prefix).rank").rank); return 1
            },
            LuaBinding("size", "\(prefix)\(sep)size() -> integer", "Number of processes in the group.") { a in
                a.push(try comm(a, "\(prefix).size").size); return 1
            },
            LuaBinding("barrier", "\(prefix)\(sep)barrier()", "Waits until every rank reaches the barrier.") { a in
                try comm(a, "\(prefix).barrier").barrier(); return 0
            },
            LuaBinding(
                "broadcast", "\(prefix)\(sep)broadcast(t: Tensor, [root: integer = 0]) -> Tensor",
                "Overwrites t (float32, contiguous) on every rank with root's values; returns t."
            ) { a in
                let c = try comm(a, "\(prefix).broadcast")
                let t = try a.tensor(base)
                let root = a.isNoneOrNil(base + 1) ? 0 : try a.integer(base + 1)
                try c.broadcast(t, root: root)
                a.push(t); return 1
            },
            LuaBinding(
                "allReduce", "\(prefix)\(sep)allReduce(t: Tensor, [{op: string = 'sum'}]) -> Tensor",
                "Reduces t (float32, contiguous) across ranks in place: op 'sum', 'avg', 'max' or 'min'; returns t."
            ) { a in
                let c = try comm(a, "\(prefix).allReduce")
                let t = try a.tensor(base)
                let o = try a.options(base + 1, allowed: ["op", "compress"])
                let op = try reduceOp(o)
                if let w = try o.string("compress") {
                    guard let wire = WireFormat(rawValue: w) else { throw LuaError.runtime("Invalid 'compress': expected 'f16' or 'bf16', got '\(w)'") }
                    try c.allReduce(t, op: op, wire: wire)
                } else {
                    try c.allReduce(t, op: op)
                }
                a.push(t); return 1
            },
            LuaBinding(
                "reduceScatter", "\(prefix)\(sep)reduceScatter(t: Tensor, [{op: string = 'sum'}]) -> Tensor",
                "Reduces t (float32, contiguous, numel divisible by size) across ranks; returns this rank's block of the result (1-D, numel/size: rank r gets elements r*n/size+1 .. (r+1)*n/size)."
            ) { a in
                let c = try comm(a, "\(prefix).reduceScatter")
                let t = try a.tensor(base)
                a.push(try c.reduceScatter(t, op: try reduceOp(try a.options(base + 1, allowed: ["op"])))); return 1
            },
            LuaBinding(
                "send", "\(prefix)\(sep)send(t: Tensor, dst: integer, [tag: integer = 0])",
                "Sends t (float32, contiguous) to rank dst; blocks until t may be reused. The receiver's tensor must have the same number of elements."
            ) { a in
                let c = try comm(a, "\(prefix).send")
                try c.send(try a.tensor(base), to: try a.integer(base + 1), tag: try tag(a, base + 2))
                return 0
            },
            LuaBinding(
                "recv", "\(prefix)\(sep)recv(t: Tensor, src: integer, [tag: integer = 0]) -> Tensor",
                "Receives into t (float32, contiguous) from rank src; the message must have exactly t:numel() floats. Returns t."
            ) { a in
                let c = try comm(a, "\(prefix).recv")
                let t = try a.tensor(base)
                try c.recv(t, from: try a.integer(base + 1), tag: try tag(a, base + 2))
                a.push(t); return 1
            },
            LuaBinding(
                "isend", "\(prefix)\(sep)isend(t: Tensor, dst: integer, [tag: integer = 0]) -> dist.Request",
                "Starts sending t to rank dst without blocking; do not modify t until the request's :wait() returns."
            ) { a in
                let c = try comm(a, "\(prefix).isend")
                let r = try c.isend(try a.tensor(base), to: try a.integer(base + 1), tag: try tag(a, base + 2))
                Userdata.push(a.L, r, typeName: Request.luaTypeName); return 1
            },
            LuaBinding(
                "irecv", "\(prefix)\(sep)irecv(t: Tensor, src: integer, [tag: integer = 0]) -> dist.Request",
                "Starts receiving into t from rank src without blocking; read t only after the request's :wait() returns."
            ) { a in
                let c = try comm(a, "\(prefix).irecv")
                let r = try c.irecv(try a.tensor(base), from: try a.integer(base + 1), tag: try tag(a, base + 2))
                Userdata.push(a.L, r, typeName: Request.luaTypeName); return 1
            },
            LuaBinding(
                "iallReduce", "\(prefix)\(sep)iallReduce(t: Tensor, [{op: string = 'sum'}]) -> dist.Request",
                "Starts an in-place all-reduce of t without blocking ('avg' divides on completion); every rank must start the same sequence; read t after :wait()."
            ) { a in
                let c = try comm(a, "\(prefix).iallReduce")
                let t = try a.tensor(base)
                let r = try c.iallReduce(t, op: try reduceOp(try a.options(base + 1, allowed: ["op"])))
                Userdata.push(a.L, r, typeName: Request.luaTypeName); return 1
            },
            LuaBinding(
                "allGather", "\(prefix)\(sep)allGather(t: Tensor) -> Tensor",
                "Every rank's t stacked along a new first dimension: shape {size, ...t.shape}."
            ) { a in
                let c = try comm(a, "\(prefix).allGather")
                a.push(try c.allGather(try a.tensor(base))); return 1
            },
            LuaBinding(
                "split", "\(prefix)\(sep)split(color: integer, [key: integer = rank]) -> dist.Communicator",
                "A sub-communicator of the ranks that pass the same color, ordered by key."
            ) { a in
                let c = try comm(a, "\(prefix).split")
                let color = try a.integer(base)
                let key = a.isNoneOrNil(base + 1) ? c.rank : try a.integer(base + 1)
                Userdata.push(a.L, try c.split(color: color, key: key), typeName: Communicator.luaTypeName)
                return 1
            }
        ]
    }

    static let functions: [LuaBinding] =
        [
            LuaBinding(
                "init", "dist.init([{timeout: number = 300}]) -> integer, integer",
                "Loads MPI (libmpi.so.40) and joins the job; returns rank and size (0, 1 without mpirun)."
            ) { a in
                let o = try a.options(1, allowed: ["timeout"])
                if let t = try o.number("timeout") {
                    guard t > 0 && t.isFinite else { throw LuaError.runtime("Invalid 'timeout': expected a positive number of seconds, got \(t)") }
                    Communicator.timeout.withLock { $0 = t }
                }
                let w = try Communicator.world()
                a.push(w.rank); a.push(w.size); return 2
            },
            LuaBinding("initialized", "dist.initialized() -> boolean", "True once dist.init() has run.") { a in
                a.push(Communicator.initialized != nil); return 1
            }
        ] + collectives(prefix: "dist", method: false)

    static let classes = [
        LuaClass(Communicator.luaTypeName, methods: collectives(prefix: "dist.Communicator", method: true)),
        LuaClass(Request.luaTypeName, methods: requestMethods)
    ]
}
