// FilterWords: the word segmentation every filter uses. Latin and other space-separated scripts split
// on whitespace (punctuation stays attached, as Python's str.split); each CJK character (Han, kana,
// Hangul) is one word and CJK punctuation is its own symbol word, so Chinese needs no spaces.
// Words are ranges into one scalar array (no per-word allocation) with a 64-bit hash for n-gram counts.

/// A text split into words, without copying the words.
///
/// ```swift
/// let w = WordSplit("我爱 NLP!")
/// w.words.map { w.string($0) }   // ["我", "爱", "NLP!"]
/// ```
public struct WordSplit {
    /// The text's scalars.
    public let scalars: [Unicode.Scalar]
    /// Word ranges into ``scalars``.
    public private(set) var words: [Range<Int>] = []

    public init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        words.reserveCapacity(scalars.count / 5 + 1)
        var start = -1
        for (i, c) in scalars.enumerated() {
            let v = c.value
            if Scalars.isSpace(c) || v == 0x0A {
                if start >= 0 { words.append(start..<i); start = -1 }
            } else if v >= 0x2E80 && (Scalars.isCJK(v) || Scalars.isCJKPunctuation(v)) {
                if start >= 0 { words.append(start..<i); start = -1 }
                words.append(i..<(i + 1))
            } else if start < 0 {
                start = i
            }
        }
        if start >= 0 { words.append(start..<scalars.count) }
    }

    /// The word at `r` as a string.
    public func string(_ r: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[r])) }

    /// The words as strings.
    public var strings: [String] { words.map(string) }

    /// A 64-bit hash of the word at `r` (lowercased when `folding`), for counting and n-grams.
    @inline(__always)
    public func hash(_ r: Range<Int>, folding: Bool = false) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for k in r {
            var v = scalars[k].value
            if folding && v >= 0x41 && v <= 0x5A { v |= 0x20 }
            h = (h ^ UInt64(v)) &* 0x0000_0100_0000_01B3
        }
        return DedupHash.mix64(h)
    }

    /// True when the word contains an alphabetic scalar (letters, CJK characters).
    @inline(__always)
    public func hasAlpha(_ r: Range<Int>) -> Bool {
        for k in r {
            let v = scalars[k].value
            if v < 0x80 { if (v | 0x20) >= 0x61 && (v | 0x20) <= 0x7A { return true } } else if Scalars.isCJK(v) || scalars[k].properties.isAlphabetic { return true }
        }
        return false
    }

    /// True when every scalar of the word is punctuation or a symbol.
    @inline(__always)
    public func isSymbolWord(_ r: Range<Int>) -> Bool {
        for k in r where !Scalars.isPunctuation(scalars[k]) { return false }
        return true
    }

    /// True when the word is a single CJK character.
    @inline(__always)
    public func isCJK(_ r: Range<Int>) -> Bool { r.count == 1 && Scalars.isCJK(scalars[r.lowerBound].value) }
}
