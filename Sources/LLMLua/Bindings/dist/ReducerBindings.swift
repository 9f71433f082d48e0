// ReducerBindings: `dist.GradReducer`, the bucketed gradient averaging of data parallelism
// (LLMDistributed.GradReducer): all-reduces started during backward as buckets fill (LLMCore's
// gradient-ready hooks), and the f16/bf16/top-k compressed variants. stdlib-lua/llm/dist.lua's
// dist.dataParallel drives it from the Trainer (arm() before the last micro-batch's backward, finish()
// in transformGradients); scripts with their own loop can call it the same way.
import CLua
import CLuaShim
import LLMCore
import LLMDistributed

extension GradReducer: LuaBridged {
    public static var luaTypeName: String { "dist.GradReducer" }
}

enum ReducerLib: LuaLibrary {
    static let namespace = "dist"

    /// The `comm` option: a dist.Communicator, or the world when absent.
    static func communicator(_ a: LuaArgs, _ o: LuaOptions) throws -> Communicator {
        let t = o.pushField("comm")
        defer { llms_pop(a.L, 1) }
        if t == LUA_TNIL { return try DistLib.world("dist.GradReducer") }
        let mt = LuaContext.of(a.L).metatables[Communicator.luaTypeName]
        guard let c = try Userdata.object(a.L, -1, typeName: Communicator.luaTypeName, mt: mt) as? Communicator else {
            throw LuaError.runtime("Invalid 'comm': expected a dist.Communicator (dist.split), got \(a.typeName(-1))")
        }
        return c
    }

    /// The `compress` and `topk` options.
    static func compression(_ o: LuaOptions) throws -> GradCompression {
        let name = try o.string("compress")
        let ratio = try o.number("topk")
        switch name {
        case nil, "none":
            if ratio != nil { throw LuaError.runtime("Invalid 'topk': it is the ratio of compress = 'topk'; set compress = 'topk' too") }
            return .none
        case "f16", "bf16":
            if ratio != nil { throw LuaError.runtime("Invalid 'topk': it is the ratio of compress = 'topk', not of compress = '\(name!)'") }
            return .wire(WireFormat(rawValue: name!)!)
        case "topk":
            let r = ratio ?? 0.01
            guard r > 0 && r <= 1 else { throw LuaError.runtime("Invalid 'topk': expected a ratio in (0, 1] (the share of each bucket sent), got \(r)") }
            return .topK(ratio: r)
        case let other?:
            throw LuaError.runtime("Invalid 'compress': expected 'f16', 'bf16' or 'topk', got '\(other)'")
        }
    }

    static let functions: [LuaBinding] = [
        LuaBinding(
            "GradReducer",
            "dist.GradReducer(params: {Tensor}, [{bucketSize: integer = 1048576, overlap: boolean = true, comm: dist.Communicator = world, compress: string, topk: number = 0.01}]) -> dist.GradReducer",
            "Averages the parameters' gradients over comm in buckets of bucketSize floats (reverse parameter order). "
                + "r:arm() before the backward of a step's last micro-batch: with overlap, each bucket's all-reduce starts during that backward as soon as its gradients are final; "
                + "r:finish() after it waits, averages and writes p.grad. compress: 'f16' or 'bf16' (16-bit all-reduce) or 'topk' (the topk share of each bucket's largest entries, "
                + "with error feedback), done in finish(). A parameter no rank has a gradient for keeps grad = nil; one some ranks lack counts as zeros there. Collective over comm."
        ) { a in
            let params = try a.tensorList(1)
            let o = try a.options(2, allowed: ["bucketSize", "overlap", "comm", "compress", "topk"])
            let cap = try o.integer("bucketSize") ?? 1_048_576
            guard cap >= 1 else { throw LuaError.runtime("Invalid 'bucketSize': expected a positive integer (floats per bucket), got \(cap)") }
            let overlap = try o.bool("overlap") ?? true
            let compression = try compression(o)  // options first: their errors need no MPI
            let r = try GradReducer(params: params, comm: try communicator(a, o), bucketCap: cap, overlap: overlap, compression: compression)
            Userdata.push(a.L, r, typeName: GradReducer.luaTypeName)
            return 1
        }
    ]

    static let methods: [LuaBinding] = [
        LuaBinding("arm", "dist.GradReducer:arm()", "The next backward is the step's last: its finished gradients start their buckets' all-reduces (overlap).") { a in
            try a.object(1, GradReducer.self).arm(); return 0
        },
        LuaBinding(
            "finish", "dist.GradReducer:finish()",
            "Reduces what backward did not start, waits for every bucket, writes the averaged gradients into p.grad (collective over comm)."
        ) { a in
            try a.object(1, GradReducer.self).finish(); return 0
        },
        LuaBinding(
            "stats", "dist.GradReducer:stats() -> table",
            "{steps, collectives, startedInBackward, hookSeconds, waitSeconds, finishSeconds, overlapWindowSeconds, buckets}: counters and wall times on this rank (overlapWindowSeconds: from the first bucket started in backward to finish())."
        ) { a in
            let r = try a.object(1, GradReducer.self)
            let s = r.stats
            lua_createtable(a.L, 0, 8)
            for (k, v) in [("steps", s.steps), ("collectives", s.collectives), ("startedInBackward", s.startedInBackward), ("buckets", r.bucketCount)] {
                a.push(v); lua_setfield(a.L, -2, k)
            }
            for (k, v) in [("hookSeconds", s.hookSeconds), ("waitSeconds", s.waitSeconds), ("finishSeconds", s.finishSeconds), ("overlapWindowSeconds", s.overlapWindowSeconds)] {
                a.push(v); lua_setfield(a.L, -2, k)
            }
            return 1
        },
        LuaBinding("resetStats", "dist.GradReducer:resetStats()", "Zeroes the counters and times of stats().") { a in
            try a.object(1, GradReducer.self).resetStats(); return 0
        },
        LuaBinding("bucketSizes", "dist.GradReducer:bucketSizes() -> {integer}", "Floats of each bucket, in the order they are reduced.") { a in
            a.push(ints: try a.object(1, GradReducer.self).bucketSizes); return 1
        },
        LuaBinding(
            "residuals", "dist.GradReducer:residuals() -> Tensor",
            "compress = 'topk': this rank's error-feedback residuals (what it has not sent yet), one flat float32 tensor in parameter order (zeros before the first step). Local, no communication."
        ) { a in
            a.push(try a.object(1, GradReducer.self).residuals()); return 1
        },
        LuaBinding(
            "setResiduals", "dist.GradReducer:setResiduals(values: Tensor | nil)",
            "compress = 'topk': replaces this rank's residuals by values (as many as the parameters' floats, parameter order, as residuals() gives them); nil clears them."
        ) { a in
            try a.object(1, GradReducer.self).setResiduals(a.optTensor(2)); return 0
        },
        LuaBinding("close", "dist.GradReducer:close()", "Unregisters the gradient hooks (finish() still works, without overlap).") { a in
            try a.object(1, GradReducer.self).close(); return 0
        }
    ]

    static let classes = [LuaClass(GradReducer.luaTypeName, methods: methods)]
}
