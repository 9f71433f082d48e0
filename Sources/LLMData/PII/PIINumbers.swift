// PIINumbers: the digit-run pass of PII scrubbing. A run is digit groups joined by single separators
// (space, '-', '.') with an optional leading '+' and parenthesized groups; the longest prefix of groups
// (from each start group) that classifies as Chinese ID, card number, US SSN or phone is replaced.

extension PIIScan {
    struct Group { var start: Int; var end: Int; var digits: [UInt8]; var paren: Bool; var sep: UInt8 }

    static func numbers(_ b: [UInt8], _ kinds: Set<PIIKind>, _ counts: inout [PIIKind: Int]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var copied = 0, i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            guard isDigit(c) || ((c == 0x2B || c == 0x28) && i + 1 < n && isDigit(b[i + 1])),
                i == 0 || !(isAlnum(b[i - 1]) || b[i - 1] == 0x2E || b[i - 1] == 0x2D || b[i - 1] == 0x2B)
            else { i += 1; continue }
            let plus = c == 0x2B
            var j = plus ? i + 1 : i
            var groups: [Group] = []
            var sep: UInt8 = 0
            while j < n && groups.count < 12 {
                let gs = j
                var paren = false
                if b[j] == 0x28 { paren = true; j += 1 }
                var d: [UInt8] = []
                while j < n && isDigit(b[j]) { d.append(b[j]); j += 1 }
                if d.count == 17 && j < n && (b[j] == 0x58 || b[j] == 0x78) { d.append(0x58); j += 1 }
                if d.isEmpty { j = gs; break }
                if paren { guard j < n && b[j] == 0x29 else { j = gs; break }; j += 1 }
                groups.append(Group(start: gs, end: j, digits: d, paren: paren, sep: sep))
                if j + 1 < n && (b[j] == 0x20 || b[j] == 0x2D || b[j] == 0x2E) && (isDigit(b[j + 1]) || b[j + 1] == 0x28) {
                    sep = b[j]; j += 1
                } else if j < n && b[j] == 0x28 || (j < n && isDigit(b[j])) {
                    sep = 0
                } else {
                    break
                }
            }
            guard !groups.isEmpty else { i += 1; continue }
            let runEnd = groups[groups.count - 1].end
            var a = 0
            var matchedAny = false
            while a < groups.count {
                var found = false
                for e in stride(from: groups.count, to: a, by: -1) {
                    let end = groups[e - 1].end
                    if end < n && isAlnum(b[end]) { continue }
                    guard let kind = classify(groups[a..<e], plus: plus && a == 0), kinds.contains(kind) else { continue }
                    let start = a == 0 ? i : groups[a].start
                    out.append(contentsOf: b[copied..<start]); out.append(contentsOf: kind.placeholder.utf8)
                    counts[kind, default: 0] += 1
                    copied = end; a = e; found = true; matchedAny = true
                    break
                }
                if !found { a += 1 }
            }
            _ = matchedAny
            i = max(runEnd, i + 1)
        }
        out.append(contentsOf: b[copied...])
        return out
    }

    /// What a sequence of digit groups is, if anything.
    static func classify(_ g: ArraySlice<Group>, plus: Bool) -> PIIKind? {
        let digits = g.flatMap(\.digits)
        let d = digits.count
        let lens = g.map(\.digits.count)
        let anyParen = g.contains(where: \.paren)
        let seps = Set(g.dropFirst().map(\.sep))
        if g.count == 1 && d == 18 { return PIIChecks.chineseResidentID(bytes: digits) ? .cnID : nil }
        if digits.contains(0x58) { return nil }
        if !plus && !anyParen && (13...19).contains(d) && seps.isSubset(of: [0x20, 0x2D, 0]) && (g.count == 1 || lens.allSatisfy { $0 >= 4 })
            && PIIChecks.luhn(digits: digits.map { $0 - 0x30 })
        {
            return .creditCard
        }
        if plus { return (8...15).contains(d) && lens[0] <= 4 ? .phone : nil }
        let first = g[g.startIndex].digits
        func cnMobile(_ x: ArraySlice<UInt8>) -> Bool { x.count == 11 && x.first == 0x31 && x[x.startIndex + 1] >= 0x33 }
        if cnMobile(digits[...]) && (g.count == 1 || lens == [3, 4, 4]) { return .phone }
        if lens.first == 2 && first == [0x38, 0x36] && cnMobile(digits.dropFirst(2)) { return .phone }
        if lens == [3, 2, 4] && seps.count == 1 && (seps.contains(0x2D) || seps.contains(0x20)) && !anyParen {
            return PIIChecks.ssn(digits: digits[...]) ? .ssn : nil
        }
        if lens == [3, 3, 4] || (lens == [1, 3, 3, 4] && first == [0x31]) { return .phone }
        if lens.count == 2 && (3...4).contains(lens[0]) && first.first == 0x30 && (7...8).contains(lens[1]) { return .phone }
        return nil
    }
}
