// TextOps: fast text primitives for augmenters. `tokenize` splits text into words, single CJK
// characters, punctuation and whitespace runs such that joining the pieces gives the text back exactly
// (augmenters edit the word pieces and keep punctuation where it was). Characters are grapheme clusters.
// Keyboard neighbours (QWERTY) and OCR confusions live in TextOpsTables.swift; random helpers and token
// masking in TextOpsRandom.swift.

/// The kind of one piece of tokenized text.
public enum TextPieceKind: String, Sendable {
    /// Letters/digits (with inner apostrophes or hyphens: `don't`, `well-known`).
    case word = "w"
    /// One CJK character (Han, kana, Hangul): languages written without spaces, handled per character.
    case cjk = "c"
    /// One punctuation or symbol character.
    case punct = "p"
    /// A run of whitespace.
    case space = "s"
}

/// Text primitives (pure functions; safe from any thread).
public enum TextOps {
    /// True for a character of a script written without spaces (CJK ideographs, kana, Hangul, CJK marks).
    public static func isCJK(_ c: Character) -> Bool {
        guard let s = c.unicodeScalars.first else { return false }
        switch s.value {
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2FA1F,  // Han
            0x3040...0x30FF, 0x31F0...0x31FF,  // kana
            0xAC00...0xD7AF, 0x1100...0x11FF, 0x3130...0x318F:  // Hangul
            return true
        default: return false
        }
    }

    /// True for a CJK punctuation or full-width symbol (、。「」，！？ ...), treated as punctuation.
    static func isCJKPunct(_ s: Unicode.Scalar) -> Bool {
        (0x3000...0x303F).contains(s.value) || (0xFF00...0xFF0F).contains(s.value) || (0xFF1A...0xFF20).contains(s.value)
            || (0xFF3B...0xFF40).contains(s.value) || (0xFF5B...0xFF65).contains(s.value)
    }

    static func isWordChar(_ c: Character) -> Bool {
        guard let s = c.unicodeScalars.first, !isCJK(c), !isCJKPunct(s) else { return false }
        return c.isLetter || c.isNumber || s.properties.generalCategory == .nonspacingMark
    }

    /// Splits `text` into pieces whose concatenation is `text`.
    ///
    /// ```swift
    /// TextOps.tokenize("Hi, 你好!")  // [("Hi", .word), (",", .punct), (" ", .space), ("你", .cjk), ("好", .cjk), ("!", .punct)]
    /// ```
    public static func tokenize(_ text: String) -> [(text: String, kind: TextPieceKind)] {
        var out: [(text: String, kind: TextPieceKind)] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace {
                var j = i + 1
                while j < chars.count && chars[j].isWhitespace { j += 1 }
                out.append((String(chars[i..<j]), .space)); i = j
            } else if isCJK(c) {
                out.append((String(c), .cjk)); i += 1
            } else if isWordChar(c) {
                var j = i + 1
                while j < chars.count {
                    if isWordChar(chars[j]) { j += 1; continue }
                    // an inner apostrophe or hyphen joins two word parts
                    if (chars[j] == "'" || chars[j] == "’" || chars[j] == "-"), j + 1 < chars.count, isWordChar(chars[j + 1]) { j += 2; continue }
                    break
                }
                out.append((String(chars[i..<j]), .word)); i = j
            } else {
                out.append((String(c), .punct)); i += 1
            }
        }
        return out
    }

    /// The word and CJK pieces of `text` only (what EDA counts as words).
    public static func words(_ text: String) -> [String] {
        tokenize(text).filter { $0.kind == .word || $0.kind == .cjk }.map(\.text)
    }

    /// The characters (grapheme clusters) of `text`.
    public static func characters(_ text: String) -> [String] { text.map { String($0) } }

    /// A 64-bit FNV-1a hash of the UTF-8 bytes (stable across runs and machines; for per-document seeds).
    public static func hash(_ text: String) -> UInt64 { hash(bytes: text.utf8) }

    /// The FNV-1a hash of any bytes (a Lua string need not be valid UTF-8).
    public static func hash<S: Sequence>(bytes: S) -> UInt64 where S.Element == UInt8 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}
