// DataLib: the `llm.data` namespace (corpus reading, tokenizers, splits, batches; see LLMData) and its
// userdata types llm.data.CharTokenizer, llm.data.ByteTokenizer, llm.data.Batcher and llm.data.EvalWindows, each with a
// methods table as __index plus __tostring. DataError becomes a plain Lua error with its own message;
// every argument is checked here, so nothing reachable from Lua traps.
import CLua
import CLuaShim
import LLMCore
import LLMData

enum DataLib: LuaLibrary {
    static let namespace = "llm.data"
    static let functions: [LuaBinding] =
        DataCorpusBindings.functions + DataTokenizerBindings.functions
        + DataBatchBindings.functions

    static let charTokenizer = "llm.data.CharTokenizer"
    static let byteTokenizer = "llm.data.ByteTokenizer"
    static let batcher = "llm.data.Batcher"
    static let evalWindows = "llm.data.EvalWindows"

    static let classes = [
        LuaClass(charTokenizer, methods: DataTokenizerBindings.methods, metamethods: DataTokenizerBindings.metamethods),
        LuaClass(byteTokenizer, methods: DataTokenizerBindings.methods, metamethods: DataTokenizerBindings.metamethods),
        LuaClass(batcher, methods: DataBatchBindings.batcherMethods, metamethods: DataBatchBindings.batcherMeta),
        LuaClass(evalWindows, methods: DataBatchBindings.windowMethods, metamethods: DataBatchBindings.windowMeta)
    ]

    /// The object of type `name` at `i`, or a type error.
    static func object(_ a: LuaArgs, _ i: Int32, _ name: String) throws -> AnyObject {
        let mt = LuaContext.of(a.L).metatables[name]
        guard let o = try Userdata.object(a.L, i, typeName: name, mt: mt) else { throw LuaError.type(i, expected: name) }
        return o
    }

    /// The tokenizer (char or byte) at `i`, or a type error.
    static func tokenizer(_ a: LuaArgs, _ i: Int32) throws -> any Tokenizer {
        let ctx = LuaContext.of(a.L)
        for name in [charTokenizer, byteTokenizer, BPELib.typeName] {
            if let t = try Userdata.object(a.L, i, typeName: name, mt: ctx.metatables[name]) as? any Tokenizer { return t }
        }
        throw LuaError.type(i, expected: "llm.data.CharTokenizer, llm.data.ByteTokenizer or llm.data.BPETokenizer")
    }

    /// Calls `body` with the bytes of the Lua string at `i` (valid during the call; may hold any bytes).
    static func withBytes<R>(_ a: LuaArgs, _ i: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) throws -> R {
        guard a.type(i) == LUA_TSTRING else { throw LuaError.type(i, expected: "string") }
        var len = 0
        guard let p = lua_tolstring(a.L, i, &len) else { throw LuaError.type(i, expected: "string") }
        return try body(UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: len))
    }

    /// Checks that transforming a string of `n` bytes fits the memory budget, and holds it until the call
    /// returns: the Swift copy, one transformed copy and the result in Swift, the result as a Lua string.
    static func reserveText(_ a: LuaArgs, bytes n: Int) throws {
        try a.reserve(lua: LuaSize.string(n), native: LuaSize.total((n, 3)))
    }

    /// The Lua string at `i` as text (its Swift copy held against the memory budget); an error naming
    /// `what` when it is not valid UTF-8.
    static func utf8String(_ a: LuaArgs, _ i: Int32, what: String) throws -> String {
        try withBytes(a, i) { buf in
            try a.reserve(native: buf.count)
            guard let s = String(validating: buf, as: UTF8.self) else {
                throw LuaError.argument(i, "\(what): the text is not valid UTF-8")
            }
            return s
        }
    }

    /// Pushes `s` with its length (no C-string round trip).
    static func pushString(_ L: OpaquePointer, _ s: String) {
        var s = s
        s.withUTF8 { buf in _ = lua_pushlstring(L, buf.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, buf.count) }
    }

    /// A list of strings at `i` (a table), at most `limit` entries.
    static func stringList(_ a: LuaArgs, _ i: Int32, limit: Int = 1 << 20) throws -> [String] {
        try a.table(i)
        let n = Int(lua_rawlen(a.L, i))
        guard n <= limit else { throw LuaError.argument(i, "too many entries (\(n)); at most \(limit)") }
        var out: [String] = []
        out.reserveCapacity(n)
        for k in 0..<n {
            lua_rawgeti(a.L, i, lua_Integer(k + 1))
            defer { llms_pop(a.L, 1) }
            guard lua_type(a.L, -1) == LUA_TSTRING, let s = llms_tostring(a.L, -1) else {
                throw LuaError.argument(i, "entry \(k + 1) must be a string, got \(a.typeName(-1))")
            }
            out.append(String(cString: s))
        }
        return out
    }
}
