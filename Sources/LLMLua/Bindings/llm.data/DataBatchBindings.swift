// Batch bindings: llm.data.split, llm.data.randomWindows (the global seeded generator),
// llm.data.Batcher (its own seeded generator; :next() -> x, y and :state()/:setState(s) for exact
// resume) and llm.data.evalWindows (an iterator object for `for x, y in ... do`). x, y are (B, T) int64.
import CLua
import CLuaShim
import LLMCore
import LLMData

enum DataBatchBindings {
    static let functions: [LuaBinding] = [
        LuaBinding(
            "split", "llm.data.split(tokens: Tensor, valFraction: number) -> Tensor, Tensor",
            "Contiguous train/validation split: the last valFraction of the tokens validate."
        ) { a in
            let (train, val) = try DataSplit.split(try a.tensor(1), valFraction: try a.number(2))
            a.push(train); a.push(val)
            return 2
        },
        LuaBinding(
            "randomWindows", "llm.data.randomWindows(tokens: Tensor, batchSize: int, blockSize: int) -> Tensor, Tensor",
            "One batch of random windows (x and y = x shifted by one), drawn with the llm.manualSeed generator."
        ) { a in
            let b = try Windows.random(try a.tensor(1), batchSize: try a.integer(2), blockSize: try a.integer(3), generator: .shared)
            a.push(b.x); a.push(b.y)
            return 2
        },
        LuaBinding(
            "Batcher", "llm.data.Batcher(tokens: Tensor, {batchSize, blockSize, seed}) -> Batcher",
            "Seeded random (x, y) batches of blockSize-token windows; seed defaults to one drawn from llm.manualSeed."
        ) { a in
            let tokens = try a.tensor(1)
            try a.table(2)
            let o = try a.options(2, allowed: ["batchSize", "blockSize", "seed"])
            guard let bs = try o.integer("batchSize") else { throw LuaError.runtime("Batcher: missing option 'batchSize'") }
            guard let t = try o.integer("blockSize") else { throw LuaError.runtime("Batcher: missing option 'blockSize'") }
            let seed = try o.integer("seed").map { UInt64(bitPattern: Int64($0)) } ?? Generator.shared.next()
            Userdata.push(a.L, try Batcher(tokens: tokens, batchSize: bs, blockSize: t, seed: seed), typeName: DataLib.batcher)
            return 1
        },
        LuaBinding(
            "evalWindows", "llm.data.evalWindows(tokens: Tensor, batchSize: int, blockSize: int, [{start}]) -> EvalWindows",
            "Sequential non-overlapping windows for evaluation: for x, y in llm.data.evalWindows(val, 8, 64) do ... end."
        ) { a in
            let tokens = try a.tensor(1)
            let bs = try a.integer(2), t = try a.integer(3)
            let o = try a.options(4, allowed: ["start"])
            let start = try o.integer("start") ?? 0
            Userdata.push(a.L, try EvalWindows(tokens: tokens, batchSize: bs, blockSize: t, start: start), typeName: DataLib.evalWindows)
            return 1
        }
    ]

    static func batcher(_ a: LuaArgs) throws -> Batcher {
        guard let b = try DataLib.object(a, 1, DataLib.batcher) as? Batcher else { throw LuaError.type(1, expected: DataLib.batcher) }
        return b
    }

    static let batcherMethods: [LuaBinding] = [
        LuaBinding("next", "batcher:next() -> Tensor, Tensor", "The next random batch: x and y, both (batchSize, blockSize) int64.") { a in
            let b = try batcher(a).next()
            a.push(b.x); a.push(b.y)
            return 2
        },
        LuaBinding("state", "batcher:state() -> table", "The position {seed, step, tokens, rng} to save in a checkpoint.") { a in
            let s = try batcher(a).state
            let L = a.L
            lua_createtable(L, 0, 4)
            lua_pushinteger(L, lua_Integer(Int64(bitPattern: s.seed))); lua_setfield(L, -2, "seed")
            lua_pushinteger(L, lua_Integer(s.step)); lua_setfield(L, -2, "step")
            lua_pushinteger(L, lua_Integer(s.tokens)); lua_setfield(L, -2, "tokens")
            lua_createtable(L, Int32(s.rng.count), 0)
            for (k, w) in s.rng.enumerated() { lua_pushinteger(L, lua_Integer(Int64(bitPattern: w))); lua_rawseti(L, -2, lua_Integer(k + 1)) }
            lua_setfield(L, -2, "rng")
            return 1
        },
        LuaBinding("setState", "batcher:setState(s: table)", "Continues from a position saved by :state(): the same batches follow.") { a in
            let b = try batcher(a)
            let o = try a.options(2, allowed: ["seed", "step", "tokens", "rng"])
            guard let seed = try o.integer("seed"), let step = try o.integer("step"), let tokens = try o.integer("tokens") else {
                throw LuaError.runtime("Batcher:setState: expected the table returned by state() (with seed, step, tokens and rng)")
            }
            guard let saved = try? o.integerList("rng") else {
                throw LuaError.runtime("Batcher:setState: 'rng' must be the list of 6 integers saved by state()")
            }
            let rng = saved.map { UInt64(bitPattern: Int64($0)) }
            try b.restore(Batcher.State(seed: UInt64(bitPattern: Int64(seed)), step: step, rng: rng, tokens: tokens))
            return 0
        },
        LuaBinding("step", "batcher:step() -> int", "Number of batches drawn so far.") { a in
            a.push(try batcher(a).step); return 1
        }
    ]

    static let batcherMeta: [LuaBinding] = [
        LuaBinding("__tostring", "tostring(batcher) -> string", "Sizes and position of a batcher.") { a in
            let b = try batcher(a)
            a.push("llm.data.Batcher(batchSize=\(b.batchSize), blockSize=\(b.blockSize), tokens=\(b.tokenCount), step=\(b.step))")
            return 1
        }
    ]

    static func windows(_ a: LuaArgs) throws -> EvalWindows {
        guard let w = try DataLib.object(a, 1, DataLib.evalWindows) as? EvalWindows else { throw LuaError.type(1, expected: DataLib.evalWindows) }
        return w
    }

    /// `for x, y in windows do`: the next batch, or nil at the end (and the pass starts over).
    static let nextWindow: LuaFunction = { a in
        let w = try windows(a)
        guard let b = try w.nextBatch() else { w.reset(); a.pushNil(); return 1 }
        a.push(b.x); a.push(b.y)
        return 2
    }

    static let windowMethods: [LuaBinding] = [
        LuaBinding("next", "windows:next() -> Tensor, Tensor | nil", "The next batch of the pass, or nil at its end (then it starts over).", nextWindow),
        LuaBinding("reset", "windows:reset()", "Starts the pass over.") { a in
            try windows(a).reset(); return 0
        },
        LuaBinding("numBatches", "windows:numBatches() -> int", "Number of batches in one pass (the last may be smaller).") { a in
            a.push(try windows(a).batchCount); return 1
        },
        LuaBinding("batch", "windows:batch(i: int) -> Tensor, Tensor", "Batch i (1-based) of the pass.") { a in
            let w = try windows(a)
            let i = try a.integer(2)
            guard i >= 1 && i <= w.batchCount, let b = try w.batch(at: i - 1) else {
                throw LuaError.argument(2, "batch index \(i) out of range (1..\(w.batchCount))")
            }
            a.push(b.x); a.push(b.y)
            return 2
        }
    ]

    static let windowMeta: [LuaBinding] = [
        LuaBinding("__call", "windows() -> Tensor, Tensor | nil", "Iterator protocol: the next batch, or nil at the end.", nextWindow),
        LuaBinding("__len", "#windows -> int", "Number of batches in one pass.") { a in
            a.push(try windows(a).batchCount); return 1
        },
        LuaBinding("__tostring", "tostring(windows) -> string", "Sizes of the evaluation windows.") { a in
            let w = try windows(a)
            a.push("llm.data.EvalWindows(batchSize=\(w.batchSize), blockSize=\(w.blockSize), windows=\(w.windowCount), batches=\(w.batchCount))")
            return 1
        }
    ]
}
