// DedupBindings: the `llm.data.dedup` namespace: `dedup.Exact{...}` and `dedup.MinHash{...}` ordered
// stages (keep the first of each content / near-duplicate cluster), `dedup.stats(stage)` for their
// counters (seen, duplicates, clusters, bands, rows, memory), and standalone helpers: `similarity` (MinHash
// estimate), `jaccard` (exact shingle Jaccard), `hash` (content hash as hex), `optimalBands`.
import CLua
import CLuaShim
import LLMData

enum DedupLib: LuaLibrary {
    static let namespace = "llm.data.dedup"
    static let minhashKeys = ["unit", "shingle", "numPerm", "seed"]

    static let functions: [LuaBinding] = [
        LuaBinding(
            "Exact", "dedup.Exact{[bits=128|64], [name='exactDedup']} -> Stage",
            "Exact dedup by a hash of the lowercased, whitespace-collapsed text; keeps the first."
        ) { a in
            let o = try a.options(1, allowed: ["bits", "name"])
            let bits = try o.integer("bits") ?? 128
            guard bits == 64 || bits == 128 else { throw LuaError.runtime("Invalid 'bits': expected 64 or 128, got \(bits)") }
            PipelineBindings.pushStage(a.L, ordered: ExactDedup(bits: bits, name: try o.string("name") ?? "exactDedup"))
            return 1
        },
        LuaBinding(
            "MinHash",
            "dedup.MinHash{[unit='word'|'char'], [shingle=5], [numPerm=128], [seed=1], [threshold=0.8], [bands], [rows], [verify=false], [name='minhashDedup']} -> Stage",
            "Near-duplicate dedup with MinHash + LSH banding; keeps the first of each cluster."
        ) { a in
            let o = try a.options(1, allowed: minhashKeys + ["threshold", "bands", "rows", "verify", "name"])
            var d = MinHashDedupOptions()
            d.minhash = try minhashOptions(o)
            d.threshold = try o.number("threshold") ?? d.threshold
            d.bands = try o.integer("bands"); d.rows = try o.integer("rows")
            d.verify = try o.bool("verify") ?? false
            PipelineBindings.pushStage(a.L, ordered: try MinHashDedup(d, name: try o.string("name") ?? "minhashDedup"))
            return 1
        },
        LuaBinding(
            "stats", "dedup.stats(stage) -> {seen, duplicates, clusters?, bands?, rows?, memory}",
            "Counters of a dedup stage made by dedup.Exact or dedup.MinHash."
        ) { a in
            let box = try a.object(1, StageBox.self)
            guard case .ordered(let s) = box.step else { throw LuaError.argument(1, "expected a dedup stage, got stage '\(box.step.name)'") }
            lua_createtable(a.L, 0, 6)
            func set(_ k: String, _ v: Int) { lua_pushinteger(a.L, lua_Integer(v)); lua_setfield(a.L, -2, k) }
            if let m = s as? MinHashDedup {
                set("seen", m.seen); set("duplicates", m.duplicates); set("clusters", m.clusters)
                set("bands", m.bands); set("rows", m.rows); set("memory", m.memoryBytes)
            } else if let e = s as? ExactDedup {
                set("seen", e.seen); set("duplicates", e.duplicates)
            } else {
                throw LuaError.argument(1, "expected a dedup stage, got stage '\(s.name)'")
            }
            return 1
        },
        LuaBinding(
            "similarity", "dedup.similarity(a, b, [{unit='word', shingle=5, numPerm=128, seed=1}]) -> number",
            "MinHash estimate of the Jaccard similarity of two texts' shingle sets."
        ) { a in
            let x = try CleaningLib.text(a, 1), y = try CleaningLib.text(a, 2)
            let o = try minhashOptions(try a.options(3, allowed: minhashKeys))
            a.push(MinHasher(o).similarity(x, y)); return 1
        },
        LuaBinding("jaccard", "dedup.jaccard(a, b, [{unit='word', shingle=5}]) -> number", "Exact Jaccard similarity of two texts' shingle sets.") { a in
            let x = try CleaningLib.text(a, 1), y = try CleaningLib.text(a, 2)
            var o = try minhashOptions(try a.options(3, allowed: minhashKeys))
            o.numPerm = 1
            a.push(MinHasher(o).jaccard(x, y)); return 1
        },
        LuaBinding("hash", "dedup.hash(text, [bits=64]) -> string", "The exact-dedup content hash of the normalized text, as hex.") { a in
            let key = ExactDedupKey.normalize(try CleaningLib.text(a, 1))
            let bits = try a.optInteger(2, 64)
            switch bits {
            case 64: DataLib.pushString(a.L, hex(DedupHash.xxh64(key)))
            case 128: let h = DedupHash.hash128(key); DataLib.pushString(a.L, hex(h.hi) + hex(h.lo))
            default: throw LuaError.argument(2, "Invalid 'bits': expected 64 or 128, got \(bits)")
            }
            return 1
        },
        LuaBinding(
            "optimalBands", "dedup.optimalBands(threshold, numPerm) -> bands, rows",
            "LSH bands × rows minimizing false positives + false negatives for the threshold (as datasketch)."
        ) { a in
            let t = try a.number(1), p = try a.integer(2)
            guard t > 0 && t < 1 else { throw LuaError.argument(1, "Invalid 'threshold': expected a number in (0, 1), got \(t)") }
            guard (1...4096).contains(p) else { throw LuaError.argument(2, "Invalid 'numPerm': expected an integer in 1...4096, got \(p)") }
            let r = MinHashLSH.optimalBands(threshold: t, numPerm: p)
            a.push(r.bands); a.push(r.rows); return 2
        }
    ]

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    static func minhashOptions(_ o: LuaOptions) throws -> MinHashOptions {
        var m = MinHashOptions()
        if let u = try o.string("unit") {
            guard let unit = MinHashOptions.Unit(rawValue: u) else { throw LuaError.runtime("Invalid 'unit': expected one of 'word', 'char', got '\(u)'") }
            m.unit = unit
        }
        m.shingleSize = try o.integer("shingle") ?? m.shingleSize
        guard (1...64).contains(m.shingleSize) else { throw LuaError.runtime("Invalid 'shingle': expected an integer in 1...64, got \(m.shingleSize)") }
        m.numPerm = try o.integer("numPerm") ?? m.numPerm
        guard (1...4096).contains(m.numPerm) else { throw LuaError.runtime("Invalid 'numPerm': expected an integer in 1...4096, got \(m.numPerm)") }
        if let s = try o.integer("seed") { m.seed = UInt64(bitPattern: Int64(s)) }
        return m
    }
}
