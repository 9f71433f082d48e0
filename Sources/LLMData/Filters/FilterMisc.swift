// FilterMisc: length bounds (characters, words), the script filter (share of letters per script: Latin,
// CJK = Han/Hiragana/Katakana/Hangul, Cyrillic, Greek, Arabic, ...), and the bad-words list filter
// (whole-word, case-insensitive for space-separated scripts; substring match for CJK entries, as C4's
// zh/ja/th lists). Each `check` returns nil to keep or a reason naming the rule and its value.

/// Length bounds in characters (Unicode scalars) and words (CJK characters count as words).
public struct LengthFilter: Sendable {
    public var minChars = 0, maxChars = Int.max, minWords = 0, maxWords = Int.max
    public init() {}

    public func check(_ text: String) -> String? {
        let c = text.unicodeScalars.count
        if c < minChars { return "length: \(c) chars < \(minChars)" }
        if c > maxChars { return "length: \(c) chars > \(maxChars)" }
        if minWords > 0 || maxWords < Int.max {
            let w = WordSplit(text).words.count
            if w < minWords { return "length: \(w) words < \(minWords)" }
            if w > maxWords { return "length: \(w) words > \(maxWords)" }
        }
        return nil
    }
}

/// Script proportions and the script filter.
public struct ScriptFilter: Sendable {
    /// Scripts whose letters count as "in language".
    public var allowed: Set<Script> = [.latin]
    /// Minimum share of letters in the allowed scripts.
    public var minFraction = 0.5
    /// Documents with fewer letters than this pass unchecked (too short to judge).
    public var minLetters = 1
    public init() {}

    /// Fraction of letters per script (scripts without letters are absent); empty for letterless text.
    ///
    /// ```swift
    /// ScriptFilter.proportions("abc 中文")   // [.latin: 0.6, .cjk: 0.4]
    /// ```
    public static func proportions(_ text: String) -> [Script: Double] {
        let (counts, total) = counts(text)
        guard total > 0 else { return [:] }
        var out: [Script: Double] = [:]
        for (k, c) in counts.enumerated() where c > 0 { out[Script.allCases[k]] = Double(c) / Double(total) }
        return out
    }

    static func counts(_ text: String) -> ([Int], Int) {
        var counts = [Int](repeating: 0, count: Script.allCases.count)
        var total = 0
        let index = Dictionary(uniqueKeysWithValues: Script.allCases.enumerated().map { ($1, $0) })
        for c in text.unicodeScalars {
            if let s = Scalars.script(c) { counts[index[s]!] += 1; total += 1 }
        }
        return (counts, total)
    }

    /// Nil when the allowed scripts hold at least `minFraction` of the letters; otherwise
    /// `script: latin+cjk 0.12 < 0.5 (mostly cyrillic 0.85)`.
    public func check(_ text: String) -> String? {
        let (counts, total) = Self.counts(text)
        guard total >= minLetters, total > 0 else { return nil }
        var inAllowed = 0, top = 0
        for (k, s) in Script.allCases.enumerated() {
            if allowed.contains(s) { inAllowed += counts[k] }
            if counts[k] > counts[top] { top = k }
        }
        let f = Double(inAllowed) / Double(total)
        if f >= minFraction { return nil }
        let names = Script.allCases.filter { allowed.contains($0) }.map(\.rawValue).joined(separator: "+")
        return "script: \(names) \(fmt(f)) < \(fmt(minFraction)) (mostly \(Script.allCases[top].rawValue) \(fmt(Double(counts[top]) / Double(total))))"
    }
}

/// Bad-words list filter: counts listed words (whole words, case-insensitive) and CJK entries (substrings).
public struct BadWordsFilter: Sendable {
    let wordHashes: Set<UInt64>
    let cjkEntries: [String]
    /// Words of more than one token (`"two words"`) are matched as substrings of the lowercased text.
    let phrases: [String]
    /// Documents with more hits than this are dropped (default 0: any hit drops).
    public var maxHits = 0

    public init(words: [String], maxHits: Int = 0) {
        var hashes = Set<UInt64>(), cjk: [String] = [], phrases: [String] = []
        for w in words.map({ $0.lowercased() }) where !w.isEmpty {
            if w.unicodeScalars.contains(where: { Scalars.isCJK($0.value) }) {
                cjk.append(w)
            } else if w.unicodeScalars.contains(where: { Scalars.isSpace($0) }) {
                phrases.append(w)
            } else {
                let s = WordSplit(w); hashes.insert(s.hash(0..<s.scalars.count, folding: true))
            }
        }
        wordHashes = hashes; cjkEntries = cjk; self.phrases = phrases; self.maxHits = maxHits
    }

    /// Number of listed words found in `text`.
    public func hits(_ text: String) -> Int {
        var n = 0
        if !wordHashes.isEmpty {
            let w = WordSplit(text)
            for r in w.words {
                // strip surrounding punctuation ("word," "(word)")
                var lo = r.lowerBound, hi = r.upperBound
                while lo < hi, Scalars.isPunctuation(w.scalars[lo]) { lo += 1 }
                while hi > lo, Scalars.isPunctuation(w.scalars[hi - 1]) { hi -= 1 }
                if hi > lo, wordHashes.contains(w.hash(lo..<hi, folding: true)) { n += 1 }
            }
        }
        if !cjkEntries.isEmpty || !phrases.isEmpty {
            let lower = text.lowercased()
            for e in cjkEntries + phrases { n += lower.occurrences(of: e) }
        }
        return n
    }

    public func check(_ text: String) -> String? {
        let h = hits(text)
        return h > maxHits ? "bad_words: \(h) hits > \(maxHits)" : nil
    }
}

extension String {
    /// Non-overlapping occurrences of `needle`.
    func occurrences(of needle: String) -> Int {
        guard !needle.isEmpty else { return 0 }
        var n = 0
        var rest = self[...]
        while let r = rest.firstRange(of: needle) { n += 1; rest = rest[r.upperBound...] }
        return n
    }
}
