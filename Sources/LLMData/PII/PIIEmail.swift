// PIIEmail: the e-mail pass of PII scrubbing. An address is LOCAL@DOMAIN where the domain has a dot and a
// top-level label of 2+ characters that are not digits or '-'. Besides ASCII (letters, digits, ._%+- in
// the local part; letters, digits, .- in the domain), both sides may hold non-ASCII letters and digits
// (RFC 6531 UTF-8 local parts, IDN U-label domains: "josé@bücher.de", "δοκιμή@παράδειγμα.δοκιμή",
// "用户@例子.广告"). Scripts written without spaces (Han, kana, Hangul, Thai) have no word boundary, so a
// side stops where the text switches between such a script and any other: "请联系alice@x.com谢谢" masks
// only "alice@x.com"; a Han local part after Han text takes that text with it (it cannot be told apart).

extension PIIScan {
    /// A scalar's class for e-mail scanning: not part of an address, ASCII punctuation allowed in an address
    /// (joins any run), ASCII letters/digits, other letters/digits, or a letter of a script written without spaces.
    enum MailClass { case stop, joiner, ascii, word, unspaced }

    /// The scalar starting at byte `i` (valid UTF-8: the text came from a String) and its length.
    static func scalar(_ b: [UInt8], at i: Int) -> (Unicode.Scalar, Int) {
        let c = b[i]
        let n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4
        var v = n == 1 ? UInt32(c) : UInt32(c) & (0xFF >> UInt32(n + 1))
        for k in 1..<n where i + k < b.count { v = v << 6 | UInt32(b[i + k] & 0x3F) }
        return (Unicode.Scalar(v) ?? "\u{FFFD}", n)
    }

    /// The class of the scalar at byte `i` (`domain`: the domain's ASCII set instead of the local part's).
    static func mailClass(_ b: [UInt8], at i: Int, domain: Bool) -> MailClass {
        if b[i] < 0x80 { return !(domain ? isDomain(b[i]) : isLocal(b[i])) ? .stop : isAlnum(b[i]) ? .ascii : .joiner }
        let s = scalar(b, at: i).0
        guard s.properties.isAlphabetic || s.properties.numericType != nil else { return .stop }
        switch s.value {
        case 0x0E00...0x0E7F, 0x1100...0x11FF, 0x3040...0x30FF, 0x3130...0x318F, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xAC00...0xD7AF, 0xF900...0xFAFF, 0x20000...0x3134F:
            return .unspaced
        default: return .word
        }
    }

    /// Whether a scalar of class `c` continues a run whose letters so far are of class `run` (no switch to or
    /// from unspaced; joiners continue any run).
    @inline(__always) static func continues(_ run: MailClass?, _ c: MailClass) -> Bool {
        guard let run, c != .joiner else { return true }
        return (run == .unspaced) == (c == .unspaced)
    }

    static func emails(_ b: [UInt8], _ counts: inout [PIIKind: Int]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var copied = 0, i = 0
        while i < b.count {
            guard b[i] == 0x40 else { i += 1; continue }
            // the local part: scalars to the left of '@', within one run
            var lo = i
            var run: MailClass?
            while lo > copied {
                var s = lo - 1
                while s > copied && b[s] & 0xC0 == 0x80 { s -= 1 }
                let c = mailClass(b, at: s, domain: false)
                if c == .stop || !continues(run, c) { break }
                if c != .joiner { run = run ?? c }
                lo = s
            }
            while lo < i && b[lo] == 0x2E { lo += 1 }
            // the domain: scalars to the right, within one run; its last dot, the top-level label after it
            var hi = i + 1
            var dRun: MailClass?
            var tld = 0, tldOK = true, dot = -1
            while hi < b.count {
                let c = mailClass(b, at: hi, domain: true)
                if c == .stop || !continues(dRun, c) { break }
                if c != .joiner { dRun = dRun ?? c }
                let n = scalar(b, at: hi).1
                hi += n
            }
            while hi > i + 1 && (b[hi - 1] == 0x2E || b[hi - 1] == 0x2D) { hi -= 1 }
            var k = i + 1
            while k < hi {
                let n = scalar(b, at: k).1
                if b[k] == 0x2E {
                    dot = k; tld = 0; tldOK = true
                } else {
                    tld += 1
                    if isDigit(b[k]) || b[k] == 0x2D { tldOK = false }
                }
                k += n
            }
            if lo < i, dot > i + 1, tld >= 2, tldOK {
                out.append(contentsOf: b[copied..<lo]); out.append(contentsOf: PIIKind.email.placeholder.utf8)
                counts[.email, default: 0] += 1
                copied = hi; i = hi
            } else {
                i += 1
            }
        }
        out.append(contentsOf: b[copied...])
        return out
    }
}
