// AugmentBindings: the Swift primitives under the Lua augmenters (stdlib-lua/llm/augment). `llm.text`:
// tokenization that keeps punctuation and splits CJK per character, keyboard/OCR tables, seeded random
// choices on an llm.Generator (1-based for Lua), token masking of a Lua array or a tensor. `llm.wordnet`:
// the WordNet reader (llm.WordNet userdata; module functions use the default database).
import CLua
import CLuaShim
import LLMCore
import LLMData

extension WordNet: LuaBridged {
    public static var luaTypeName: String { "llm.WordNet" }
}

enum TextLib: LuaLibrary {
    static let namespace = "llm.text"

    /// The optional generator at `i` (the shared one when absent).
    static func gen(_ a: LuaArgs, _ i: Int32) throws -> Generator {
        a.isNoneOrNil(i) ? .shared : try a.object(i, Generator.self)
    }

    /// The string argument `i` to split, after checking that splitting it fits the memory budget: at
    /// most `pieces(n)` pieces of its n bytes, each held in `arrays` Swift arrays (24 bytes an element;
    /// long pieces' bytes, n at most, besides) and Lua arrays (a slot each), before the strings themselves
    /// (checked as they are pushed).
    static func textToSplit(_ a: LuaArgs, _ i: Int32, arrays: Int, pieces: (Int) -> Int) throws -> String {
        let s = try DataLib.utf8String(a, i, what: a.name)
        let n = pieces(s.utf8.count)
        try a.reserve(
            lua: LuaSize.total((arrays, LuaSize.table), (n, arrays * LuaSize.arraySlot)),
            native: LuaSize.total((n, arrays * 24), (s.utf8.count, 1)))
        return s
    }

    /// Pushes `xs` as a Lua array; long strings (their own copies in Lua) are checked against the memory
    /// budget first, and the limit is re-checked every 4096 strings.
    static func pushStrings(_ a: LuaArgs, _ xs: [String]) throws {
        try a.reserve(lua: xs.reduce(0) { $1.utf8.count > 40 ? $0 &+ LuaSize.string($1.utf8.count) : $0 })
        let L = a.L
        lua_createtable(L, Int32(clamping: xs.count), 0)
        for (k, s) in xs.enumerated() {
            if k & 4095 == 4095 { try a.checkMemory() }
            DataLib.pushString(L, s); lua_rawseti(L, -2, lua_Integer(k + 1))
        }
    }

    static func pushStrings(_ L: OpaquePointer, _ xs: [String]) {
        lua_createtable(L, Int32(clamping: xs.count), 0)
        for (k, s) in xs.enumerated() { DataLib.pushString(L, s); lua_rawseti(L, -2, lua_Integer(k + 1)) }
    }

    /// The single character at `i`.
    static func character(_ a: LuaArgs, _ i: Int32) throws -> Character {
        let s = try DataLib.utf8String(a, i, what: a.name)
        guard s.count == 1, let c = s.first else { throw LuaError.argument(i, "expected a single character, got '\(s)'") }
        return c
    }

    /// An array of integers of any length (token ids).
    static func intArray(_ a: LuaArgs, _ i: Int32) throws -> [Int] { try a.integerArray(i) }

    /// The `generator` field of the options table at `i`, or the shared generator.
    static func generatorField(_ a: LuaArgs, _ i: Int32) throws -> Generator { try SamplingBindings.generatorField(a, i) }

    static let functions: [LuaBinding] = [
        LuaBinding(
            "tokenize", "llm.text.tokenize(s: string) -> {string}, {string}",
            "Pieces whose concatenation is s, and their kinds: 'w' word, 'c' CJK character, 'p' punctuation, 's' whitespace."
        ) { a in
            let pieces = TextOps.tokenize(try textToSplit(a, 1, arrays: 3) { $0 })
            try pushStrings(a, pieces.map(\.text)); try pushStrings(a, pieces.map(\.kind.rawValue)); return 2
        },
        LuaBinding("words", "llm.text.words(s: string) -> {string}", "The words of s (CJK characters count as words; punctuation and spaces dropped).") { a in
            try pushStrings(a, TextOps.words(try textToSplit(a, 1, arrays: 1) { $0 / 2 + 1 })); return 1
        },
        LuaBinding("chars", "llm.text.chars(s: string) -> {string}", "The characters (grapheme clusters) of s.") { a in
            try pushStrings(a, TextOps.characters(try textToSplit(a, 1, arrays: 1) { $0 })); return 1
        },
        LuaBinding("isCJK", "llm.text.isCJK(ch: string) -> boolean", "True for a CJK ideograph, kana or Hangul character.") { a in
            a.push(TextOps.isCJK(try character(a, 1))); return 1
        },
        LuaBinding(
            "keyboardNeighbours", "llm.text.keyboardNeighbours(ch: string, [{digits=true, symbols=false}]) -> {string}",
            "Keys next to ch on a QWERTY keyboard (case kept); empty for other characters."
        ) { a in
            let c = try character(a, 1)
            let o = try a.options(2, allowed: ["digits", "symbols"])
            let n = TextOps.keyboardNeighbours(c, digits: try o.bool("digits") ?? true, symbols: try o.bool("symbols") ?? false)
            pushStrings(a.L, n.map { String($0) }); return 1
        },
        LuaBinding("ocrConfusions", "llm.text.ocrConfusions(ch: string) -> {string}", "What an OCR engine may read instead of ch (0 -> o, O, D ...); empty when none.") { a in
            pushStrings(a.L, TextOps.ocrConfusions(try character(a, 1))); return 1
        },
        LuaBinding("hash", "llm.text.hash(s: string) -> int", "A stable 64-bit FNV-1a hash of s's bytes (for per-document seeds).") { a in
            let h = try DataLib.withBytes(a, 1) { TextOps.hash(bytes: $0) }
            lua_pushinteger(a.L, lua_Integer(Int64(bitPattern: h))); return 1
        },
        LuaBinding("random", "llm.text.random([g: Generator]) -> number", "Uniform in [0, 1) from g (default: the shared generator).") { a in
            a.push(try gen(a, 1).uniform()); return 1
        },
        LuaBinding("randint", "llm.text.randint(n: int, [g: Generator]) -> int", "Uniform integer in 1..n from g.") { a in
            let n = try a.integer(1)
            guard n >= 1 else { throw LuaError.argument(1, "expected a positive integer, got \(n)") }
            a.push(Int(try gen(a, 2).integer(below: UInt64(n))) + 1); return 1
        },
        LuaBinding("sample", "llm.text.sample(n: int, k: int, [g: Generator]) -> {int}", "k distinct integers of 1..n in random order (k capped at n).") { a in
            let n = try a.integer(1), k = try a.integer(2)
            guard n >= 0 else { throw LuaError.argument(1, "expected a non-negative integer, got \(n)") }
            guard k >= 0 else { throw LuaError.argument(2, "expected a non-negative integer, got \(k)") }
            let m = Swift.min(n, k)  // the result: m ints in Swift (the shuffle's pool too when dense) and in Lua
            try a.reserve(
                lua: LuaSize.total((m, LuaSize.arraySlot), (1, LuaSize.table)),
                native: LuaSize.total((n / 4 <= k ? n : 4 * m, 8), (m, 16)))
            a.push(ints: TextOps.sample(n, k, generator: try gen(a, 3)).map { $0 + 1 }); return 1
        },
        LuaBinding(
            "maskTokens", "llm.text.maskTokens(ids: {int}|Tensor, {rate, maskId, vocabSize, mode='mask'|'bert'|'random', protect={int}, generator}) -> ids, chosen",
            "Masks round(rate x eligible) positions; returns the new ids (same kind as given) and the chosen positions ({boolean} or an f32 0/1 tensor).",
            { a in
                let o = try a.options(2, allowed: ["rate", "maskId", "vocabSize", "mode", "protect", "generator"])
                let modeName = try o.string("mode") ?? "mask"
                guard let mode = TokenMaskMode(rawValue: modeName) else {
                    throw LuaError.runtime("Invalid 'mode': expected one of 'mask', 'bert', 'random', got '\(modeName)'")
                }
                let protect = Set(try o.integerList("protect") ?? [])
                let g: Generator = try generatorField(a, 2)
                let rate = try o.number("rate") ?? 0.15
                // before building: the ids in Swift (in, out, chosen) and two results of the same length in Lua
                let count = a.isTensor(1) ? try a.tensor(1).count : Int(lua_rawlen(a.L, 1))
                try a.reserve(lua: LuaSize.total((2, LuaSize.table), (count, 2 * LuaSize.arraySlot)), native: LuaSize.total((count, 8 * 4 + 1)))
                if a.isTensor(1) {
                    let t = try a.tensor(1)
                    let vals = t.toDoubles()
                    guard vals.allSatisfy({ $0 == $0.rounded() && abs($0) < 9e15 }) else { throw LuaError.argument(1, "expected integer token ids") }
                    let r = try TextOps.maskTokens(
                        vals.map { Int($0) }, rate: rate, maskId: o.integer("maskId"), vocabSize: o.integer("vocabSize"),
                        mode: mode, protected: protect, generator: g)
                    a.push(try Tensor.from(r.ids.map(Double.init), shape: t.shape, dtype: t.dtype))
                    a.push(try Tensor.from(r.chosen.map { $0 ? 1 : 0 }, shape: t.shape, dtype: .float32))
                    return 2
                }
                let r = try TextOps.maskTokens(
                    intArray(a, 1), rate: rate, maskId: o.integer("maskId"), vocabSize: o.integer("vocabSize"),
                    mode: mode, protected: protect, generator: g)
                a.push(ints: r.ids)
                lua_createtable(a.L, Int32(clamping: r.chosen.count), 0)
                for (k, c) in r.chosen.enumerated() { lua_pushboolean(a.L, c ? 1 : 0); lua_rawseti(a.L, -2, lua_Integer(k + 1)) }
                return 2
            })
    ]
}

enum WordNetLib: LuaLibrary {
    static let namespace = "llm.wordnet"

    /// The WordNet error as a plain Lua error (its message names the missing file and the package).
    static func database(_ a: LuaArgs, _ dir: String?) throws -> WordNet {
        let dir = dir ?? WordNet.defaultDirectory
        try a.checkPath(dir, .readTree)  // the default folder is checked like any path (a cached database too)
        return try WordNet.open(directory: dir)
    }

    /// The `pos` argument at `i`: nil (any) or a part of speech.
    static func pos(_ a: LuaArgs, _ i: Int32) throws -> WordNetPOS? {
        guard let s = try a.optString(i) else { return nil }
        guard let p = WordNetPOS.parse(s) else {
            throw LuaError.runtime("Invalid 'pos': expected one of 'noun', 'verb', 'adj', 'adv' (or n, v, a, r), got '\(s)'")
        }
        return p
    }

    static func pushSynset(_ L: OpaquePointer, _ s: WordNetSynset) {
        lua_createtable(L, 0, 4)
        lua_pushinteger(L, lua_Integer(s.offset)); lua_setfield(L, -2, "offset")
        DataLib.pushString(L, String(s.type)); lua_setfield(L, -2, "pos")
        TextLib.pushStrings(L, s.lemmas); lua_setfield(L, -2, "lemmas")
        DataLib.pushString(L, s.gloss); lua_setfield(L, -2, "gloss")
    }

    /// The three lookups, as functions of the default database (`self` = nil) or methods (`self` = 1).
    static func lookups(method: Bool) -> [LuaBinding] {
        let first: Int32 = method ? 2 : 1
        let prefix = method ? "wn:" : "llm.wordnet."
        @Sendable func db(_ a: LuaArgs) throws -> WordNet { method ? try a.object(1, WordNet.self) : try database(a, nil) }
        return [
            LuaBinding(
                "synonyms", "\(prefix)synonyms(word: string, [pos: string]) -> {string}",
                "Other lemmas of the word's synsets ('_' as space), sense order, without the word itself."
            ) { a in
                let w = try DataLib.utf8String(a, first, what: "synonyms")
                TextLib.pushStrings(a.L, try db(a).synonyms(of: w, pos: pos(a, first + 1))); return 1
            },
            LuaBinding(
                "morphy", "\(prefix)morphy(word: string, [pos: string]) -> string|nil",
                "The base form WordNet knows (exception lists, then detachment rules): geese -> goose, ran -> run."
            ) { a in
                let w = try DataLib.utf8String(a, first, what: "morphy")
                let wn = try db(a)
                if let p = try pos(a, first + 1) {
                    if let f = wn.morphy(w, pos: p) { a.push(f) } else { a.pushNil() }
                } else if let f = wn.morphy(w) {
                    a.push(f)
                } else {
                    a.pushNil()
                }
                return 1
            },
            LuaBinding(
                "synsets", "\(prefix)synsets(word: string, [pos: string]) -> {{offset, pos, lemmas, gloss}}",
                "The word's synsets (through its base forms), noun/verb/adj/adv order."
            ) { a in
                let w = try DataLib.utf8String(a, first, what: "synsets")
                let ss = try db(a).synsets(w, pos: pos(a, first + 1))
                lua_createtable(a.L, Int32(clamping: ss.count), 0)
                for (k, s) in ss.enumerated() { pushSynset(a.L, s); lua_rawseti(a.L, -2, lua_Integer(k + 1)) }
                return 1
            }
        ]
    }

    static let functions: [LuaBinding] =
        lookups(method: false) + [
            LuaBinding(
                "open", "llm.wordnet.open([dir: string]) -> WordNet",
                "The WordNet database in dir (default $WNSEARCHDIR or /usr/share/wordnet, Debian 'wordnet-base')."
            ) { a in
                Userdata.push(a.L, try database(a, a.optPath(1, .readTree)), typeName: WordNet.luaTypeName); return 1
            },
            LuaBinding("available", "llm.wordnet.available([dir: string]) -> boolean", "True when a WordNet database is installed in dir (or the default folder).") { a in
                a.push(WordNet.isAvailable(directory: try a.optPath(1, .readTree))); return 1
            }
        ]

    static let methods: [LuaBinding] =
        lookups(method: true) + [
            LuaBinding("directory", "wn:directory() -> string", "The folder the database was read from.") { a in
                a.push(try a.object(1, WordNet.self).directory); return 1
            }
        ]

    static let meta: [LuaBinding] = [
        LuaBinding("__tostring", "tostring(wn)", "llm.WordNet(<dir>)") { a in
            a.push("llm.WordNet(\(try a.object(1, WordNet.self).directory))"); return 1
        }
    ]

    static let classes = [LuaClass(WordNet.luaTypeName, methods: methods, metamethods: meta)]
}
