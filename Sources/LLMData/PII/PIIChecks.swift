// PIIChecks: validators behind PII scrubbing: the Luhn checksum (ISO/IEC 7812-1) for card numbers,
// the Chinese resident identity number (GB 11643-1999: 6-digit region, valid YYYYMMDD birth date,
// 3-digit sequence, ISO 7064 MOD 11-2 check character 0-9/X), and IPv4/IPv6 address syntax (RFC 4291 §2.2).

/// Validators used by ``PIIScrubber``; public so recipes and tests can call them.
public enum PIIChecks {
    /// True when the digits of `number` (spaces and dashes ignored) pass the Luhn check.
    ///
    /// ```swift
    /// PIIChecks.luhn("4111 1111 1111 1111")   // true
    /// PIIChecks.luhn("4111 1111 1111 1112")   // false
    /// ```
    public static func luhn(_ number: String) -> Bool {
        var digits: [UInt8] = []
        for b in number.utf8 {
            if b >= 0x30 && b <= 0x39 { digits.append(b - 0x30) } else if b != 0x20 && b != 0x2D { return false }
        }
        return digits.count >= 2 && luhn(digits: digits)
    }

    /// Luhn over digit values (0...9).
    static func luhn(digits: [UInt8]) -> Bool {
        var sum = 0
        for (k, d) in digits.reversed().enumerated() {
            var v = Int(d)
            if k % 2 == 1 { v *= 2; if v > 9 { v -= 9 } }
            sum += v
        }
        return sum % 10 == 0
    }

    static let idWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let idCheck: [UInt8] = Array("10X98765432".utf8)

    /// True for a valid 18-character Chinese resident identity number: 17 digits and a check character
    /// (digit or X/x) matching ISO 7064 MOD 11-2, a birth date that exists (years 1900...2099).
    ///
    /// ```swift
    /// PIIChecks.chineseResidentID("11010519491231002X")   // true
    /// PIIChecks.chineseResidentID("110105194912310021")   // false (check character)
    /// ```
    public static func chineseResidentID(_ s: String) -> Bool { chineseResidentID(bytes: Array(s.utf8)) }

    static func chineseResidentID(bytes b: [UInt8]) -> Bool {
        guard b.count == 18 else { return false }
        var sum = 0
        for k in 0..<17 {
            guard b[k] >= 0x30 && b[k] <= 0x39 else { return false }
            sum += Int(b[k] - 0x30) * idWeights[k]
        }
        let last = b[17] == 0x78 ? 0x58 : b[17]
        guard last == idCheck[sum % 11] else { return false }
        func num(_ r: Range<Int>) -> Int { r.reduce(0) { $0 * 10 + Int(b[$1] - 0x30) } }
        let y = num(6..<10), m = num(10..<12), d = num(12..<14)
        guard (1900...2099).contains(y), (1...12).contains(m), d >= 1 else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        return d <= days
    }

    /// True for a dotted-quad IPv4 address (four decimal octets 0...255, at most 3 digits each).
    public static func isIPv4(_ s: String) -> Bool { isIPv4(bytes: Array(s.utf8)[...]) }

    static func isIPv4(bytes b: ArraySlice<UInt8>) -> Bool {
        let parts = b.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for p in parts {
            guard (1...3).contains(p.count), p.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
            guard p.reduce(0, { $0 * 10 + Int($1 - 0x30) }) <= 255 else { return false }
        }
        return true
    }

    /// True for an IPv6 address in RFC 4291 text form: eight groups of 1-4 hex digits, at most one `::`
    /// standing for one or more zero groups, optionally ending in an embedded IPv4 address.
    ///
    /// ```swift
    /// PIIChecks.isIPv6("2001:db8::8a2e:370:7334")   // true
    /// PIIChecks.isIPv6("12:30:45")                  // false
    /// ```
    public static func isIPv6(_ s: String) -> Bool { isIPv6(bytes: Array(s.utf8)[...]) }

    static func isIPv6(bytes b: ArraySlice<UInt8>) -> Bool {
        guard b.count >= 2, b.count <= 45 else { return false }
        let colon: UInt8 = 0x3A
        var halves: [ArraySlice<UInt8>] = []
        var i = b.startIndex, start = b.startIndex
        var doubleAt = -1
        while i < b.endIndex {
            if b[i] == colon, i + 1 < b.endIndex, b[i + 1] == colon {
                guard doubleAt < 0 else { return false }
                doubleAt = i
                halves.append(b[start..<i]); i += 2; start = i
            } else {
                i += 1
            }
        }
        halves.append(b[start..<b.endIndex])
        var groups = 0
        for (h, half) in halves.enumerated() where !half.isEmpty {
            let gs = half.split(separator: colon, omittingEmptySubsequences: false)
            for (k, g) in gs.enumerated() {
                if h == halves.count - 1, k == gs.count - 1, g.contains(0x2E) {
                    guard isIPv4(bytes: g) else { return false }
                    groups += 2
                } else {
                    guard (1...4).contains(g.count), g.allSatisfy(isHex) else { return false }
                    groups += 1
                }
            }
        }
        return doubleAt >= 0 ? groups <= 7 : groups == 8
    }

    @inline(__always) static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }
}
