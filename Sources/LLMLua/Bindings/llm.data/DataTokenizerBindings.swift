// Tokenizer bindings: llm.data.CharTokenizer(text, [{unk}]), llm.data.ByteTokenizer() and
// llm.data.tokenizerFromTable(t); methods :encode(text) -> int64 Tensor, :decode(ids) -> string,
// :vocabSize(), :toTable() (plain Lua values a checkpoint can store). Ids are 0-based data values.
import CLua
import CLuaShim
import LLMCore
import LLMData

enum DataTokenizerBindings {
    static let functions: [LuaBinding] = [
        LuaBinding(
            "CharTokenizer", "llm.data.CharTokenizer(text: string, [{unk: int | string}]) -> CharTokenizer",
            "Character-level tokenizer whose vocabulary is the sorted characters of text; unk maps unknown ones."
        ) { a in
            let text = try DataLib.utf8String(a, 1, what: "CharTokenizer")
            let o = try a.options(2, allowed: ["unk"])
            var tok = try CharTokenizer(training: text)
            if o.has("unk") {
                let unk: Int
                if let id = try? o.integer("unk") {
                    unk = id
                } else {
                    let s = try o.string("unk") ?? ""
                    guard s.unicodeScalars.count == 1, let id = tok.vocabulary.firstIndex(of: s.unicodeScalars.first!) else {
                        throw LuaError.runtime("Invalid 'unk': expected an id or a character of the text, got '\(s)'")
                    }
                    unk = id
                }
                tok = try CharTokenizer(vocabulary: tok.vocabulary, unk: unk)
            }
            Userdata.push(a.L, tok, typeName: DataLib.charTokenizer)
            return 1
        },
        LuaBinding(
            "ByteTokenizer", "llm.data.ByteTokenizer() -> ByteTokenizer",
            "Byte-level tokenizer: 256 ids, one per UTF-8 byte."
        ) { a in
            _ = try a.options(1, allowed: [])
            Userdata.push(a.L, ByteTokenizer(), typeName: DataLib.byteTokenizer)
            return 1
        },
        LuaBinding(
            "tokenizerFromTable", "llm.data.tokenizerFromTable(t: table) -> CharTokenizer | ByteTokenizer | BPETokenizer",
            "Rebuilds a tokenizer from the table its :toTable() returned."
        ) { a in
            try a.table(1)
            let tok = try TokenizerCoding.decode(try readTable(a, lua_absindex(a.L, 1)))
            let name = tok is CharTokenizer ? DataLib.charTokenizer : tok is BPETokenizer ? BPELib.typeName : DataLib.byteTokenizer
            Userdata.push(a.L, tok, typeName: name)
            return 1
        }
    ]

    static let methods: [LuaBinding] = [
        LuaBinding("encode", "tok:encode(text: string) -> Tensor", "Token ids of text as a 1-D int64 tensor.") { a in
            let tok = try DataLib.tokenizer(a, 1)
            let t = try DataLib.withBytes(a, 2) { try tok.encode(utf8: $0) }
            a.push(t)
            return 1
        },
        LuaBinding("decode", "tok:decode(ids: Tensor | {int}) -> string", "The text of token ids (0-based).") { a in
            let tok = try DataLib.tokenizer(a, 1)
            // before decoding: the ids in Swift; before pushing: the text in Swift and in Lua
            let count = a.isTensor(2) ? try a.tensor(2).count : Int(lua_rawlen(a.L, 2))
            try a.reserve(native: LuaSize.total((count, 8)))
            let text: String
            if a.type(2) == LUA_TTABLE {
                text = try tok.decode(try idList(a, 2))
            } else if a.isTensor(2) {
                text = try tok.decode(try a.tensor(2))
            } else {
                throw LuaError.type(2, expected: "llm.Tensor or table")
            }
            try a.reserve(lua: LuaSize.string(text.utf8.count), native: text.utf8.count)
            DataLib.pushString(a.L, text)
            return 1
        },
        LuaBinding("vocabSize", "tok:vocabSize() -> int", "Number of token ids (ids are 0..vocabSize-1).") { a in
            a.push(try DataLib.tokenizer(a, 1).vocabSize)
            return 1
        },
        LuaBinding("toTable", "tok:toTable() -> table", "Plain Lua values describing the tokenizer (for checkpoints).") { a in
            pushValue(a.L, try DataLib.tokenizer(a, 1).toJSONObject())
            return 1
        }
    ]

    static let metamethods: [LuaBinding] = [
        LuaBinding("__tostring", "tostring(tok) -> string", "Tokenizer kind and vocabulary size.") { a in
            let tok = try DataLib.tokenizer(a, 1)
            a.push("llm.data.\(type(of: tok).typeName)(vocabSize=\(tok.vocabSize))")
            return 1
        }
    ]

    /// Integer ids from a Lua array.
    static func idList(_ a: LuaArgs, _ i: Int32) throws -> [Int] { try a.integerArray(i, what: "an integer id") }

    /// Pushes a JSON-compatible value (String, Int, Bool, arrays, string-keyed dictionaries).
    static func pushValue(_ L: OpaquePointer, _ v: any Sendable) {
        switch v {
        case let s as String: DataLib.pushString(L, s)
        case let i as Int: lua_pushinteger(L, lua_Integer(i))
        case let b as Bool: lua_pushboolean(L, b ? 1 : 0)
        case let list as [any Sendable]:
            lua_createtable(L, Int32(clamping: list.count), 0)
            for (k, item) in list.enumerated() { pushValue(L, item); lua_rawseti(L, -2, lua_Integer(k + 1)) }
        case let dict as [String: any Sendable]:
            lua_createtable(L, 0, Int32(clamping: dict.count))
            for (k, item) in dict { pushValue(L, item); lua_setfield(L, -2, k) }
        default: lua_pushnil(L)
        }
    }

    /// Reads a table of strings, integers, booleans and arrays of them (two levels) into a dictionary.
    static func readTable(_ a: LuaArgs, _ idx: Int32, depth: Int = 0) throws -> [String: any Sendable] {
        var out: [String: any Sendable] = [:]
        lua_pushnil(a.L)
        while lua_next(a.L, idx) != 0 {
            defer { llms_pop(a.L, 1) }
            guard lua_type(a.L, -2) == LUA_TSTRING, let k = llms_tostring(a.L, -2) else { continue }
            out[String(cString: k)] = try readValue(a, lua_absindex(a.L, -1), depth: depth)
        }
        return out
    }

    private static func readValue(_ a: LuaArgs, _ idx: Int32, depth: Int) throws -> (any Sendable)? {
        switch lua_type(a.L, idx) {
        case LUA_TSTRING: return try DataLib.withBytes(a, idx) { String(decoding: $0, as: UTF8.self) }
        case LUA_TBOOLEAN: return lua_toboolean(a.L, idx) != 0
        case LUA_TNUMBER:
            var ok: Int32 = 0
            let v = lua_tointegerx(a.L, idx, &ok)
            return ok != 0 ? Int(v) : lua_tonumberx(a.L, idx, nil)
        case LUA_TTABLE where depth < 2:
            let n = Int(lua_rawlen(a.L, idx))
            guard n > 0 else { return try readTable(a, idx, depth: depth + 1) }
            guard n <= 1 << 22 else { throw LuaError.runtime("tokenizerFromTable: list of \(n) entries is too long") }
            var list: [any Sendable] = []
            list.reserveCapacity(n)
            for k in 0..<n {
                lua_rawgeti(a.L, idx, lua_Integer(k + 1))
                defer { llms_pop(a.L, 1) }
                list.append(try readValue(a, lua_absindex(a.L, -1), depth: depth + 1) ?? false)
            }
            return list
        default: return nil
        }
    }
}
