// FilterBindings: the `llm.data.filters` namespace. Each quality filter is both a check function
// (`filters.gopherQuality(text, opts) -> ok, reason`) and a stage constructor (`filters.GopherQuality(opts)`)
// taking the same options, so a recipe can test a rule on one text and then put it in a pipeline.
// Also `words` (the CJK-aware segmentation the filters use) and `scripts` (letter share per script).
import CLua
import CLuaShim
import LLMData

enum FilterLib: LuaLibrary {
    static let namespace = "llm.data.filters"
    typealias Check = @Sendable (String) -> String?

    /// name, option keys, parser (options at index -> check) for the keep/drop filters.
    static let filters: [(lua: String, ctor: String, keys: [String], doc: String, parse: @Sendable (LuaArgs, Int32, LuaOptions) throws -> Check)] = [
        (
            "gopherQuality", "GopherQuality",
            [
                "minWords", "maxWords", "minMeanWordLength", "maxMeanWordLength", "maxSymbolWordRatio",
                "maxBulletLinesRatio", "maxEllipsisLinesRatio", "minAlphaWordsRatio", "minStopWords", "stopWords"
            ],
            "Gopher quality heuristics (Rae et al. 2021; datatrove defaults).",
            { a, i, o in
                var f = GopherQuality()
                f.minWords = try o.integer("minWords") ?? f.minWords; f.maxWords = try o.integer("maxWords") ?? f.maxWords
                f.minMeanWordLength = try o.number("minMeanWordLength") ?? f.minMeanWordLength
                f.maxMeanWordLength = try o.number("maxMeanWordLength") ?? f.maxMeanWordLength
                f.maxSymbolWordRatio = try o.number("maxSymbolWordRatio") ?? f.maxSymbolWordRatio
                f.maxBulletLinesRatio = try o.number("maxBulletLinesRatio") ?? f.maxBulletLinesRatio
                f.maxEllipsisLinesRatio = try o.number("maxEllipsisLinesRatio") ?? f.maxEllipsisLinesRatio
                f.minAlphaWordsRatio = try o.number("minAlphaWordsRatio") ?? f.minAlphaWordsRatio
                f.minStopWords = try o.integer("minStopWords") ?? f.minStopWords
                if let s = try CleaningLib.stringListField(a, i, "stopWords") { f.stopWords = Set(s.map { $0.lowercased() }) }
                return f.check
            }
        ),
        (
            "gopherRepetition", "GopherRepetition", ["dupLineFrac", "dupParaFrac", "dupLineCharFrac", "dupParaCharFrac", "topNGrams", "dupNGrams"],
            "Gopher repetition heuristics: duplicate lines/paragraphs, top and duplicated n-gram char fractions.",
            { a, i, o in
                var f = GopherRepetition()
                f.dupLineFrac = try o.number("dupLineFrac") ?? f.dupLineFrac; f.dupParaFrac = try o.number("dupParaFrac") ?? f.dupParaFrac
                f.dupLineCharFrac = try o.number("dupLineCharFrac") ?? f.dupLineCharFrac
                f.dupParaCharFrac = try o.number("dupParaCharFrac") ?? f.dupParaCharFrac
                if let t = try nGramTable(a, i, "topNGrams") { f.topNGrams = t }
                if let t = try nGramTable(a, i, "dupNGrams") { f.dupNGrams = t }
                return f.check
            }
        ),
        (
            "length", "Length", ["minChars", "maxChars", "minWords", "maxWords"], "Length bounds in characters and words (CJK characters are words).",
            { _, _, o in
                var f = LengthFilter()
                f.minChars = try o.integer("minChars") ?? 0; f.maxChars = try o.integer("maxChars") ?? Int.max
                f.minWords = try o.integer("minWords") ?? 0; f.maxWords = try o.integer("maxWords") ?? Int.max
                return f.check
            }
        ),
        (
            "script", "Script", ["allowed", "minFraction", "minLetters"],
            "Keeps documents whose letters are mostly in the allowed scripts (latin, cjk, cyrillic, greek, arabic, hebrew, devanagari, thai, other).",
            { a, i, o in
                var f = ScriptFilter()
                if let list = try CleaningLib.stringListField(a, i, "allowed") {
                    f.allowed = try Set(
                        list.map { s in
                            guard let sc = Script(rawValue: s) else {
                                throw LuaError.runtime(
                                    "Invalid 'allowed': unknown script '\(s)'; expected one of: " + Script.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "))
                            }
                            return sc
                        })
                }
                f.minFraction = try o.number("minFraction") ?? f.minFraction
                f.minLetters = try o.integer("minLetters") ?? f.minLetters
                return f.check
            }
        ),
        (
            "badWords", "BadWords", ["words", "maxHits"], "Drops documents with more than maxHits listed words (whole words; CJK entries as substrings).",
            { a, i, o in
                guard let words = try CleaningLib.stringListField(a, i, "words") else { throw LuaError.runtime("Invalid 'words': expected a list of strings, got nil") }
                return BadWordsFilter(words: words, maxHits: try o.integer("maxHits") ?? 0).check
            }
        )
    ]

    static let functions: [LuaBinding] =
        filters.flatMap { f -> [LuaBinding] in
            [
                LuaBinding(f.lua, "filters.\(f.lua)(text, [options]) -> ok: boolean, reason: string?", f.doc) { a in
                    let s = try CleaningLib.text(a, 1)
                    let check = try f.parse(a, 2, try a.options(2, allowed: f.keys))
                    if let r = check(s) { a.push(false); DataLib.pushString(a.L, r) } else { a.push(true); a.pushNil() }
                    return 2
                },
                LuaBinding(f.ctor, "filters.\(f.ctor){options..., [name='\(f.lua)']} -> Stage", f.doc + " As a pipeline stage.") { a in
                    let check = try f.parse(a, 1, try a.options(1, allowed: f.keys + ["name"]))
                    let name = try a.options(1, allowed: f.keys + ["name"]).string("name") ?? f.lua
                    PipelineBindings.pushStage(a.L, FilterStage(name: name, check))
                    return 1
                }
            ]
        } + [
            LuaBinding(
                "c4", "filters.c4(text, [options]) -> text | nil, reason",
                "C4 rules (Raffel et al. 2020): keeps lines with terminal punctuation and enough words; drops the document for lorem ipsum, '{', too few sentences."
            ) { a in
                let s = try CleaningLib.text(a, 1)
                switch try c4(a, 2).0.apply(s) {
                case .success(let t): DataLib.pushString(a.L, t); return 1
                case .failure(let e): a.pushNil(); DataLib.pushString(a.L, e.description); return 2
                }
            },
            LuaBinding(
                "C4",
                "filters.C4{[minSentences=3], [minWordsPerLine=3], [maxWordLength=1000], [citations=true], [terminalPunct=true], [loremIpsum=true], [javascript=true], [curlyBracket=true], [policy=true], [name='c4']} -> Stage",
                "The C4 rules as a stage (keeps the surviving lines)."
            ) { a in
                let (f, name) = try c4(a, 1)
                PipelineBindings.pushStage(a.L, C4Stage(f, name: name))
                return 1
            },
            LuaBinding("words", "filters.words(text) -> {string...}", "The filters' word segmentation: whitespace-separated words; each CJK character is a word.") { a in
                let text = try CleaningLib.text(a, 1)
                try a.reserve(native: LuaSize.total((text.utf8.count / 2 + 1, 24)))  // the word ranges, before splitting
                let w = WordSplit(text)
                try TextLib.pushStrings(a, w.words.map { w.string($0) })
                return 1
            },
            LuaBinding("scripts", "filters.scripts(text) -> {script = fraction}", "Share of letters per script (latin, cjk, cyrillic, ...).") { a in
                let p = ScriptFilter.proportions(try CleaningLib.text(a, 1))
                lua_createtable(a.L, 0, Int32(p.count))
                for (k, v) in p { lua_pushnumber(a.L, v); lua_setfield(a.L, -2, k.rawValue) }
                return 1
            }
        ]

    static func c4(_ a: LuaArgs, _ i: Int32) throws -> (C4Filter, String) {
        let o = try a.options(
            i,
            allowed: [
                "minSentences", "minWordsPerLine", "maxWordLength", "citations", "terminalPunct",
                "loremIpsum", "javascript", "curlyBracket", "policy", "name"
            ])
        var f = C4Filter()
        f.minSentences = try o.integer("minSentences") ?? f.minSentences
        f.minWordsPerLine = try o.integer("minWordsPerLine") ?? f.minWordsPerLine
        f.maxWordLength = try o.integer("maxWordLength") ?? f.maxWordLength
        f.removeCitations = try o.bool("citations") ?? true
        f.filterNoTerminalPunct = try o.bool("terminalPunct") ?? true
        f.filterLoremIpsum = try o.bool("loremIpsum") ?? true
        f.filterJavascript = try o.bool("javascript") ?? true
        f.filterCurlyBracket = try o.bool("curlyBracket") ?? true
        f.filterPolicy = try o.bool("policy") ?? true
        return (f, try o.string("name") ?? "c4")
    }

    /// A table {[n] = fraction, ...} at field `key` as sorted (n, frac) pairs (n in 1...50, frac in 0...1).
    static func nGramTable(_ a: LuaArgs, _ i: Int32, _ key: String) throws -> [(n: Int, frac: Double)]? {
        let L = a.L
        let bad = "Invalid '\(key)': expected a table {[n] = fraction} with n in 1...50 and fractions in 0...1"
        return try a.withField(i, key) { t in
            guard t == LUA_TTABLE else { throw LuaError.runtime(bad) }
            var out: [(n: Int, frac: Double)] = []
            lua_pushnil(L)
            while lua_next(L, -2) != 0 {
                var ok: Int32 = 0, okv: Int32 = 0
                let n = lua_tointegerx(L, -2, &ok), v = lua_tonumberx(L, -1, &okv)
                llms_pop(L, 1)
                guard lua_type(L, -1) == LUA_TNUMBER, ok != 0, okv != 0, (1...50).contains(n), v >= 0, v <= 1 else { llms_pop(L, 1); throw LuaError.runtime(bad) }
                out.append((Int(n), v))
            }
            return out.sorted { $0.n < $1.n }
        }
    }
}
