// Shard bindings (namespace llm.data): ShardWriter (documents of token ids -> train/val shard files +
// shards.json) and ShardLoader (memory-mapped, shuffled, rank-sharded, prefetching batches with an
// exact resume position). A ShardLoader also serves as the trainer's `val` (numBatches/batch).
import CLua
import CLuaShim
import LLMCore
import LLMData

extension ShardSetWriter: LuaBridged { public static var luaTypeName: String { "llm.data.ShardWriter" } }
extension ShardLoader: LuaBridged { public static var luaTypeName: String { "llm.data.ShardLoader" } }

enum ShardBindings: LuaLibrary {
    static let namespace = "llm.data"

    /// Token ids from a tensor or a Lua array.
    static func ids(_ a: LuaArgs, _ i: Int32) throws -> [Int] {
        if a.isTensor(i) {
            let t = try a.tensor(i)
            guard !t.dtype.isFloatingPoint, t.rank <= 1 else { throw LuaError.argument(i, "expected a 1-D integer tensor of token ids") }
            var out: [Int] = []
            out.reserveCapacity(t.count)
            t.forEachOffset { out.append(Int(t.loadInteger(at: $0))) }
            return out
        }
        return try a.integerArray(i, what: "an integer token id")
    }

    static let functions: [LuaBinding] = [
        LuaBinding(
            "ShardWriter", "llm.data.ShardWriter(folder: string, {vocabSize, valFraction=0, shardTokens=5e7, seed=0}) -> ShardWriter",
            "Writes documents of token ids into train/val token shards (split by document) and shards.json."
        ) { a in
            let folder = try a.path(1, .write)
            let o = try a.options(2, allowed: ["vocabSize", "valFraction", "shardTokens", "seed"])
            guard let vocab = try o.integer("vocabSize") else { throw LuaError.runtime("ShardWriter: missing option 'vocabSize'") }
            let w = try ShardSetWriter(
                folder: folder, vocabSize: vocab, valFraction: o.number("valFraction") ?? 0,
                shardTokens: o.integer("shardTokens") ?? 50_000_000, seed: UInt64(bitPattern: Int64(o.integer("seed") ?? 0)))
            Userdata.push(a.L, w, typeName: ShardSetWriter.luaTypeName); return 1
        },
        LuaBinding(
            "ShardLoader", "llm.data.ShardLoader(folder: string, {batchSize, blockSize, split='train', seed=0, rank=0, worldSize=1, prefetch=2}) -> ShardLoader",
            "Shuffled, rank-sharded, prefetching (x, y) batches from a shard folder; :state()/:setState() resume exactly."
        ) { a in
            let folder = try a.path(1, .readTree)
            let o = try a.options(2, allowed: ["batchSize", "blockSize", "split", "seed", "rank", "worldSize", "prefetch"])
            guard let bs = try o.integer("batchSize"), let t = try o.integer("blockSize") else {
                throw LuaError.runtime("ShardLoader: options 'batchSize' and 'blockSize' are required")
            }
            let split = try ShardSplit(folder: folder, split: o.string("split") ?? "train")
            let loader = try ShardLoader(
                split: split, batchSize: bs, blockSize: t, seed: UInt64(bitPattern: Int64(o.integer("seed") ?? 0)),
                rank: o.integer("rank") ?? 0, worldSize: o.integer("worldSize") ?? 1, prefetch: o.integer("prefetch") ?? 2)
            Userdata.push(a.L, loader, typeName: ShardLoader.luaTypeName); return 1
        }
    ]

    static let writerMethods: [LuaBinding] = [
        LuaBinding("add", "writer:add(tokens: Tensor | {int}, [split: 'train'|'val'])", "Adds one document.") { a in
            try a.object(1, ShardSetWriter.self).add(ids(a, 2), split: a.optString(3)); return 0
        },
        LuaBinding("finish", "writer:finish() -> table", "Writes the remaining shards and shards.json; returns {train=n files, val=n files, documents=n}.") { a in
            let m = try a.object(1, ShardSetWriter.self).finish()
            lua_createtable(a.L, 0, 3)
            lua_pushinteger(a.L, lua_Integer((m["train"] as? [Any])?.count ?? 0)); lua_setfield(a.L, -2, "train")
            lua_pushinteger(a.L, lua_Integer((m["val"] as? [Any])?.count ?? 0)); lua_setfield(a.L, -2, "val")
            lua_pushinteger(a.L, lua_Integer(m["documents"] as? Int ?? 0)); lua_setfield(a.L, -2, "documents")
            return 1
        }
    ]

    static let loaderMethods: [LuaBinding] = [
        LuaBinding("next", "loader:next() -> Tensor, Tensor", "The next batch: x and y, (batchSize, blockSize) int64.") { a in
            let batch = try a.object(1, ShardLoader.self).next()
            a.push(batch.x); a.push(batch.y); return 2
        },
        LuaBinding("state", "loader:state() -> {epoch, batch}", "The position of the next batch (save it in a checkpoint).") { a in
            let p = try a.object(1, ShardLoader.self).position
            lua_createtable(a.L, 0, 2)
            lua_pushinteger(a.L, lua_Integer(p.epoch)); lua_setfield(a.L, -2, "epoch")
            lua_pushinteger(a.L, lua_Integer(p.batch)); lua_setfield(a.L, -2, "batch")
            return 1
        },
        LuaBinding("setState", "loader:setState(s: {epoch, batch})", "Continues from a position saved by :state().") { a in
            let l = try a.object(1, ShardLoader.self)
            try a.table(2)
            let o = try a.options(2, allowed: ["epoch", "batch"])
            guard let e = try o.integer("epoch"), let bt = try o.integer("batch") else { throw LuaError.argument(2, "expected {epoch=, batch=} from loader:state()") }
            try l.restore(.init(epoch: e, batch: bt)); return 0
        },
        LuaBinding("numBatches", "loader:numBatches() -> int", "Batches per epoch for this rank.") { a in
            a.push(try a.object(1, ShardLoader.self).batchesPerEpoch); return 1
        },
        LuaBinding("batch", "loader:batch(i: int) -> Tensor, Tensor", "Batch i (1-based) of epoch 0 — a fixed evaluation set.") { a in
            let loader = try a.object(1, ShardLoader.self), i = try a.integer(2)
            guard i >= 1 else { throw LuaError.argument(2, "expected a batch index >= 1, got \(i)") }
            let batch = try loader.batch(at: i - 1)
            a.push(batch.x); a.push(batch.y); return 2
        }
    ]

    static let classes = [
        LuaClass(ShardSetWriter.luaTypeName, methods: writerMethods),
        LuaClass(ShardLoader.luaTypeName, methods: loaderMethods)
    ]
}
