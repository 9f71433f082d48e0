// CleanLines: whitespace collapsing (spaces within lines, blank-line runs, trimming) and line-level
// boilerplate removal: lines containing a configured pattern (cookie notices, "All rights reserved",
// case-insensitive substrings) and navigation-like lines ("Home | About | Contact"). Pure functions.

extension TextClean {
    /// Collapses whitespace: runs of spaces/tabs/NBSP/ideographic spaces become one space, each line is
    /// trimmed, runs of blank lines become one blank line (paragraphs survive), and the text is trimmed.
    /// With `keepNewlines: false` every whitespace run, line breaks included, becomes one space.
    ///
    /// ```swift
    /// TextClean.collapseWhitespace("  a \t b\n\n\n\nc  ")   // "a b\n\nc"
    /// ```
    public static func collapseWhitespace(_ text: String, keepNewlines: Bool = true) -> String {
        var out = ScalarWriter(capacity: text.utf8.count)
        var pendingSpace = false, pendingNewlines = 0
        for c in text.unicodeScalars {
            let v = c.value
            if v > 0x20 && v != 0xA0 && v != 0x3000 && (v < 0x1680 || !Scalars.isSpace(c)) {
                if !out.isEmpty {
                    if pendingNewlines > 0 { out.append(0x0A); if pendingNewlines > 1 { out.append(0x0A) } } else if pendingSpace { out.append(0x20) }
                }
                pendingSpace = false; pendingNewlines = 0
                out.append(c)
            } else if v == 0x0A {
                if keepNewlines { pendingNewlines += 1; pendingSpace = false } else { pendingSpace = true }
            } else if Scalars.isSpace(c) {
                pendingSpace = true
            } else {  // other C0 controls are text here
                if !out.isEmpty {
                    if pendingNewlines > 0 { out.append(0x0A); if pendingNewlines > 1 { out.append(0x0A) } } else if pendingSpace { out.append(0x20) }
                }
                pendingSpace = false; pendingNewlines = 0
                out.append(c)
            }
        }
        return out.string
    }

    /// Default boilerplate patterns (lowercase substrings) for ``removeBoilerplate(_:patterns:navigation:)``.
    public static let defaultBoilerplatePatterns = [
        "cookie", "all rights reserved", "privacy policy", "terms of use", "terms of service",
        "skip to content", "subscribe to our newsletter", "javascript is disabled", "enable javascript",
        "版权所有", "隐私政策", "使用条款"
    ]
    static let navSeparators: Set<Unicode.Scalar> = ["|", "·", "•", "»", "›", ">"]

    /// Removes boilerplate lines: a line containing any of `patterns` (case-insensitive substrings), and
    /// with `navigation`, a navigation-like line: three or more items separated by `| · • » › >`, each
    /// of at most three words (`Home | News | Contact us`). Returns the text and the number of lines removed.
    ///
    /// ```swift
    /// TextClean.removeBoilerplate("Home | About | Blog\nReal text.\n© 2024 All rights reserved.").text
    /// // "Real text."
    /// ```
    public static func removeBoilerplate(
        _ text: String, patterns: [String] = defaultBoilerplatePatterns,
        navigation: Bool = true
    ) -> (text: String, removed: Int) {
        let pats = patterns.map { $0.lowercased() }.filter { !$0.isEmpty }
        var kept: [Substring] = []
        var removed = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { kept.append(line); continue }
            let lower = line.lowercased()
            if pats.contains(where: { lower.contains($0) }) || (navigation && isNavigation(line)) {
                removed += 1
            } else {
                kept.append(line)
            }
        }
        return removed == 0 ? (text, 0) : (kept.joined(separator: "\n"), removed)
    }

    /// True for a short line of three or more separator-delimited items of at most three words each.
    static func isNavigation(_ line: Substring) -> Bool {
        var items = 0, wordsInItem = 0, inWord = false, sawSeparator = false
        for c in line.unicodeScalars {
            if navSeparators.contains(c) {
                if wordsInItem > 0 { items += 1 }
                if wordsInItem > 3 { return false }
                wordsInItem = 0; inWord = false; sawSeparator = true
            } else if Scalars.isSpace(c) {
                inWord = false
            } else if !inWord {
                inWord = true; wordsInItem += 1
            }
        }
        if wordsInItem > 3 { return false }
        if wordsInItem > 0 { items += 1 }
        return sawSeparator && items >= 3
    }
}
