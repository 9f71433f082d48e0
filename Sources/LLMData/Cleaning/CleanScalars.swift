// CleanScalars: Unicode scalar classification shared by cleaning, filters, PII and dedup: scripts
// (Latin, CJK = Han/Hiragana/Katakana/Hangul, Cyrillic, ...), invisible/control characters, emoji and
// pictographs (by Unicode properties plus the Extended_Pictographic blocks), whitespace. Pure, no state.

/// Writing systems the script filter distinguishes.
public enum Script: String, CaseIterable, Sendable {
    case latin, cjk, cyrillic, greek, arabic, hebrew, devanagari, thai, other
}

/// Scalar-level predicates used by every cleaning and filtering function.
public enum Scalars {
    /// True for Han ideographs, Hiragana, Katakana, Hangul and CJK symbols/punctuation/fullwidth forms
    /// that behave as one "word" each (no whitespace word splitting for these).
    @inline(__always)
    public static func isCJK(_ v: UInt32) -> Bool {
        switch v {
        case 0x2E80...0x2FDF, 0x3040...0x30FF, 0x3100...0x312F, 0x3190...0x31FF,
            0x3400...0x4DBF, 0x4E00...0x9FFF, 0xAC00...0xD7AF, 0x1100...0x11FF, 0x3130...0x318F,
            0xF900...0xFAFF, 0x20000...0x3134F:
            return true
        default: return false
        }
    }

    /// CJK punctuation (。，、！？ fullwidth forms): separators, never words.
    @inline(__always)
    public static func isCJKPunctuation(_ v: UInt32) -> Bool {
        (0x3000...0x303F).contains(v) || (0xFF01...0xFF0F).contains(v) || (0xFF1A...0xFF20).contains(v)
            || (0xFF3B...0xFF40).contains(v) || (0xFF5B...0xFF65).contains(v)
    }

    /// The script of a letter-like scalar, or nil for digits, punctuation, symbols and spaces.
    public static func script(_ s: Unicode.Scalar) -> Script? {
        let v = s.value
        if v < 0x80 {
            return (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) ? .latin : nil
        }
        if isCJK(v) { return .cjk }
        guard s.properties.isAlphabetic else { return nil }
        switch v {
        case 0x00C0...0x024F, 0x1E00...0x1EFF, 0x2C60...0x2C7F, 0xA720...0xA7FF, 0xFF21...0xFF3A, 0xFF41...0xFF5A: return .latin
        case 0x0400...0x052F, 0x1C80...0x1C8F, 0x2DE0...0x2DFF, 0xA640...0xA69F: return .cyrillic
        case 0x0370...0x03FF, 0x1F00...0x1FFF: return .greek
        case 0x0600...0x06FF, 0x0750...0x077F, 0x08A0...0x08FF, 0xFB50...0xFDFF, 0xFE70...0xFEFF: return .arabic
        case 0x0590...0x05FF: return .hebrew
        case 0x0900...0x097F: return .devanagari
        case 0x0E00...0x0E7F: return .thai
        default: return .other
        }
    }

    /// Invisible or control scalars to remove: general category Cc (except \n and \t) and Cf
    /// (zero-width space/joiners, BOM, bidi marks, soft hyphen), plus U+2028/2029 and noncharacters.
    @inline(__always)
    public static func isInvisibleOrControl(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x20 { return v != 0x0A && v != 0x09 }
        if v < 0x7F { return false }
        if v <= 0x9F { return true }  // DEL and C1 controls
        switch s.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .unassigned, .surrogate: return true
        default: return false
        }
    }

    /// Emoji and pictographs: Emoji_Presentation, Extended_Pictographic blocks, emoji with a following
    /// VS16 (checked by the caller), regional indicators, skin-tone modifiers and tag characters.
    /// Digits, `#` and `*` (which carry the Emoji property for keycaps) are not emoji on their own.
    @inline(__always)
    public static func isPictographic(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0xA9 { return false }
        switch v {
        case 0x1F000...0x1FAFF, 0x2600...0x27BF, 0x2B00...0x2BFF, 0x1F1E6...0x1F1FF, 0x1F3FB...0x1F3FF,
            0xE0020...0xE007F, 0x2190...0x21FF, 0x2300...0x23FF, 0x25A0...0x25FF, 0x3030, 0x303D, 0x3297, 0x3299:
            return s.properties.isEmoji || s.properties.isEmojiPresentation || (0x1F000...0x1FAFF).contains(v)
                || (0xE0020...0xE007F).contains(v)
        default:
            return s.properties.isEmojiPresentation
        }
    }

    /// True for U+FE0E/U+FE0F (variation selectors), U+200D (ZWJ) and U+20E3 (keycap): the glue of emoji sequences.
    @inline(__always)
    public static func isEmojiGlue(_ v: UInt32) -> Bool { v == 0xFE0F || v == 0xFE0E || v == 0x200D || v == 0x20E3 }

    /// Whitespace other than a line break (space, tab, NBSP, ideographic space, other Zs).
    @inline(__always)
    public static func isSpace(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 { return v == 0x20 || v == 0x09 || v == 0x0B || v == 0x0C || v == 0x0D }
        return v == 0xA0 || v == 0x3000 || v == 0x1680 || (0x2000...0x200A).contains(v) || v == 0x202F || v == 0x205F
    }

    /// ASCII and general Unicode punctuation (categories P*), used by word and symbol checks.
    @inline(__always)
    public static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 {
            return (0x21...0x2F).contains(v) || (0x3A...0x40).contains(v) || (0x5B...0x60).contains(v) || (0x7B...0x7E).contains(v)
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol,
            .modifierSymbol, .otherSymbol:
            return true
        default: return false
        }
    }
}

/// A UTF-8 output buffer for the cleaning functions (much faster than appending to a scalar view).
struct ScalarWriter {
    var bytes: [UInt8] = []
    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    @inline(__always)
    mutating func append(_ s: Unicode.Scalar) {
        let v = s.value
        if v < 0x80 { bytes.append(UInt8(truncatingIfNeeded: v)); return }
        if v < 0x800 {
            bytes.append(UInt8(truncatingIfNeeded: 0xC0 | (v >> 6))); bytes.append(UInt8(truncatingIfNeeded: 0x80 | (v & 0x3F)))
        } else if v < 0x10000 {
            bytes.append(UInt8(truncatingIfNeeded: 0xE0 | (v >> 12))); bytes.append(UInt8(truncatingIfNeeded: 0x80 | ((v >> 6) & 0x3F)))
            bytes.append(UInt8(truncatingIfNeeded: 0x80 | (v & 0x3F)))
        } else {
            bytes.append(UInt8(truncatingIfNeeded: 0xF0 | (v >> 18))); bytes.append(UInt8(truncatingIfNeeded: 0x80 | ((v >> 12) & 0x3F)))
            bytes.append(UInt8(truncatingIfNeeded: 0x80 | ((v >> 6) & 0x3F))); bytes.append(UInt8(truncatingIfNeeded: 0x80 | (v & 0x3F)))
        }
    }

    @inline(__always) mutating func append(_ b: UInt8) { bytes.append(b) }

    var isEmpty: Bool { bytes.isEmpty }
    var string: String { String(decoding: bytes, as: UTF8.self) }
}
