// GPT2PreTokenizer: GPT-2's byte-level alphabet (`bytes_to_unicode`) and its pre-tokenization regex
// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, implemented by hand over
// the Unicode scalars of UTF-8 bytes (no regex engine): \p{L} and \p{N} are the general categories L*
// and N*, \s is the White_Space property (Oniguruma's \s, which HF tokenizers uses). Any byte input is
// memory-safe; the pieces are exact for valid UTF-8 (callers repair invalid input first).

/// GPT-2's map between bytes and 256 printable characters, so any byte string is a string of tokens.
///
/// ```swift
/// GPT2ByteLevel.token(forBytes: Array(" hi".utf8))   // "Ġhi"
/// GPT2ByteLevel.bytes(ofToken: "Ġhi")                // [32, 104, 105]
/// ```
public enum GPT2ByteLevel {
    /// byte -> scalar value of its stand-in: printable bytes map to themselves (`!`..`~`, `¡`..`¬`,
    /// `®`..`ÿ`), the other 68 bytes in increasing order to U+0100 + n.
    public static let byteToScalar: [UInt32] = {
        var map = [UInt32](repeating: 0, count: 256)
        var n: UInt32 = 0
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable { map[b] = UInt32(b) } else { map[b] = 0x100 + n; n += 1 }
        }
        return map
    }()

    /// scalar value (< 0x144) -> byte; -1 for scalars outside the alphabet.
    static let scalarToByte: [Int16] = {
        var inv = [Int16](repeating: -1, count: 0x144)
        for (b, s) in byteToScalar.enumerated() { inv[Int(s)] = Int16(b) }
        return inv
    }()

    /// The 256 alphabet characters sorted by scalar value (the order trainers give them ids).
    public static let sortedAlphabet: [String] = byteToScalar.sorted().map { String(Unicode.Scalar($0)!) }

    /// The token string of raw bytes.
    public static func token(forBytes bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(byteToScalar[Int(b)])!) }
        return String(s)
    }

    /// The raw bytes of a token string; nil when a character is outside the byte-level alphabet.
    public static func bytes(ofToken token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for s in token.unicodeScalars {
            guard s.value < 0x144, case let b = scalarToByte[Int(s.value)], b >= 0 else { return nil }
            out.append(UInt8(b))
        }
        return out
    }
}

/// GPT-2's pre-tokenizer: splits text into the pieces BPE merges never cross.
///
/// ```swift
/// GPT2PreTokenizer.pieces("Hello world's  end")   // ["Hello", " world", "'s", " ", " end"]
/// ```
public enum GPT2PreTokenizer {
    /// The character classes of the regex.
    enum CharClass: UInt8 { case letter, number, space, other }

    /// Classes of the Basic Multilingual Plane, computed once (64 KB).
    private static let bmpClasses: [CharClass] = (0..<0x10000).map { computeClass(UInt32($0)) }

    static func computeClass(_ v: UInt32) -> CharClass {
        guard let s = Unicode.Scalar(v) else { return .other }
        if s.properties.isWhitespace { return .space }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// The class and byte length of the scalar starting at `i` (< `end`). Truncated or malformed
    /// sequences count as one byte of class `.other`, so no read goes past `end`.
    @inline(__always)
    static func classAt(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> (CharClass, Int) {
        let b0 = UInt32(p[i])
        if b0 < 0x80 { return (bmpClasses[Int(b0)], 1) }
        if b0 < 0xC0 { return (.other, 1) }
        if b0 < 0xE0 {
            guard i + 1 < end else { return (.other, 1) }
            return (bmpClasses[Int((b0 & 0x1F) << 6 | UInt32(p[i + 1]) & 0x3F)], 2)
        }
        if b0 < 0xF0 {
            guard i + 2 < end else { return (.other, 1) }
            let v = (b0 & 0x0F) << 12 | (UInt32(p[i + 1]) & 0x3F) << 6 | UInt32(p[i + 2]) & 0x3F
            return (bmpClasses[Int(v)], 3)
        }
        guard i + 3 < end else { return (.other, 1) }
        let v = (b0 & 0x07) << 18 | (UInt32(p[i + 1]) & 0x3F) << 12 | (UInt32(p[i + 2]) & 0x3F) << 6 | UInt32(p[i + 3]) & 0x3F
        return (computeClass(v), 4)
    }

    /// Length of the contraction (`'s 't 'm 'd 're 've 'll`) at `i` (which holds `'`), or 0.
    @inline(__always)
    static func contraction(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        guard i + 1 < end else { return 0 }
        switch p[i + 1] {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"): return 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"): return i + 2 < end && p[i + 2] == UInt8(ascii: "e") ? 3 : 0
        case UInt8(ascii: "l"): return i + 2 < end && p[i + 2] == UInt8(ascii: "l") ? 3 : 0
        default: return 0
        }
    }

    /// Calls `body(start, end)` for each piece of `p[start..<end]`, in order; the pieces tile the range.
    @inline(__always)
    static func split(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int, _ body: (Int, Int) throws -> Void) rethrows {
        var i = start
        while i < end {
            var j: Int
            let n = p[i] == UInt8(ascii: "'") ? contraction(p, i, end) : 0
            if n > 0 {
                j = i + n
            } else {
                var (c, len) = classAt(p, i, end)
                var k = i
                if p[i] == 0x20 && i + 1 < end {  // ` ?` before a letter, number or other run
                    let (c1, len1) = classAt(p, i + 1, end)
                    if c1 != .space { c = c1; len = len1; k = i + 1 }
                }
                if c != .space {  // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
                    j = k + len
                    while j < end {
                        let (cj, lj) = classAt(p, j, end)
                        if cj != c { break }
                        j += lj
                    }
                } else {  // `\s+(?!\S)`, else `\s+`
                    j = i + len
                    var last = len
                    while j < end {
                        let (cj, lj) = classAt(p, j, end)
                        if cj != .space { break }
                        last = lj
                        j += lj
                    }
                    if j < end && j - last > i { j -= last }
                }
            }
            try body(i, j)
            i = j
        }
    }

    /// The pieces of `text` (for tests and inspection).
    public static func pieces(_ text: String) -> [String] {
        var s = text
        return s.withUTF8 { buf -> [String] in
            guard let p = buf.baseAddress else { return [] }
            var out: [String] = []
            split(p, from: 0, to: buf.count) { a, b in
                out.append(String(decoding: UnsafeBufferPointer(rebasing: buf[a..<b]), as: UTF8.self))
            }
            return out
        }
    }
}
