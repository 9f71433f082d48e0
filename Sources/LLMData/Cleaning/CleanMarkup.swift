// CleanMarkup: HTML tag stripping (script/style bodies dropped, block tags become line breaks), HTML
// entity decoding (common named entities + decimal/hex numeric), and URL removal or masking.
// Hand-written scanners over Unicode scalars (no regex): linear time, never trap on malformed markup.

extension TextClean {
    /// Common named HTML entities (the ones web text actually carries).
    static let entities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©", "reg": "®",
        "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“",
        "rdquo": "”", "laquo": "«", "raquo": "»", "middot": "·", "bull": "•", "euro": "€", "pound": "£",
        "yen": "¥", "cent": "¢", "deg": "°", "times": "×", "divide": "÷", "sect": "§", "para": "¶",
        "shy": "\u{AD}", "ensp": " ", "emsp": " ", "thinsp": " ", "zwj": "\u{200D}", "zwnj": "\u{200C}",
    ]
    static let blockTags: Set<String> = ["br", "p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3",
                                         "h4", "h5", "h6", "section", "article", "header", "footer", "blockquote", "pre", "hr"]

    /// Decodes HTML entities: the common named ones and numeric `&#169;` / `&#xA9;` (invalid code points
    /// become U+FFFD); unknown names stay as written.
    ///
    /// ```swift
    /// TextClean.decodeEntities("Tom &amp; Jerry &#x1F600; &copy;")   // "Tom & Jerry 😀 ©"
    /// ```
    public static func decodeEntities(_ text: String) -> String {
        guard text.utf8.contains(0x26) else { return text }
        let s = Array(text.unicodeScalars)
        var out = ScalarWriter(capacity: text.utf8.count)
        var i = 0
        while i < s.count {
            if s[i] == "&", let (rep, end) = entity(s, at: i) {
                for r in rep.unicodeScalars { out.append(r) }
                i = end
            } else {
                out.append(s[i]); i += 1
            }
        }
        return out.string
    }

    /// The entity starting at `i` (`&...;`, at most 32 scalars) and the index after it.
    static func entity(_ s: [Unicode.Scalar], at i: Int) -> (String, Int)? {
        var j = i + 1
        let limit = min(s.count, i + 34)
        while j < limit && s[j] != ";" && (s[j].properties.isAlphabetic || ("0"..."9").contains(s[j]) || s[j] == "#") { j += 1 }
        guard j < limit, s[j] == ";", j > i + 1 else { return nil }
        let body = String(String.UnicodeScalarView(s[(i + 1)..<j]))
        if body.hasPrefix("#") {
            let hex = body.hasPrefix("#x") || body.hasPrefix("#X")
            let digits = body.dropFirst(hex ? 2 : 1)
            guard !digits.isEmpty, digits.count <= 8, let v = UInt32(digits, radix: hex ? 16 : 10) else { return nil }
            let sc = Unicode.Scalar(v).flatMap { v == 0 ? nil : $0 } ?? "\u{FFFD}"
            return (String(sc), j + 1)
        }
        guard let rep = entities[body] ?? entities[body.lowercased()] else { return nil }
        return (rep, j + 1)
    }

    /// Strips HTML: removes tags and comments, drops the bodies of `<script>` and `<style>`, turns block
    /// tags (`<br>`, `<p>`, `<div>`, `<li>`, headings ...) into line breaks, then decodes entities.
    /// A `<` not followed by a letter, `/` or `!` is text (`a < b` survives).
    ///
    /// ```swift
    /// TextClean.stripHTML("<p>Hi&nbsp;<b>there</b></p><script>x()</script>")   // "\nHi there\n"
    /// ```
    public static func stripHTML(_ text: String) -> String {
        guard text.utf8.contains(0x3C) else { return decodeEntities(text) }
        let s = Array(text.unicodeScalars)
        var out = ScalarWriter(capacity: text.utf8.count)
        var i = 0
        let n = s.count
        while i < n {
            let c = s[i]
            guard c == "<", i + 1 < n, s[i + 1].properties.isAlphabetic || s[i + 1] == "/" || s[i + 1] == "!" else {
                out.append(c); i += 1; continue
            }
            if s[i + 1] == "!", i + 3 < n, s[i + 2] == "-", s[i + 3] == "-" {      // <!-- comment -->
                var j = i + 4
                while j + 2 < n && !(s[j] == "-" && s[j + 1] == "-" && s[j + 2] == ">") { j += 1 }
                i = min(n, j + 3); continue
            }
            var j = i + 1
            while j < n && s[j] != ">" { j += 1 }
            guard j < n else { out.append(c); i += 1; continue }                 // unterminated: keep as text
            var k = i + 1
            let closing = s[k] == "/"
            if closing { k += 1 }
            var name = ""
            while k < j, s[k].properties.isAlphabetic || ("0"..."9").contains(s[k]) { name.unicodeScalars.append(s[k]); k += 1 }
            name = name.lowercased()
            i = j + 1
            if (name == "script" || name == "style") && !closing && s[j - 1] != "/" {
                if let end = findClose(s, from: i, tag: name) { i = end } else { i = n }
            } else if blockTags.contains(name) {
                out.append("\n")
            }
        }
        return decodeEntities(out.string)
    }

    /// ASCII-lowercased scalar value (other scalars unchanged).
    @inline(__always) static func lowerASCII(_ v: UInt32) -> UInt32 { (0x41...0x5A).contains(v) ? v | 0x20 : v }

    /// The index after `</tag>` (case-insensitive) searching from `from`, or nil.
    static func findClose(_ s: [Unicode.Scalar], from: Int, tag: String) -> Int? {
        let t = Array(tag.unicodeScalars)
        var i = from
        while i + t.count + 2 < s.count + 1 {
            if s[i] == "<", i + 1 < s.count, s[i + 1] == "/" {
                var ok = i + 2 + t.count <= s.count
                var k = 0
                while ok && k < t.count {
                    if lowerASCII(s[i + 2 + k].value) != t[k].value { ok = false }
                    k += 1
                }
                if ok {
                    var j = i + 2 + t.count
                    while j < s.count && s[j] != ">" { j += 1 }
                    return min(s.count, j + 1)
                }
            }
            i += 1
        }
        return nil
    }

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
                || Scalars.isCJK(v) || Scalars.isCJKPunctuation(v) || v < 0x20 { break }
            j += 1
        }
        while j > i + matched, ".,;:!?)]}".unicodeScalars.contains(s[j - 1]) { j -= 1 }
        return j > i + matched ? j : nil
    }
}
