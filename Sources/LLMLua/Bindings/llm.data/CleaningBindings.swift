// CleaningBindings: the `llm.data.clean` namespace: pure cleaning functions (text -> text) and the
// `clean.Cleaner{...}` stage constructor (see LLMData CleanStage). Text arguments must be strings; invalid
// UTF-8 is repaired (U+FFFD), never an error. Unknown option keys are errors listing the choices.
import CLua
import CLuaShim
import LLMData

enum CleaningLib: LuaLibrary {
    static let namespace = "llm.data.clean"

    static let cleanerKeys = [
        "normalize", "control", "whitespace", "keepNewlines", "html", "urls", "urlMask",
        "emoji", "symbols", "punctuation", "boilerplate", "navigation", "name"
    ]

    static let functions: [LuaBinding] = [
        fn("normalize", "clean.normalize(text, [form='NFC']) -> string", "Unicode normalization: 'NFC', 'NFKC', 'NFD' or 'NFKD'.") { a in
            let form = try parseForm(a.optString(2) ?? "NFC", what: "form")
            return TextClean.normalize(try text(a, 1), form: form)
        },
        fn(
            "removeControl", "clean.removeControl(text) -> string",
            "Removes control and invisible characters (Cc except \\n \\t, Cf: zero-width, BOM, bidi marks); \\r\\n -> \\n."
        ) { a in
            TextClean.removeControl(try text(a, 1))
        },
        fn(
            "collapseWhitespace", "clean.collapseWhitespace(text, [{keepNewlines=true}]) -> string",
            "Collapses space runs, trims lines, keeps at most one blank line (or joins everything with keepNewlines=false)."
        ) { a in
            let o = try a.options(2, allowed: ["keepNewlines"])
            return TextClean.collapseWhitespace(try text(a, 1), keepNewlines: try o.bool("keepNewlines") ?? true)
        },
        fn(
            "stripHTML", "clean.stripHTML(text) -> string",
            "Removes tags (a > inside a quoted attribute value stays in the tag), comments, doctype/CDATA, script/style bodies; block tags become line breaks; decodes entities (HTML5 tokenizer rules)."
        ) { a in
            TextClean.stripHTML(try text(a, 1))
        },
        fn(
            "decodeEntities", "clean.decodeEntities(text) -> string",
            "Decodes HTML character references as Python's html.unescape does: all HTML5 named ones (legacy ones also without ;) and &#NNN; / &#xHH;."
        ) { a in
            TextClean.decodeEntities(try text(a, 1))
        },
        fn("replaceURLs", "clean.replaceURLs(text, [mask='']) -> string", "Removes URLs (http(s)://, ftp://, www.) or replaces each by mask.") { a in
            TextClean.replaceURLs(try text(a, 1), with: try a.optString(2) ?? "")
        },
        fn(
            "removeEmoji", "clean.removeEmoji(text) -> string",
            "Removes emoji and pictographs by Unicode property, whole sequences (ZWJ, skin tones, flags, keycaps)."
        ) { a in
            TextClean.removeEmoji(try text(a, 1))
        },
        fn("removeSymbols", "clean.removeSymbols(text, symbols: string) -> string", "Removes every character listed in symbols.") { a in
            TextClean.removeSymbols(try text(a, 1), symbols: try text(a, 2))
        },
        fn(
            "squashPunctuation", "clean.squashPunctuation(text, [maxRepeat=1]) -> string",
            "Squashes runs of the same punctuation to maxRepeat copies ('...' survives)."
        ) { a in
            let m = try a.optInteger(2, 1)
            guard (1...100).contains(m) else { throw LuaError.argument(2, "Invalid 'maxRepeat': expected an integer in 1...100, got \(m)") }
            return TextClean.squashPunctuation(try text(a, 1), maxRepeat: m)
        },
        LuaBinding(
            "removeBoilerplate", "clean.removeBoilerplate(text, [{patterns={...}, navigation=true}]) -> string, removed",
            "Drops lines containing a pattern (case-insensitive; default cookie/rights/policy notices) and navigation-like lines."
        ) { a in
            let s = try text(a, 1)
            let o = try a.options(2, allowed: ["patterns", "navigation"])
            let pats = try stringListField(a, 2, "patterns") ?? TextClean.defaultBoilerplatePatterns
            let (t, n) = TextClean.removeBoilerplate(s, patterns: pats, navigation: try o.bool("navigation") ?? true)
            DataLib.pushString(a.L, t); a.push(n); return 2
        },
        fn("apply", "clean.apply(text, [options]) -> string", "Runs the cleaner with the options of clean.Cleaner on one text.") { a in
            let s = try text(a, 1)
            return TextCleaner(try cleanOptions(a, 2).0).clean(s)
        },
        LuaBinding(
            "Cleaner",
            "clean.Cleaner{[normalize='NFC'|'NFKC'|false], [control=true], [whitespace=true], [keepNewlines=true], [html=false], [urls='keep'|'remove'|'mask'], [urlMask='<URL>'], [emoji=false], [symbols=''], [punctuation=n|false], [boilerplate=false|true|{patterns}], [navigation=true], [name='clean']} -> Stage",
            "A cleaning stage; documents left empty are dropped ('clean: empty after cleaning')."
        ) { a in
            let (o, name) = try cleanOptions(a, 1)
            PipelineBindings.pushStage(a.L, CleanStage(o, name: name))
            return 1
        }
    ]

    /// A binding returning one string.
    static func fn(_ name: String, _ sig: String, _ doc: String, _ body: @escaping @Sendable (LuaArgs) throws -> String) -> LuaBinding {
        LuaBinding(name, sig, doc) { a in
            DataLib.pushString(a.L, try body(a)); return 1
        }
    }

    /// The string at `i` as text (invalid UTF-8 repaired); a type error for non-strings.
    static func text(_ a: LuaArgs, _ i: Int32) throws -> String {
        try DataLib.withBytes(a, i) {
            try DataLib.reserveText(a, bytes: $0.count); return String(decoding: $0, as: UTF8.self)
        }
    }

    static func parseForm(_ s: String, what: String) throws -> TextClean.Form {
        guard let f = TextClean.Form(rawValue: s.uppercased()) else {
            throw LuaError.runtime("Invalid '\(what)': expected one of 'NFC', 'NFKC', 'NFD', 'NFKD', got '\(s)'")
        }
        return f
    }

    /// Field `key` of the table at `i` as a list of strings, or nil when absent.
    static func stringListField(_ a: LuaArgs, _ i: Int32, _ key: String) throws -> [String]? {
        try a.withField(i, key) { t in
            guard t == LUA_TTABLE else { throw LuaError.runtime("Invalid '\(key)': expected a list of strings, got \(a.typeName(-1))") }
            do { return try DataLib.stringList(a, lua_gettop(a.L), limit: 100_000) } catch LuaError.argument(_, let m) { throw LuaError.runtime("Invalid '\(key)': \(m)") }
        }
    }

    /// Cleaner options from the table at `i` (nil: defaults) and the stage name.
    static func cleanOptions(_ a: LuaArgs, _ i: Int32) throws -> (CleanOptions, String) {
        let o = try a.options(i, allowed: cleanerKeys)
        var c = CleanOptions()
        if o.has("normalize") {
            if let s = try? o.string("normalize") {
                c.normalize = try parseForm(s, what: "normalize")
            } else if let b = try? o.bool("normalize") {
                c.normalize = b ? .nfc : nil
            } else {
                throw LuaError.runtime("Invalid 'normalize': expected one of 'NFC', 'NFKC', 'NFD', 'NFKD' or false")
            }
        }
        c.removeControl = try o.bool("control") ?? true
        c.collapseWhitespace = try o.bool("whitespace") ?? true
        c.keepNewlines = try o.bool("keepNewlines") ?? true
        c.stripHTML = try o.bool("html") ?? false
        let mask = try o.string("urlMask") ?? "<URL>"
        switch try o.string("urls") ?? "keep" {
        case "keep": c.urlReplacement = nil
        case "remove": c.urlReplacement = ""
        case "mask": c.urlReplacement = mask
        case let s: throw LuaError.runtime("Invalid 'urls': expected one of 'keep', 'remove', 'mask', got '\(s)'")
        }
        c.removeEmoji = try o.bool("emoji") ?? false
        c.symbols = try o.string("symbols") ?? ""
        if o.has("punctuation") {
            if let b = try? o.bool("punctuation") {
                c.maxPunctuationRepeat = b ? 1 : nil
            } else if let n = try? o.integer("punctuation"), (1...100).contains(n) {
                c.maxPunctuationRepeat = n
            } else {
                throw LuaError.runtime("Invalid 'punctuation': expected an integer in 1...100 or a boolean")
            }
        }
        if o.has("boilerplate") {
            if let b = try? o.bool("boilerplate") {
                c.boilerplatePatterns = b ? TextClean.defaultBoilerplatePatterns : nil
            } else {
                c.boilerplatePatterns = try stringListField(a, i, "boilerplate")
            }
        }
        c.navigationLines = try o.bool("navigation") ?? true
        return (c, try o.string("name") ?? "clean")
    }
}
