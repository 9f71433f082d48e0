// FilterC4: the C4 line and document rules (Raffel et al. 2020, "Exploring the Limits of Transfer
// Learning with a Unified Text-to-Text Transformer", §2.2; datatrove `C4QualityFilter`): keep only lines
// that end in terminal punctuation and have enough words, drop lines mentioning "javascript" or policy
// boilerplate, remove citation markers, drop the whole document for "lorem ipsum" or a curly brace, and
// for too few sentences. CJK: terminal punctuation includes 。！？ and closing quotes; CJK characters
// count as words. `apply` returns the kept text or a drop reason.

/// C4 quality rules (datatrove `C4QualityFilter`; sentence minimum 3 here, datatrove's default is 5).
public struct C4Filter: Sendable {
    public var minSentences = 3
    public var minWordsPerLine = 3
    public var maxWordLength = 1000
    public var removeCitations = true
    public var filterNoTerminalPunct = true
    public var filterLoremIpsum = true
    public var filterJavascript = true
    public var filterCurlyBracket = true
    public var filterPolicy = true
    static let policy = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"]
    static let terminal: Set<Unicode.Scalar> = [".", "?", "!", "\"", "'", "。", "！", "？", "”", "’", "」", "』", "…"]
    static let sentenceEnd: Set<Unicode.Scalar> = [".", "?", "!", "。", "！", "？"]

    public init() {}

    /// The kept lines joined by `\n`, or a reason (`c4: too few sentences 1 < 3`, `c4: curly bracket`,
    /// `c4: lorem ipsum`).
    public func apply(_ text: String) -> Result<String, C4Drop> {
        var kept: [String] = []
        var sentences = 0
        for raw in text.split(separator: "\n") {
            var line = String(raw.trimmingSpaces())
            let w = WordSplit(line)
            if maxWordLength > 0, w.words.contains(where: { $0.count > maxWordLength }) { continue }
            if removeCitations && line.unicodeScalars.contains("[") {
                line = String(Substring(Self.removingCitations(line)).trimmingSpaces())
            }
            let u = line.unicodeScalars
            if filterNoTerminalPunct {
                guard let last = u.last, Self.terminal.contains(last) else { continue }
                if line.hasSuffix("...") || (last == "…") { continue }
            }
            if w.words.count < minWordsPerLine { continue }
            let lower = line.lowercased()
            if filterLoremIpsum && lower.contains("lorem ipsum") { return .failure(C4Drop("c4: lorem ipsum")) }
            if filterJavascript && lower.contains("javascript") { continue }
            if filterCurlyBracket && line.unicodeScalars.contains("{") { return .failure(C4Drop("c4: curly bracket")) }
            if filterPolicy && Self.policy.contains(where: { lower.contains($0) }) { continue }
            sentences += max(1, Self.countSentences(u))
            kept.append(line)
        }
        if sentences < minSentences { return .failure(C4Drop("c4: too few sentences \(sentences) < \(minSentences)")) }
        return .success(kept.joined(separator: "\n"))
    }

    /// Sentence-ending punctuation runs in a line (`a. b! c` -> 2).
    static func countSentences(_ u: String.UnicodeScalarView) -> Int {
        var n = 0, prevEnd = false
        for c in u {
            let e = sentenceEnd.contains(c)
            if e && !prevEnd { n += 1 }
            prevEnd = e
        }
        return n
    }

    /// Removes `[1]`, `[23]`, `[edit]`, `[citation needed]` markers.
    static func removingCitations(_ s: String) -> String {
        guard s.unicodeScalars.contains("[") else { return s }
        var out = ""
        var rest = Substring(s)
        while let open = rest.firstIndex(of: "[") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "]") else { out += rest[open...]; return out }
            let inner = rest[rest.index(after: open)..<close]
            let isCitation =
                (!inner.isEmpty && inner.count <= 4 && inner.allSatisfy(\.isNumber))
                || inner == "edit" || inner == "citation needed"
            if !isCitation { out += rest[open...close] }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }
}

/// A C4 drop reason.
public struct C4Drop: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ s: String) { description = s }
}

extension Substring {
    /// Without leading/trailing spaces and tabs.
    func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.unicodeScalars.first, Scalars.isSpace(f) { s = s.dropFirst() }
        while let l = s.unicodeScalars.last, Scalars.isSpace(l) { s = s.dropLast() }
        return s
    }
}
