// PIIIban: the IBAN pass of PII scrubbing (ISO 13616). A candidate starts at a word boundary with two
// capital letters and two check digits, then capital letters and digits, printed solid or in groups joined
// by single spaces ("DE89 3704 0044 0532 0130 00"). The longest prefix of whole groups that is 15-34
// characters long and passes the mod-97 check (PIIChecks.iban) is replaced by <IBAN>.

extension PIIScan {
    @inline(__always) static func isUpper(_ c: UInt8) -> Bool { c >= 0x41 && c <= 0x5A }

    static func ibans(_ b: [UInt8], _ counts: inout [PIIKind: Int]) -> [UInt8] {
        var out: [UInt8] = []
        var copied = 0, i = 0
        let n = b.count
        while i + 3 < n {
            guard isUpper(b[i]), isUpper(b[i + 1]), isDigit(b[i + 2]), isDigit(b[i + 3]), i == 0 || !isAlnum(b[i - 1]) else { i += 1; continue }
            // groups of [A-Z0-9], joined by single spaces; candidate ends at each group's end
            var chars: [UInt8] = []
            var ends: [(Int, Int)] = []  // (byte end, characters so far)
            var j = i
            while j < n && chars.count <= 34 {
                while j < n && (isUpper(b[j]) || isDigit(b[j])) && chars.count <= 34 { chars.append(b[j]); j += 1 }
                if j < n && isAlnum(b[j]) { break }  // a lowercase letter or too long: not a group end
                ends.append((j, chars.count))
                guard j + 1 < n, b[j] == 0x20, isUpper(b[j + 1]) || isDigit(b[j + 1]) else { break }
                j += 1
            }
            var matched = false
            for (end, count) in ends.reversed() where (15...34).contains(count) && PIIChecks.iban(bytes: chars[0..<count]) {
                out.append(contentsOf: b[copied..<i]); out.append(contentsOf: PIIKind.iban.placeholder.utf8)
                counts[.iban, default: 0] += 1
                copied = end; i = end; matched = true
                break
            }
            if !matched { i += 1 }
        }
        if copied == 0 { return b }
        out.append(contentsOf: b[copied...])
        return out
    }
}

extension PIIChecks {
    /// True for an IBAN (spaces ignored): 15-34 characters, a country code of two capital letters, two check
    /// digits, then capital letters and digits, whose mod-97 value (first four characters moved to the end,
    /// letters as 10...35) is 1.
    ///
    /// ```swift
    /// PIIChecks.iban("GB82 WEST 1234 5698 7654 32")   // true
    /// PIIChecks.iban("GB82 WEST 1234 5698 7654 33")   // false
    /// ```
    public static func iban(_ s: String) -> Bool { iban(bytes: Array(s.utf8.filter { $0 != 0x20 })[...]) }

    static func iban(bytes b: ArraySlice<UInt8>) -> Bool {
        guard (15...34).contains(b.count) else { return false }
        let s = b.startIndex
        guard PIIScan.isUpper(b[s]), PIIScan.isUpper(b[s + 1]), PIIScan.isDigit(b[s + 2]), PIIScan.isDigit(b[s + 3]) else { return false }
        var r = 0
        for c in b[(s + 4)...] + b[s..<(s + 4)] {
            if PIIScan.isDigit(c) {
                r = (r * 10 + Int(c - 0x30)) % 97
            } else if PIIScan.isUpper(c) {
                r = (r * 100 + Int(c - 0x41) + 10) % 97
            } else {
                return false
            }
        }
        return r == 1
    }

    /// True for a US Social Security number AAA-GG-SSSS (dashes or spaces; nine digits) that the SSA could
    /// issue: area not 000, 666 or 900-999, group not 00, serial not 0000.
    ///
    /// ```swift
    /// PIIChecks.ssn("123-45-6789")   // true
    /// PIIChecks.ssn("666-45-6789")   // false
    /// ```
    public static func ssn(_ s: String) -> Bool {
        let d = Array(s.utf8.filter { $0 != 0x20 && $0 != 0x2D })
        return d.count == 9 && d.allSatisfy(PIIScan.isDigit) && ssn(digits: d[...])
    }

    static func ssn(digits d: ArraySlice<UInt8>) -> Bool {
        func num(_ r: Range<Int>) -> Int { r.reduce(0) { $0 * 10 + Int(d[d.startIndex + $1] - 0x30) } }
        let area = num(0..<3), group = num(3..<5), serial = num(5..<9)
        return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
    }
}
