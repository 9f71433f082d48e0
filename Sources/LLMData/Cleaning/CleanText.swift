// CleanText: scalar-level cleaning functions (pure, String -> String): Unicode normalization (NFC/NFKC),
// control/invisible character removal, emoji and pictograph removal (by Unicode property, whole ZWJ,
// keycap and flag sequences), removal of configurable symbols, repeated-punctuation squashing.
// Each never traps and returns valid Unicode; an empty result is the caller's concern.
import Foundation

/// Pure text-cleaning functions; ``TextCleaner`` chains them by options.
public enum TextClean {
    /// Unicode normalization forms offered by ``normalize(_:form:)``.
    public enum Form: String, CaseIterable, Sendable { case nfc = "NFC", nfkc = "NFKC", nfd = "NFD", nfkd = "NFKD" }

    /// Normalizes `text` to `form` (NFKC also folds fullwidth letters and compatibility ligatures).
    ///
    /// ```swift
    /// TextClean.normalize("ｆｕｌｌ", form: .nfkc)   // "full"
    /// ```
    public static func normalize(_ text: String, form: Form) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        switch form {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        }
    }

    /// Removes control and invisible characters: Cc except `\n` and `\t`, Cf (zero-width space and
    /// joiners, BOM, bidi marks, soft hyphen), line/paragraph separators, private use and unassigned.
    /// `\r\n` and a lone `\r` become `\n`. With `keepEmojiJoiners`, a ZWJ between two pictographs stays.
    ///
    /// ```swift
    /// TextClean.removeControl("a\u{200B}b\u{FEFF}\u{7}c")   // "abc"
    /// ```
    public static func removeControl(_ text: String, keepEmojiJoiners: Bool = true) -> String {
        // fast path: nothing to remove
        if !text.utf8.contains(where: { ($0 < 0x20 && $0 != 0x0A && $0 != 0x09) || $0 == 0x7F || $0 >= 0xC2 }) { return text }
        var out = ScalarWriter(capacity: text.utf8.count)
        var prev: Unicode.Scalar = " "
        var it = text.unicodeScalars.makeIterator()
        var next = it.next()
        while let c = next {
            next = it.next()
            defer { prev = c }
            let v = c.value
            if v >= 0x20 && v < 0x7F || v == 0x0A { out.append(UInt8(truncatingIfNeeded: v)); continue }
            if v == 0x0D {
                out.append(0x0A)
                if next == "\n" { next = it.next() }
            } else if !Scalars.isInvisibleOrControl(c) {
                out.append(c)
            } else if keepEmojiJoiners, v == 0x200D, let n = next, Scalars.isPictographic(n),
                Scalars.isPictographic(prev) || Scalars.isEmojiGlue(prev.value)
            {
                out.append(c)
            }
        }
        return out.string
    }

    /// Removes emoji and pictographs, including whole sequences: ZWJ sequences (👨‍👩‍👧), skin tones,
    /// flags (regional-indicator pairs), keycaps (`1️⃣`), tag sequences and text symbols made emoji by
    /// VS16 (`❤️`, `©️`). Plain digits, `#`, `*`, `©` without VS16 and CJK text are kept.
    ///
    /// ```swift
    /// TextClean.removeEmoji("hi 👋🏽 #1 ❤️ 好")   // "hi  #1  好"
    /// ```
    public static func removeEmoji(_ text: String) -> String {
        if !text.utf8.contains(where: { $0 >= 0xC2 }) { return text }
        let s = Array(text.unicodeScalars)
        var out = ScalarWriter(capacity: text.utf8.count)
        var inSequence = false
        for i in 0..<s.count {
            let c = s[i], v = c.value
            let next = i + 1 < s.count ? s[i + 1].value : 0
            if v < 0x80 {
                if next == 0x20E3 || (next == 0xFE0F && i + 2 < s.count && s[i + 2].value == 0x20E3) {
                    inSequence = true  // keycap
                } else {
                    inSequence = false; out.append(UInt8(truncatingIfNeeded: v))
                }
            } else if Scalars.isPictographic(c) {
                inSequence = true
            } else if Scalars.isEmojiGlue(v) || (0xE0020...0xE007F).contains(v) {
                if !inSequence && v == 0x200D { out.append(c) }  // a ZWJ outside emoji is left to removeControl
            } else if next == 0xFE0F && c.properties.isEmoji {
                inSequence = true  // VS16 emoji presentation of a text symbol (©️)
            } else {
                inSequence = false
                out.append(c)
            }
        }
        return out.string
    }

    /// Removes every scalar of `symbols` (for example `"★☆■□◆※"`).
    ///
    /// ```swift
    /// TextClean.removeSymbols("★ top ★", symbols: "★")   // " top "
    /// ```
    public static func removeSymbols(_ text: String, symbols: String) -> String {
        guard !symbols.isEmpty else { return text }
        let set = Set(symbols.unicodeScalars)
        var out = ScalarWriter(capacity: text.utf8.count)
        for c in text.unicodeScalars where !set.contains(c) { out.append(c) }
        return out.string
    }

    /// Squashes runs of the same punctuation scalar longer than `maxRepeat` to `maxRepeat` copies
    /// (`!!!!` -> `!`, `？？？` -> `？`); runs of dots of three or more become `...` (an ellipsis survives).
    ///
    /// ```swift
    /// TextClean.squashPunctuation("wow!!!!! ok.....")   // "wow! ok..."
    /// ```
    public static func squashPunctuation(_ text: String, maxRepeat: Int = 1) -> String {
        let keep = max(1, maxRepeat)
        let s = Array(text.unicodeScalars)
        var out = ScalarWriter(capacity: text.utf8.count)
        var i = 0
        while i < s.count {
            let c = s[i]
            var j = i + 1
            while j < s.count && s[j] == c { j += 1 }
            let run = j - i
            if run > 1 && Scalars.isPunctuation(c) {
                let n = c == "." && run >= 3 ? max(3, keep) : min(run, keep)
                for _ in 0..<n { out.append(c) }
            } else {
                for k in i..<j { out.append(s[k]) }
            }
            i = j
        }
        return out.string
    }
}
