// FilterGopher: the Gopher quality and repetition heuristics (Rae et al. 2021, "Scaling Language Models:
// Methods, Analysis & Insights from Training Gopher", Table A1 / App. A.1.1), with the defaults of
// datatrove's GopherQualityFilter and GopherRepetitionFilter. `check` returns nil to keep, or a reason
// naming the failed heuristic and its value (`gopher_quality: mean word length 2.1 < 3`).
// CJK: each CJK character is a word (see WordSplit); the mean word length bound applies to non-CJK words
// only, and the default stop words include common Chinese function characters.

/// Gopher quality filter (Rae et al. 2021, Table A1; datatrove `GopherQualityFilter` defaults).
public struct GopherQuality: Sendable {
    public var minWords = 50, maxWords = 100_000
    public var minMeanWordLength = 3.0, maxMeanWordLength = 10.0
    /// Maximum ratio of `#` (and, separately, of `...`/`…`) to words.
    public var maxSymbolWordRatio = 0.1
    public var maxBulletLinesRatio = 0.9
    public var maxEllipsisLinesRatio = 0.3
    /// Minimum fraction of words that contain an alphabetic character.
    public var minAlphaWordsRatio = 0.8
    public var minStopWords = 2
    /// Stop words (lowercase). Gopher's English list plus Chinese function characters.
    public var stopWords: Set<String> = [
        "the", "be", "to", "of", "and", "that", "have", "with",
        "的", "了", "是", "在", "和", "有", "我", "不", "这", "也"
    ]
    public init() {}

    /// Nil when `text` passes; otherwise `gopher_quality: <heuristic> <value> <op> <bound>`.
    public func check(_ text: String) -> String? {
        let w = WordSplit(text)
        let n = w.words.count
        var nonSymbol = 0, latinChars = 0, latinWords = 0, alphaWords = 0, stop = 0
        let stopHashes = Set(
            stopWords.map { s in
                let x = WordSplit(s); return x.hash(0..<x.scalars.count, folding: true)
            })
        for r in w.words {
            if !w.isSymbolWord(r) {
                nonSymbol += 1
                if !w.isCJK(r) { latinWords += 1; latinChars += r.count }
            }
            if w.hasAlpha(r) { alphaWords += 1 }
            if minStopWords > 0, r.count <= 8, stopHashes.contains(w.hash(r, folding: true)) { stop += 1 }
        }
        if nonSymbol < minWords { return "gopher_quality: word count \(nonSymbol) < \(minWords)" }
        if nonSymbol > maxWords { return "gopher_quality: word count \(nonSymbol) > \(maxWords)" }
        if latinWords > 0 {
            let mean = Double(latinChars) / Double(latinWords)
            if mean < minMeanWordLength { return "gopher_quality: mean word length \(fmt(mean)) < \(fmt(minMeanWordLength))" }
            if mean > maxMeanWordLength { return "gopher_quality: mean word length \(fmt(mean)) > \(fmt(maxMeanWordLength))" }
        }
        var hashes = 0, ellipses = 0
        let s = w.scalars
        for (i, c) in s.enumerated() {
            if c == "#" {
                hashes += 1
            } else if c == "…" {
                ellipses += 1
            } else if c == ".", i + 2 < s.count, s[i + 1] == ".", s[i + 2] == ".", i == 0 || s[i - 1] != "." {
                ellipses += 1
            }
        }
        let hashRatio = Double(hashes) / Double(n), ellRatio = Double(ellipses) / Double(n)
        if hashRatio > maxSymbolWordRatio { return "gopher_quality: hash/word ratio \(fmt(hashRatio)) > \(fmt(maxSymbolWordRatio))" }
        if ellRatio > maxSymbolWordRatio { return "gopher_quality: ellipsis/word ratio \(fmt(ellRatio)) > \(fmt(maxSymbolWordRatio))" }
        var lines = 0, bullets = 0, ellLines = 0
        var start = 0
        while start <= s.count {
            var end = start
            while end < s.count && s[end] != "\n" { end += 1 }
            lines += 1
            var a = start, b = end
            while a < b && Scalars.isSpace(s[a]) { a += 1 }
            while b > a && Scalars.isSpace(s[b - 1]) { b -= 1 }
            if a < b {
                let f = s[a]
                if f == "•" || f == "-" || f == "*" || f == "·" || f == "‣" || f == "●" { bullets += 1 }
                if s[b - 1] == "…" || (b - a >= 3 && s[b - 1] == "." && s[b - 2] == "." && s[b - 3] == ".") { ellLines += 1 }
            }
            start = end + 1
        }
        let bulletRatio = Double(bullets) / Double(max(1, lines)), ellLineRatio = Double(ellLines) / Double(max(1, lines))
        if bulletRatio > maxBulletLinesRatio { return "gopher_quality: bullet lines ratio \(fmt(bulletRatio)) > \(fmt(maxBulletLinesRatio))" }
        if ellLineRatio > maxEllipsisLinesRatio { return "gopher_quality: ellipsis lines ratio \(fmt(ellLineRatio)) > \(fmt(maxEllipsisLinesRatio))" }
        let alphaRatio = Double(alphaWords) / Double(n)
        if alphaRatio < minAlphaWordsRatio { return "gopher_quality: alphabetic words ratio \(fmt(alphaRatio)) < \(fmt(minAlphaWordsRatio))" }
        if stop < minStopWords { return "gopher_quality: stop words \(stop) < \(minStopWords)" }
        return nil
    }
}

/// Gopher repetition filter (Rae et al. 2021, Table A1; datatrove `GopherRepetitionFilter` defaults):
/// duplicate line/paragraph fractions (by count and by characters), the character fraction of the most
/// frequent 2-, 3-, 4-gram, and the character fraction covered by duplicated 5- to 10-grams.
public struct GopherRepetition: Sendable {
    public var dupLineFrac = 0.3, dupParaFrac = 0.3, dupLineCharFrac = 0.2, dupParaCharFrac = 0.2
    public var topNGrams: [(n: Int, frac: Double)] = [(2, 0.20), (3, 0.18), (4, 0.16)]
    public var dupNGrams: [(n: Int, frac: Double)] = [(5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)]
    public init() {}

    /// Nil when `text` passes; otherwise `gopher_repetition: <heuristic> <value> > <bound>`.
    public func check(_ text: String) -> String? {
        let w = WordSplit(text)
        let s = w.scalars
        let total = Double(max(1, s.count))
        // paragraphs: the trimmed text split at runs of two or more line breaks (datatrove: \n{2,})
        var lo = 0, hi = s.count
        while lo < hi && (Scalars.isSpace(s[lo]) || s[lo] == "\n") { lo += 1 }
        while hi > lo && (Scalars.isSpace(s[hi - 1]) || s[hi - 1] == "\n") { hi -= 1 }
        var paras: [Range<Int>] = [], lines: [Range<Int>] = []
        var i = lo, pStart = lo, lStart = 0
        while i < hi {
            if s[i] == "\n" {
                var j = i
                while j < hi && s[j] == "\n" { j += 1 }
                if j - i >= 2 { paras.append(pStart..<i); pStart = j }
                i = j
            } else {
                i += 1
            }
        }
        paras.append(pStart..<hi)
        // lines: the text split at runs of line breaks (datatrove: re.split(r"\n+", text))
        i = 0
        while i < s.count {
            if s[i] == "\n" {
                lines.append(lStart..<i)
                while i < s.count && s[i] == "\n" { i += 1 }
                lStart = i
            } else {
                i += 1
            }
        }
        lines.append(lStart..<s.count)
        let (pDup, pChars) = Self.duplicates(w, paras)
        if Double(pDup) / Double(max(1, paras.count)) > dupParaFrac {
            return "gopher_repetition: duplicate paragraph fraction \(fmt(Double(pDup) / Double(paras.count))) > \(fmt(dupParaFrac))"
        }
        if Double(pChars) / total > dupParaCharFrac { return "gopher_repetition: duplicate paragraph char fraction \(fmt(Double(pChars) / total)) > \(fmt(dupParaCharFrac))" }
        let (lDup, lChars) = Self.duplicates(w, lines)
        if Double(lDup) / Double(max(1, lines.count)) > dupLineFrac {
            return "gopher_repetition: duplicate line fraction \(fmt(Double(lDup) / Double(lines.count))) > \(fmt(dupLineFrac))"
        }
        if Double(lChars) / total > dupLineCharFrac { return "gopher_repetition: duplicate line char fraction \(fmt(Double(lChars) / total)) > \(fmt(dupLineCharFrac))" }
        let hashes = w.words.map { w.hash($0) }
        let lens = w.words.map(\.count)
        var table = NGramCounter(capacity: hashes.count)
        for (n, frac) in topNGrams where hashes.count >= n {
            // Most frequent n-gram (counted only when it repeats), its length with n-1 joining spaces.
            table.reset()
            var best = 0
            for i in 0...(hashes.count - n) {
                var h: UInt64 = UInt64(n), len = n - 1
                for k in i..<(i + n) { h = (h ^ hashes[k]) &* 0x9E37_79B9_7F4A_7C15; len += lens[k] }
                let c = table.increment(h)
                if c > 1 { best = max(best, c * len) }
            }
            let f = Double(best) / total
            if f > frac { return "gopher_repetition: top \(n)-gram char fraction \(fmt(f)) > \(fmt(frac))" }
        }
        for (n, frac) in dupNGrams where hashes.count >= n {
            // datatrove find_all_duplicate: skip past a repeated n-gram so its characters count once.
            table.reset()
            var repeated = 0, i = 0
            while i <= hashes.count - n {
                var h: UInt64 = UInt64(n), len = 0
                for k in i..<(i + n) { h = (h ^ hashes[k]) &* 0x9E37_79B9_7F4A_7C15; len += lens[k] }
                if table.increment(h) > 1 { repeated += len; i += n } else { i += 1 }
            }
            let f = Double(repeated) / total
            if f > frac { return "gopher_repetition: duplicate \(n)-gram char fraction \(fmt(f)) > \(fmt(frac))" }
        }
        return nil
    }

    /// (number of repeated elements, their characters), as datatrove's `find_duplicates`.
    static func duplicates(_ w: WordSplit, _ xs: [Range<Int>]) -> (Int, Int) {
        var seen = Set<UInt64>()
        var dup = 0, chars = 0
        for r in xs where !seen.insert(w.hash(r) ^ UInt64(r.count)).inserted { dup += 1; chars += r.count }
        return (dup, chars)
    }
}

/// A reusable open-addressing counter of 64-bit n-gram hashes (one document's n-grams).
struct NGramCounter {
    var keys: [UInt64], counts: [Int32], mask: Int, used: [Int] = []

    init(capacity: Int) {
        var c = 16
        while c < capacity * 2 { c <<= 1 }
        keys = [UInt64](repeating: 0, count: c); counts = [Int32](repeating: 0, count: c); mask = c - 1
    }

    /// Forgets every key (touches only the used slots).
    mutating func reset() {
        for i in used { keys[i] = 0; counts[i] = 0 }
        used.removeAll(keepingCapacity: true)
    }

    /// Adds one occurrence of `key`; returns its count.
    @inline(__always)
    mutating func increment(_ key: UInt64) -> Int {
        let k = key == 0 ? 1 : key
        var i = Int(truncatingIfNeeded: k >> 7) & mask
        while true {
            if keys[i] == k { counts[i] += 1; return Int(counts[i]) }
            if keys[i] == 0 { keys[i] = k; counts[i] = 1; used.append(i); return 1 }
            i = (i + 1) & mask
        }
    }
}

/// Formats a ratio for drop reasons: at most 3 decimals, no trailing zeros (`0.25`, `2.1`, `3`).
func fmt(_ x: Double) -> String {
    guard x.isFinite else { return "\(x)" }
    let r = (x * 1000).rounded() / 1000
    if r == r.rounded() && abs(r) < 1e15 { return String(Int(r)) }
    var s = String(r)
    if s.count > 12 { s = String(s.prefix(12)) }
    return s
}
