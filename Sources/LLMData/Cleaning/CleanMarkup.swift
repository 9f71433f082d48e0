// CleanMarkup: the text of an HTML page. A hand-written scanner over Unicode scalars following the
// HTML5 tokenizer (no regex, linear time, never traps on malformed markup):
//   - start and end tags with their attributes parsed, so a `>` inside a quoted value belongs to the
//     value; `<` not followed by a letter, `/`, `!` or `?` is text (`a < b` survives);
//   - comments (`<!-- -->`, `--!>`, the abrupt `<!-->`), doctype, `<? ?>` and other bogus comments,
//     `<![CDATA[ ... ]]>` (dropped through `]]>`, as Python's html.parser does);
//   - `<script>` and `<style>` bodies are raw text (no tags inside) and dropped, up to `</script`
//     followed by whitespace, `/` or `>`;
//   - a tag, comment or raw text cut off by the end of the input is dropped (HTML5: EOF in tag);
//   - block tags (``TextClean/blockTags``) become a line break, other tags nothing;
//   - character references in text are decoded (CleanEntities.swift).
// Checked against Python's html.parser on Tests/Fixtures/html (scripts/reference/make_html_fixtures.py
// states the comparison rule and the few cases where html.parser departs from HTML5).

extension TextClean {
    /// Tags whose start and end each become a line break in ``stripHTML(_:)``.
    public static let blockTags: Set<String> = [
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt", "figcaption", "figure",
        "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
        "table", "td", "th", "title", "tr", "ul"
    ]
    /// Elements whose content is raw text, dropped with the element.
    static let rawTextTags: Set<String> = ["script", "style"]

    /// Strips HTML: removes tags (a `>` inside a quoted attribute value does not end the tag), comments,
    /// doctype and CDATA sections, drops the bodies of `<script>` and `<style>`, turns block tags
    /// (`<br>`, `<p>`, `<div>`, `<li>`, `<td>`, headings ...) into line breaks and decodes character
    /// references in the text (``decodeEntities(_:)``). A `<` not followed by a letter, `/`, `!` or `?`
    /// is text; a tag left open at the end of the input is dropped.
    ///
    /// ```swift
    /// TextClean.stripHTML("<p title='a>b'>Hi &amp; <b>bye</b></p><script>x()</script>")   // "\nHi & bye\n"
    /// ```
    public static func stripHTML(_ text: String) -> String {
        guard text.utf8.contains(0x3C) else { return decodeEntities(text) }
        let s = Array(text.unicodeScalars)
        let n = s.count
        var out = ScalarWriter(capacity: text.utf8.count)
        var i = 0
        while i < n {
            let c = s[i]
            if c == "&" {
                if let end = characterReference(s, at: i, into: &out) { i = end } else { out.append(c); i += 1 }
                continue
            }
            guard c == "<", i + 1 < n else { out.append(c); i += 1; continue }
            let d = s[i + 1]
            if isASCIILetter(d) {  // start tag
                guard let tag = scanTag(s, nameAt: i + 1) else { break }  // EOF inside the tag: dropped
                i = tag.end
                if blockTags.contains(tag.name) { out.append("\n") }
                if rawTextTags.contains(tag.name) { i = rawTextEnd(s, from: i, tag: tag.name) }
            } else if d == "/" {
                guard i + 2 < n else { out.append("<"); out.append("/"); break }  // `</` at EOF is text
                if isASCIILetter(s[i + 2]) {  // end tag
                    guard let tag = scanTag(s, nameAt: i + 2) else { break }
                    i = tag.end
                    if blockTags.contains(tag.name) { out.append("\n") }
                } else if s[i + 2] == ">" {
                    i += 3  // `</>` is ignored
                } else {
                    i = afterNext(">", in: s, from: i + 2)  // `</ x>`, `</3>`: bogus comment
                }
            } else if d == "!" {
                i = markupDeclarationEnd(s, from: i + 2)
            } else if d == "?" {
                i = afterNext(">", in: s, from: i + 2)  // processing instruction: bogus comment
            } else {
                out.append(c); i += 1
            }
        }
        return out.string
    }

    @inline(__always) static func isASCIILetter(_ c: Unicode.Scalar) -> Bool { (0x41...0x5A).contains(c.value) || (0x61...0x7A).contains(c.value) }

    /// HTML5 whitespace inside tags: tab, LF, FF, CR, space.
    @inline(__always) static func isTagSpace(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\n" || c == "\t" || c == "\u{0C}" || c == "\r"
    }

    /// ASCII-lowercased scalar value (other scalars unchanged).
    @inline(__always) static func lowerASCII(_ v: UInt32) -> UInt32 { (0x41...0x5A).contains(v) ? v | 0x20 : v }

    /// The index after the first `c` at or after `from`, or the end of `s`.
    static func afterNext(_ c: Unicode.Scalar, in s: [Unicode.Scalar], from: Int) -> Int {
        var j = from
        while j < s.count && s[j] != c { j += 1 }
        return min(s.count, j + 1)
    }

    /// Scans a start or end tag whose name starts at `k` (an ASCII letter) with the HTML5 tokenizer's
    /// tag, attribute-name and attribute-value states: quotes only open a value right after `=`, and a
    /// `>` inside a quoted value is part of it. Returns the lowercased tag name and the index after the
    /// closing `>`, or nil when the input ends inside the tag.
    static func scanTag(_ s: [Unicode.Scalar], nameAt k: Int) -> (name: String, end: Int)? {
        enum State { case name, beforeAttr, attrName, afterAttrName, beforeValue, quoted(Unicode.Scalar), unquoted, afterQuoted, selfClosing }
        let n = s.count
        var name = String.UnicodeScalarView()
        var nameLength = 0
        var state = State.name
        var j = k
        while j < n {
            let c = s[j]
            j += 1
            switch state {
            case .name:
                if c == ">" { return (String(name), j) }
                if isTagSpace(c) {
                    state = .beforeAttr
                } else if c == "/" {
                    state = .selfClosing
                } else {
                    nameLength += 1  // an overlong name is never a known tag
                    if nameLength <= 16 { name.append(Unicode.Scalar(lowerASCII(c.value)) ?? c) } else if nameLength == 17 { name.append("\u{FFFD}") }
                }
            case .beforeAttr:
                if c == ">" { return (String(name), j) }
                if c == "/" { state = .selfClosing } else if !isTagSpace(c) { state = .attrName }
            case .attrName:
                if c == ">" { return (String(name), j) }
                if isTagSpace(c) { state = .afterAttrName } else if c == "/" { state = .selfClosing } else if c == "=" { state = .beforeValue }
            case .afterAttrName:
                if c == ">" { return (String(name), j) }
                if c == "/" { state = .selfClosing } else if c == "=" { state = .beforeValue } else if !isTagSpace(c) { state = .attrName }
            case .beforeValue:
                if c == ">" { return (String(name), j) }
                if c == "\"" || c == "'" { state = .quoted(c) } else if !isTagSpace(c) { state = .unquoted }
            case .quoted(let q):
                if c == q { state = .afterQuoted }
            case .unquoted:
                if c == ">" { return (String(name), j) }
                if isTagSpace(c) { state = .beforeAttr }
            case .afterQuoted:
                if c == ">" { return (String(name), j) }
                if c == "/" { state = .selfClosing } else if isTagSpace(c) { state = .beforeAttr } else { state = .attrName }
            case .selfClosing:
                if c == ">" { return (String(name), j) }
                j -= 1; state = .beforeAttr  // reconsume as the start of an attribute
            }
        }
        return nil
    }

    /// The index after the raw text of `tag` (script/style) starting at `from`: after its end tag
    /// (`</tag` + whitespace, `/` or `>`, ASCII case-insensitive, then the rest of that tag), or the end
    /// of the input when it is never closed.
    static func rawTextEnd(_ s: [Unicode.Scalar], from: Int, tag: String) -> Int {
        let t = Array(tag.unicodeScalars)
        let n = s.count
        var i = from
        while i + 1 + t.count < n {
            if s[i] == "<", s[i + 1] == "/" {
                var k = 0
                while k < t.count && lowerASCII(s[i + 2 + k].value) == t[k].value { k += 1 }
                let after = i + 2 + t.count
                if k == t.count, after < n, isTagSpace(s[after]) || s[after] == "/" || s[after] == ">" {
                    return scanTag(s, nameAt: i + 2)?.end ?? n
                }
            }
            i += 1
        }
        return n
    }

    /// The index after a markup declaration whose body starts at `j` (just after `<!`): a comment
    /// (`-->` or `--!>`; `<!-->` and `<!--->` end at once), `[CDATA[` through `]]>`, and anything else
    /// (doctype included) through the next `>`. Unterminated: the end of the input.
    static func markupDeclarationEnd(_ s: [Unicode.Scalar], from j: Int) -> Int {
        let n = s.count
        if j + 1 < n, s[j] == "-", s[j + 1] == "-" {
            var k = j + 2
            if k < n, s[k] == ">" { return k + 1 }
            if k + 1 < n, s[k] == "-", s[k + 1] == ">" { return k + 2 }
            while k + 2 < n {
                if s[k] == "-", s[k + 1] == "-" {
                    if s[k + 2] == ">" { return k + 3 }
                    if s[k + 2] == "!", k + 3 < n, s[k + 3] == ">" { return k + 4 }
                }
                k += 1
            }
            return n
        }
        if hasPrefix(s, at: j, "[CDATA[") {
            var k = j + 7
            while k + 2 < n && !(s[k] == "]" && s[k + 1] == "]" && s[k + 2] == ">") { k += 1 }
            return min(n, k + 3)
        }
        return afterNext(">", in: s, from: j)
    }

    /// Whether `s[at...]` starts with `p` exactly.
    static func hasPrefix(_ s: [Unicode.Scalar], at: Int, _ p: String) -> Bool {
        var k = at
        for c in p.unicodeScalars {
            guard k < s.count, s[k] == c else { return false }
            k += 1
        }
        return true
    }
}
