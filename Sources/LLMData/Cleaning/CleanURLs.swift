// CleanURLs: URL removal or masking (`http://`, `https://`, `ftp://`, `www.`). A hand-written scanner
// over Unicode scalars (no regex): linear time, never traps.

extension TextClean {
    /// Removes URLs (`http://`, `https://`, `ftp://`, `www.`) or replaces each by `mask` (for example
    /// `"<URL>"`). A URL ends at whitespace, `<>"'`, or CJK text; trailing `.,;:!?)]}` stay as text.
    ///
    /// ```swift
    /// TextClean.replaceURLs("see https://x.org/a?b=1. ok", with: "<URL>")   // "see <URL>. ok"
    /// ```
    public static func replaceURLs(_ text: String, with mask: String = "") -> String {
        guard text.utf8.contains(0x2F) || text.utf8.contains(0x77) || text.utf8.contains(0x57) else { return text }
        let s = Array(text.unicodeScalars)
        var out = ScalarWriter(capacity: text.utf8.count)
        var i = 0
        while i < s.count {
            if let end = urlEnd(s, at: i) {
                for r in mask.unicodeScalars { out.append(r) }
                i = end
            } else {
                out.append(s[i]); i += 1
            }
        }
        return out.string
    }

    static let schemes: [[Unicode.Scalar]] = ["https://", "http://", "ftp://", "www."].map { Array($0.unicodeScalars) }

    /// The end index of a URL starting at `i`, or nil.
    static func urlEnd(_ s: [Unicode.Scalar], at i: Int) -> Int? {
        let c = s[i]
        guard c == "h" || c == "H" || c == "f" || c == "F" || c == "w" || c == "W" else { return nil }
        if i > 0, !Scalars.isCJK(s[i - 1].value), s[i - 1].properties.isAlphabetic || ("0"..."9").contains(s[i - 1]) { return nil }
        var matched = 0
        for p in schemes where i + p.count < s.count {
            var ok = true
            for k in 0..<p.count where lowerASCII(s[i + k].value) != p[k].value { ok = false; break }
            if ok { matched = p.count; break }
        }
        guard matched > 0 else { return nil }
        var j = i + matched
        while j < s.count {
            let v = s[j].value
            if Scalars.isSpace(s[j]) || v == 0x0A || v == 0x3C || v == 0x3E || v == 0x22 || v == 0x27
                || Scalars.isCJK(v) || Scalars.isCJKPunctuation(v) || v < 0x20
            {
                break
            }
            j += 1
        }
        while j > i + matched, ".,;:!?)]}".unicodeScalars.contains(s[j - 1]) { j -= 1 }
        return j > i + matched ? j : nil
    }
}
