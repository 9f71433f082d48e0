// PIIScrub: replaces personal data by typed placeholders (<EMAIL>, <PHONE>, <IP>, <CREDIT_CARD>,
// <CN_ID>, <SSN>, <IBAN>) and counts them. Hand-written byte scanners in four passes: e-mail addresses
// (ASCII and international, RFC 6531: PIIEmail.swift); IBANs (mod-97 checksum: PIIIban.swift); IPv4/IPv6
// (validated; a dotted quad right after "version", "ver" or "v" is a version number, not an address);
// digit runs with separators classified as Chinese ID (checksum), card number (13-19 digits, Luhn), US SSN
// (AAA-GG-SSSS, SSA rules), or phone (+international, Chinese mobile 1[3-9]xxxxxxxxx, NANP 3-3-4, CN landline 0xx-).
// Linear in the text; invalid input never traps (the text is a valid String; replacements are ASCII).

/// Kinds of personal data the scrubber recognizes.
public enum PIIKind: String, CaseIterable, Sendable {
    case email, phone, ip, creditCard, cnID, ssn, iban
    /// The placeholder written instead of the data.
    public var placeholder: String {
        switch self {
        case .email: "<EMAIL>"
        case .phone: "<PHONE>"
        case .ip: "<IP>"
        case .creditCard: "<CREDIT_CARD>"
        case .cnID: "<CN_ID>"
        case .ssn: "<SSN>"
        case .iban: "<IBAN>"
        }
    }
}

/// Scrubs the enabled kinds of personal data from text.
///
/// ```swift
/// let (t, n) = PIIScrubber().scrub("mail a.b@x.org or call 13812345678")
/// // t == "mail <EMAIL> or call <PHONE>", n == [.email: 1, .phone: 1]
/// ```
public struct PIIScrubber: Sendable {
    public var kinds: Set<PIIKind>
    public init(kinds: Set<PIIKind> = Set(PIIKind.allCases)) { self.kinds = kinds }

    /// The scrubbed text and the number of replacements per kind (kinds with none are absent).
    public func scrub(_ text: String) -> (text: String, counts: [PIIKind: Int]) {
        var b = Array(text.utf8)
        var counts: [PIIKind: Int] = [:]
        if kinds.contains(.email) && b.contains(0x40) { b = PIIScan.emails(b, &counts) }
        let hasDigit = b.contains(where: { $0 >= 0x30 && $0 <= 0x39 })
        if kinds.contains(.iban) && hasDigit { b = PIIScan.ibans(b, &counts) }
        if kinds.contains(.ip) && (hasDigit || b.contains(0x3A)) { b = PIIScan.ips(b, &counts) }
        if hasDigit && !kinds.isDisjoint(with: [.phone, .creditCard, .cnID, .ssn]) { b = PIIScan.numbers(b, kinds, &counts) }
        return (counts.isEmpty ? text : String(decoding: b, as: UTF8.self), counts)
    }
}

enum PIIScan {
    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A) }
    @inline(__always) static func isLocal(_ c: UInt8) -> Bool { isAlnum(c) || c == 0x2E || c == 0x5F || c == 0x25 || c == 0x2B || c == 0x2D }
    @inline(__always) static func isDomain(_ c: UInt8) -> Bool { isAlnum(c) || c == 0x2E || c == 0x2D }

    @inline(__always) static func isIPChar(_ c: UInt8) -> Bool { PIIChecks.isHex(c) || c == 0x3A || c == 0x2E }

    static func ips(_ b: [UInt8], _ counts: inout [PIIKind: Int]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var copied = 0, i = 0
        while i < b.count {
            guard isIPChar(b[i]), i == 0 || !(isAlnum(b[i - 1]) || b[i - 1] == 0x3A || b[i - 1] == 0x2E) else { i += 1; continue }
            var j = i
            while j < b.count && isIPChar(b[j]) { j += 1 }
            var end = j
            while end > i && b[end - 1] == 0x2E { end -= 1 }  // sentence-final dots
            if end > i && b[end - 1] == 0x3A && !(end - 2 >= i && b[end - 2] == 0x3A) { end -= 1 }  // "host: " colon
            let run = b[i..<end]
            let nextOK = end >= b.count || !isAlnum(b[end]) || end < j
            let v4 = !run.isEmpty && PIIChecks.isIPv4(bytes: run) && !afterVersionWord(b, i)
            if nextOK && (v4 || (run.contains(0x3A) && PIIChecks.isIPv6(bytes: run))) {
                out.append(contentsOf: b[copied..<i]); out.append(contentsOf: PIIKind.ip.placeholder.utf8)
                counts[.ip, default: 0] += 1
                copied = end
            }
            i = max(j, i + 1)
        }
        out.append(contentsOf: b[copied...])
        return out
    }

    /// True when the text before `i` ends in the word "version", "ver" or "v" (any case), then optional
    /// '.' or ':' and spaces: "version 1.2.3.4", "ver. 10.0.0.1", "v: 4.3.2.1" are version numbers.
    static func afterVersionWord(_ b: [UInt8], _ i: Int) -> Bool {
        var k = i
        while k > 0 && (b[k - 1] == 0x20 || b[k - 1] == 0x09) { k -= 1 }
        if k > 0 && (b[k - 1] == 0x2E || b[k - 1] == 0x3A) { k -= 1 }
        while k > 0 && (b[k - 1] == 0x20 || b[k - 1] == 0x09) { k -= 1 }
        var w = k
        while w > 0 && isAlnum(b[w - 1]) { w -= 1 }
        let word = String(decoding: b[w..<k].map { $0 | 0x20 }, as: UTF8.self)
        return word == "version" || word == "ver" || word == "v"
    }
}
