// Completion: Tab completion for the REPL. `Completer` finds the candidates for a word such as `pri`,
// `llm.ze` or `t:ma` by walking tables with raw, non-raising Lua API calls only (lua_rawget, lua_next,
// lua_getmetatable): no metamethod runs, nothing can raise through a Swift frame. Methods of userdata
// (tensors) come from the table named by their metatable's __name (`llm.Tensor`) or from a table __index.
// `Completion` installs it as libedit's completion generator.
import CEdit
import CLua
import CLuaShim
import LLMLua
#if canImport(Glibc)
    import Glibc
#endif

/// Candidate lookup against the live state of a VM.
struct Completer {
    let vm: LuaVM
    /// Upper bound on keys scanned per table (keeps Tab instant on huge tables).
    static let maxKeys = 20_000
    static let keywords = [
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto",
        "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true",
        "until", "while"
    ]

    /// Full replacements for `word` (sorted, unique): `llm.ze` -> [`llm.zeros`].
    func candidates(for word: String) -> [String] {
        let L = vm.L
        guard lua_checkstack(L, 16) != 0 else { return [] }
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }

        let sepIndex = word.lastIndex(where: { $0 == "." || $0 == ":" })
        let partial: String, prefix: String, path: [String], isMethod: Bool
        if let s = sepIndex {
            partial = String(word[word.index(after: s)...])
            prefix = String(word[...s])
            path = word[..<s].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            isMethod = word[s] == ":"
            // `a:b.c` or `a..b` are not paths we can complete.
            guard path.allSatisfy(Completer.isIdentifier) else { return [] }
        } else {
            partial = word; prefix = ""; path = []; isMethod = false
        }

        llms_pushglobaltable(L)
        for name in path {
            // current value on top; replace it by its field `name`
            guard pushField(name) else { return [] }
        }
        var names = Set<String>()
        collectKeys(into: &names, partial: partial, functionsOnly: isMethod)
        if path.isEmpty {
            for k in Completer.keywords where k.hasPrefix(partial) { names.insert(k) }
        }
        return names.sorted().map { prefix + $0 }
    }

    /// Replaces the value on top of the stack by its field `name` (raw table access, then the
    /// metatable's method table). Returns false (stack unchanged) when there is no such field.
    private func pushField(_ name: String) -> Bool {
        let L = vm.L
        var tables: [Int32] = []  // absolute indices of the tables to search
        let v = lua_gettop(L)
        if lua_type(L, v) == LUA_TTABLE { tables.append(v) }
        if pushMethodTable(of: v) { tables.append(lua_gettop(L)) }
        for t in tables {
            lua_pushstring(L, name)
            if lua_rawget(L, t) != LUA_TNIL {
                lua_copy(L, -1, v)
                lua_settop(L, v)
                return true
            }
            llms_pop(L, 1)
        }
        lua_settop(L, v)
        return false
    }

    /// For a value with a metatable, pushes the table its methods live in: `__index` when it is a table,
    /// else the global table named by `__name` (`llm.Tensor`). Returns false (nothing pushed) otherwise.
    private func pushMethodTable(of idx: Int32) -> Bool {
        let L = vm.L
        guard lua_getmetatable(L, idx) != 0 else { return false }
        let mt = lua_gettop(L)
        lua_pushstring(L, "__index")
        if lua_rawget(L, mt) == LUA_TTABLE {
            lua_copy(L, -1, mt); lua_settop(L, mt)
            return true
        }
        llms_pop(L, 1)
        lua_pushstring(L, "__name")
        guard lua_rawget(L, mt) == LUA_TSTRING, let cname = llms_tostring(L, -1) else { lua_settop(L, mt - 1); return false }
        let typeName = String(cString: cname)
        lua_settop(L, mt - 1)
        // resolve the dotted name from the globals
        llms_pushglobaltable(L)
        for part in typeName.split(separator: ".") {
            guard lua_type(L, -1) == LUA_TTABLE else { llms_pop(L, 1); return false }
            lua_pushstring(L, String(part))
            _ = lua_rawget(L, -2)
            llms_remove(L, -2)
        }
        guard lua_type(L, -1) == LUA_TTABLE else { llms_pop(L, 1); return false }
        return true
    }

    /// Adds the identifier keys starting with `partial` of the value on top (a table and/or its
    /// method table, following table __index chains a few levels).
    private func collectKeys(into names: inout Set<String>, partial: String, functionsOnly: Bool) {
        let L = vm.L
        let v = lua_gettop(L)
        if lua_type(L, v) == LUA_TTABLE { scan(v, into: &names, partial: partial, functionsOnly: functionsOnly) }
        var depth = 0
        lua_pushvalue(L, v)
        while depth < 4, pushMethodTable(of: lua_gettop(L)) {
            scan(lua_gettop(L), into: &names, partial: partial, functionsOnly: functionsOnly)
            depth += 1
        }
        lua_settop(L, v)
    }

    private func scan(_ t: Int32, into names: inout Set<String>, partial: String, functionsOnly: Bool) {
        let L = vm.L
        let showPrivate = partial.hasPrefix("_")
        var seen = 0
        lua_pushnil(L)
        while lua_next(L, t) != 0 {  // key at -2, value at -1; keys are never modified here
            seen += 1
            if lua_type(L, -2) == LUA_TSTRING, let k = llms_tostring(L, -2),
                !functionsOnly || lua_type(L, -1) == LUA_TFUNCTION
            {
                let key = String(cString: k)
                if key.hasPrefix(partial), showPrivate || !key.hasPrefix("_"), Completer.isIdentifier(key) {
                    names.insert(key)
                }
            }
            llms_pop(L, 1)
            if seen >= Completer.maxKeys { llms_pop(L, 1); break }
        }
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, first == UInt8(ascii: "_") || isalpha(Int32(first)) != 0 else { return false }
        return s.utf8.allSatisfy { $0 == UInt8(ascii: "_") || isalnum(Int32($0)) != 0 } && !keywords.contains(s)
    }
}

/// libedit glue: a C completion generator backed by a Swift closure. Single-threaded by construction
/// (libedit calls it from readline on the main thread).
enum Completion {
    nonisolated(unsafe) private static var completer: ((String) -> [String])? = nil
    nonisolated(unsafe) private static var pending: [String] = []
    nonisolated(unsafe) private static var next = 0

    /// Characters that end a completable word; `.` and `:` are not among them so `llm.ze` is one word.
    nonisolated(unsafe) private static let wordBreaks = strdup(" \t\n\"\\'`@$><=;|&{(}),[]+-*/%^~#")
    nonisolated(unsafe) private static let programName = strdup("llmscript")

    static func install(_ fn: @escaping (String) -> [String]) {
        completer = fn
        llms_edit_configure({ text, state in Completion.generate(text, state) }, wordBreaks, programName)
    }

    /// readline's generator protocol: state 0 starts a new completion; return malloc'd strings, then nil.
    private static func generate(_ text: UnsafePointer<CChar>?, _ state: Int32) -> UnsafeMutablePointer<CChar>? {
        if state == 0 {
            pending = text.map { completer?(String(cString: $0)) ?? [] } ?? []
            next = 0
        }
        guard next < pending.count else { return nil }
        next += 1
        return strdup(pending[next - 1])
    }
}
