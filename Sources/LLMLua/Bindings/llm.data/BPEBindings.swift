// BPEBindings: the `llm.data.BPETokenizer` namespace (train, fromFile) and the llm.BPETokenizer userdata.
// Its methods are the shared tokenizer methods (:encode, :decode, :vocabSize, :toTable; see
// DataTokenizerBindings) plus :save(path) (HF tokenizer.json), :tokenToId(s) and :idToToken(id).
// Ids are 0-based like every tokenizer's. DataError becomes a plain Lua error with its message.
import CLua
import CLuaShim
import LLMCore
import LLMData

enum BPELib: LuaLibrary {
    static let namespace = "llm.data.BPETokenizer"
    static let typeName = "llm.data.BPETokenizer"

    static let functions: [LuaBinding] = [
        LuaBinding(
            "train", "llm.data.BPETokenizer.train(text: string | {string}, {vocabSize: int, minFrequency: int = 2, specialTokens: {string}}) -> BPETokenizer",
            "Trains a byte-level BPE tokenizer (GPT-2 pre-tokenization; same merges as HF tokenizers' BpeTrainer)."
        ) { a in
            let o = try a.options(2, allowed: ["vocabSize", "minFrequency", "specialTokens"])
            guard let vocabSize = try o.integer("vocabSize") else {
                throw LuaError.runtime("Invalid 'vocabSize': expected an integer (at least 256 + the number of special tokens), got nil")
            }
            let minFrequency = try o.integer("minFrequency") ?? 2
            let specials = try specialTokens(a, 2)
            var trainer = BPETrainer()
            switch a.type(1) {
            case LUA_TSTRING:
                try DataLib.withBytes(a, 1) { trainer.add(utf8: $0) }
            case LUA_TTABLE:
                let n = Int(lua_rawlen(a.L, 1))
                for k in 0..<n {
                    lua_rawgeti(a.L, 1, lua_Integer(k + 1))
                    defer { llms_pop(a.L, 1) }
                    guard a.type(-1) == LUA_TSTRING else {
                        throw LuaError.argument(1, "entry \(k + 1) must be a string, got \(a.typeName(-1))")
                    }
                    try DataLib.withBytes(a, -1) { trainer.add(utf8: $0) }
                }
            default:
                throw LuaError.type(1, expected: "string or table of strings")
            }
            let tok = try trainer.train(vocabSize: vocabSize, minFrequency: minFrequency, specialTokens: specials)
            Userdata.push(a.L, tok, typeName: typeName)
            return 1
        },
        LuaBinding(
            "fromFile", "llm.data.BPETokenizer.fromFile(path: string) -> BPETokenizer",
            "Loads a Hugging Face tokenizer.json (byte-level BPE; merges as \"a b\" strings or pairs)."
        ) { a in
            let path = try a.path(1, .read)  // checked against the sandbox's read folders
            Userdata.push(a.L, try TokenizerJSON.load(path: path), typeName: typeName)
            return 1
        }
    ]

    static let methods: [LuaBinding] = [
        LuaBinding("save", "tok:save(path: string)", "Writes the tokenizer as a Hugging Face tokenizer.json (atomically).") { a in
            let tok = try bpe(a, 1)
            try TokenizerJSON.save(tok, path: try a.path(2, .write))  // checked against the sandbox's write folders
            return 0
        },
        LuaBinding("tokenToId", "tok:tokenToId(token: string) -> int | nil", "The id of a token string (byte-level form, e.g. 'Ġthe'), or nil.") { a in
            let tok = try bpe(a, 1)
            let s = try DataLib.withBytes(a, 2) { String(decoding: $0, as: UTF8.self) }
            if let id = tok.tokenToID(s) { a.push(id) } else { a.pushNil() }
            return 1
        },
        LuaBinding("idToToken", "tok:idToToken(id: int) -> string | nil", "The token string of a 0-based id, or nil when out of range.") { a in
            let tok = try bpe(a, 1)
            if let t = tok.idToToken(try a.integer(2)) { DataLib.pushString(a.L, t) } else { a.pushNil() }
            return 1
        }
    ]

    static let classes = [
        LuaClass(
            typeName, methods: DataTokenizerBindings.methods + methods,
            metamethods: DataTokenizerBindings.metamethods)
    ]

    /// The BPE tokenizer at `i`, or a type error.
    static func bpe(_ a: LuaArgs, _ i: Int32) throws -> BPETokenizer {
        guard let t = try DataLib.object(a, i, typeName) as? BPETokenizer else { throw LuaError.type(i, expected: typeName) }
        return t
    }

    /// The `specialTokens` option of the options table at `i` (a list of strings), or [].
    private static func specialTokens(_ a: LuaArgs, _ i: Int32) throws -> [String] {
        guard a.type(i) == LUA_TTABLE else { return [] }
        lua_pushstring(a.L, "specialTokens")
        let t = lua_rawget(a.L, i)
        defer { llms_pop(a.L, 1) }
        if t == LUA_TNIL { return [] }
        guard t == LUA_TTABLE else { throw LuaError.runtime("Invalid 'specialTokens': expected a list of strings, got \(a.typeName(-1))") }
        let idx = lua_gettop(a.L)
        let n = Int(lua_rawlen(a.L, idx))
        var out: [String] = []
        for k in 0..<n {
            lua_rawgeti(a.L, idx, lua_Integer(k + 1))
            defer { llms_pop(a.L, 1) }
            guard a.type(-1) == LUA_TSTRING else {
                throw LuaError.runtime("Invalid 'specialTokens': entry \(k + 1) must be a string, got \(a.typeName(-1))")
            }
            out.append(try DataLib.utf8String(a, lua_gettop(a.L), what: "specialTokens"))
        }
        return out
    }
}
