// CleanEntities: HTML character references exactly as Python's html.unescape decodes them (which is
// HTML5's rule for text): all 2,231 named references of HTML5 (HTMLEntityTable, generated), the legacy
// ones also without ';' and by longest prefix (`&notit;` -> `¬it;`, `&ampx` -> `&x`), numeric
// references with the HTML5 remap (`&#x80;` -> €, NUL/surrogates/out of range -> U+FFFD) and the code
// points html.unescape drops (controls, non-characters). Checked against Python on
// Tests/Fixtures/html/reference.json (scripts/reference/make_html_fixtures.py).

extension TextClean {
    /// The parsed named-reference table: name (with its ';' where HTML5 has one) -> replacement.
    static let namedReferences: [String: [Unicode.Scalar]] = {
        var table: [String: [Unicode.Scalar]] = [:]
        table.reserveCapacity(HTMLEntityTable.nameCount)
        for entry in HTMLEntityTable.packedNames.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            guard let eq = entry.firstIndex(of: "=") else { continue }
            let scalars = entry[entry.index(after: eq)...].split(separator: ",").compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
            table[String(entry[..<eq])] = scalars
        }
        return table
    }()

    /// The longest name HTML5 accepts without ';' (legacy references such as `frac12`): only those can
    /// match as a prefix, since a prefix never contains the ';'.
    static let longestLegacyName: Int = namedReferences.keys.filter { !$0.hasSuffix(";") }.map(\.utf8.count).max() ?? 0

    /// Decodes HTML character references as Python's `html.unescape` does (HTML5 rules for text): every
    /// named reference of HTML5, legacy names also without `;` and as the longest prefix of a longer run,
    /// decimal and hex numeric references (windows-1252 remap for 0x80-0x9F; NUL, surrogates and values
    /// past U+10FFFF become U+FFFD; control and non-character code points are dropped). Anything else
    /// stays as written.
    ///
    /// ```swift
    /// TextClean.decodeEntities("Tom &amp; Jerry &#x1F600; &eacute &frac12; &#x80;")   // "Tom & Jerry 😀 é ½ €"
    /// ```
    public static func decodeEntities(_ text: String) -> String {
        guard text.utf8.contains(0x26) else { return text }
        let s = Array(text.unicodeScalars)
        var out = ScalarWriter(capacity: text.utf8.count)
        var i = 0
        while i < s.count {
            if s[i] == "&", let end = characterReference(s, at: i, into: &out) { i = end } else { out.append(s[i]); i += 1 }
        }
        return out.string
    }

    /// Decodes the reference starting at `s[i] == "&"` into `out` and returns the index after what it
    /// consumed, or nil (nothing written) when no reference starts there and the `&` is plain text.
    static func characterReference(_ s: [Unicode.Scalar], at i: Int, into out: inout ScalarWriter) -> Int? {
        let n = s.count
        guard i + 1 < n else { return nil }
        if s[i + 1] == "#" { return numericReference(s, at: i, into: &out) }
        // html.unescape: `[^\t\n\f <&#;]{1,32};?`
        var j = i + 1
        while j < n && j - i - 1 < 32 && !isReferenceStop(s[j]) { j += 1 }
        guard j > i + 1 else { return nil }
        if j < n && s[j] == ";" { j += 1 }
        if let rep = namedReferences[String(String.UnicodeScalarView(s[(i + 1)..<j]))] {
            for r in rep { out.append(r) }
            return j
        }
        var len = min(j - i - 2, longestLegacyName)  // longest proper prefix first, at least 2 long
        while len >= 2 {
            if let rep = namedReferences[String(String.UnicodeScalarView(s[(i + 1)..<(i + 1 + len)]))] {
                for r in rep { out.append(r) }
                return i + 1 + len  // the rest of the run is plain text
            }
            len -= 1
        }
        return nil
    }

    @inline(__always) static func isReferenceStop(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09, 0x0A, 0x0C, 0x20, 0x3C, 0x26, 0x23, 0x3B: return true  // \t \n \f space < & # ;
        default: return false
        }
    }

    /// `&#123;` / `&#x7B;` (the `;` optional), at `s[i] == "&"`, `s[i + 1] == "#"`.
    static func numericReference(_ s: [Unicode.Scalar], at i: Int, into out: inout ScalarWriter) -> Int? {
        let n = s.count
        var j = i + 2
        let hex = j < n && (s[j] == "x" || s[j] == "X")
        if hex { j += 1 }
        let start = j
        var value: UInt32 = 0
        while j < n, let d = digitValue(s[j], hex: hex) {
            value = value > 0x10FFFF ? value : value * (hex ? 16 : 10) + d  // saturates past U+10FFFF
            j += 1
        }
        guard j > start else { return nil }
        if j < n && s[j] == ";" { j += 1 }
        if let mapped = HTMLEntityTable.numericRemap[value] {
            out.append(Unicode.Scalar(mapped) ?? "\u{FFFD}")
        } else if value > 0x10FFFF || (0xD800...0xDFFF).contains(value) {
            out.append("\u{FFFD}")
        } else if !HTMLEntityTable.droppedCodePoints.contains(where: { $0.contains(value) }), let sc = Unicode.Scalar(value) {
            out.append(sc)
        }
        return j
    }

    @inline(__always) static func digitValue(_ c: Unicode.Scalar, hex: Bool) -> UInt32? {
        let v = c.value
        if (0x30...0x39).contains(v) { return v - 0x30 }
        guard hex else { return nil }
        if (0x61...0x66).contains(v) { return v - 0x61 + 10 }
        if (0x41...0x46).contains(v) { return v - 0x41 + 10 }
        return nil
    }
}
