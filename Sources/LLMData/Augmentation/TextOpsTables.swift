// TextOpsTables: the fixed tables of character-level noise. Keyboard neighbours on a US QWERTY layout
// (same row left/right, the two keys above and the two below, rows staggered as on a real keyboard;
// case kept) and OCR confusions (shapes a recognizer mixes up: 0/O/o/D, 1/l/I, 5/S, 8/B ... after
// nlpaug's OcrAug table). Lookups of characters outside the tables give an empty list.

extension TextOps {
    /// QWERTY rows, unshifted.
    static let keyboardRows: [[Character]] = [Array("1234567890-="), Array("qwertyuiop[]"), Array("asdfghjkl;'"), Array("zxcvbnm,./")]

    static let keyboardPositions: [Character: (Int, Int)] = {
        var m: [Character: (Int, Int)] = [:]
        for (r, row) in keyboardRows.enumerated() { for (c, ch) in row.enumerated() { m[ch] = (r, c) } }
        return m
    }()

    /// Keys next to `c` on a QWERTY keyboard (same case as `c`). Digits are kept when `digits`; other
    /// symbols only when `symbols`.
    ///
    /// ```swift
    /// TextOps.keyboardNeighbours("s")  // ["a", "d", "w", "e", "z", "x"]
    /// ```
    public static func keyboardNeighbours(_ c: Character, digits: Bool = true, symbols: Bool = false) -> [Character] {
        let upper = c.isUppercase
        guard let lower = c.lowercased().first, let (r, col) = keyboardPositions[lower] else { return [] }
        var cand: [(Int, Int)] = [(r, col - 1), (r, col + 1), (r - 1, col), (r - 1, col + 1), (r + 1, col - 1), (r + 1, col)]
        cand = cand.filter { $0.0 >= 0 && $0.0 < keyboardRows.count && $0.1 >= 0 && $0.1 < keyboardRows[$0.0].count }
        var out: [Character] = []
        for (rr, cc) in cand {
            let k = keyboardRows[rr][cc]
            if k.isLetter { out.append(upper ? Character(k.uppercased()) : k) } else if k.isNumber { if digits { out.append(k) } } else if symbols { out.append(k) }
        }
        return out
    }

    /// OCR confusions: character -> characters a recognizer may read instead.
    static let ocrTable: [Character: [String]] = [
        "0": ["8", "9", "o", "O", "D"], "1": ["4", "7", "l", "I"], "2": ["z", "Z"], "4": ["1", "A"], "5": ["8", "S", "s"],
        "6": ["b", "G"], "7": ["1", "T"], "8": ["s", "S", "@", "&", "6", "0", "B"], "9": ["g", "q"],
        "o": ["0"], "O": ["0", "Q", "D"], "D": ["0", "O"], "Q": ["O", "0"], "I": ["1", "l"], "l": ["1", "I"],
        "i": ["1", "l"], "z": ["2"], "Z": ["2"], "A": ["4"], "s": ["5", "8"], "S": ["5", "8"], "b": ["6", "h"],
        "G": ["6"], "T": ["7"], "B": ["8", "E"], "g": ["9", "q"], "q": ["9", "g"], "e": ["c"], "c": ["e"],
        "h": ["b"], "u": ["v"], "v": ["u"], "m": ["rn"], "E": ["B"]
    ]

    /// Characters (or short strings: `m` -> `rn`) an OCR engine may read instead of `c`.
    ///
    /// ```swift
    /// TextOps.ocrConfusions("0")  // ["8", "9", "o", "O", "D"]
    /// ```
    public static func ocrConfusions(_ c: Character) -> [String] { ocrTable[c] ?? [] }
}
