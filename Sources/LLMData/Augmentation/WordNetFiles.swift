// WordNetFiles: the raw WordNet 3.0 database files (Debian `wordnet-base`, /usr/share/wordnet) held as
// bytes: binary search of a sorted index file (`index.noun` ...) by lemma, and parsing of the data-file
// line at a synset's byte offset. Formats: wndb(5WN). Every read is bounds-checked; a malformed line
// gives nil (or an empty field), never a trap.

/// One part-of-speech's index and data file, as bytes.
struct WordNetPosFiles: Sendable {
    let index: [UInt8]
    let data: [UInt8]

    /// The index line whose first field is `key` (bytes after the key, up to the end of the line).
    func indexLine(_ key: [UInt8]) -> ArraySlice<UInt8>? {
        var lo = 0, hi = index.count
        while lo < hi {
            let mid = (lo + hi) / 2
            var start = mid
            while start > 0 && index[start - 1] != 0x0A { start -= 1 }
            var end = start
            while end < index.count && index[end] != 0x0A { end += 1 }
            var fieldEnd = start
            while fieldEnd < end && index[fieldEnd] != 0x20 { fieldEnd += 1 }
            let c = compare(index[start..<fieldEnd], key)
            if c == 0 { return index[fieldEnd..<end] }
            if c < 0 { lo = end + 1 } else { hi = start }
        }
        return nil
    }

    /// The synset offsets listed on `key`'s index line (empty when the lemma is not in this POS).
    func offsets(_ key: [UInt8]) -> [Int] {
        guard let line = indexLine(key) else { return [] }
        let f = fields(line)
        // pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
        guard f.count >= 3, let synsetCount = Int(f[1]), let pCount = Int(f[2]) else { return [] }
        let first = 3 + pCount + 2
        guard synsetCount >= 0, first + synsetCount <= f.count else { return [] }
        return f[first..<(first + synsetCount)].compactMap { Int($0) }
    }

    /// The synset whose data line starts at byte `offset`.
    func synset(at offset: Int) -> WordNetSynset? {
        guard offset >= 0, offset < data.count else { return nil }
        var end = offset
        while end < data.count && data[end] != 0x0A { end += 1 }
        let line = data[offset..<end]
        var glossStart = line.endIndex
        if let bar = line.firstIndex(of: 0x7C) { glossStart = bar }  // "|"
        // offset lex_filenum ss_type w_cnt(hex) [word lex_id(hex)]... (the pointers after them are not read)
        let head = line[line.startIndex..<glossStart].split(separator: 0x20, maxSplits: 4)
        guard head.count == 5, Int(String(decoding: head[0], as: UTF8.self)) == offset,
            let type = String(decoding: head[2], as: UTF8.self).first,
            let wCount = Int(String(decoding: head[3], as: UTF8.self), radix: 16), wCount >= 0
        else { return nil }
        let f = fields(head[4], maxSplits: 2 * wCount)
        guard 2 * wCount <= f.count else { return nil }
        var lemmas: [String] = []
        for k in 0..<wCount { lemmas.append(stripMarker(f[2 * k])) }
        var gloss = ""
        if glossStart < line.endIndex {
            gloss = String(decoding: line[(glossStart + 1)...], as: UTF8.self)
            while gloss.hasPrefix(" ") { gloss.removeFirst() }
            while gloss.hasSuffix(" ") { gloss.removeLast() }
        }
        return WordNetSynset(offset: offset, type: type, lemmas: lemmas, gloss: gloss)
    }

    /// Space-separated fields of a line.
    private func fields(_ line: ArraySlice<UInt8>, maxSplits: Int = Int.max) -> [String] {
        line.split(separator: 0x20, maxSplits: maxSplits).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Adjective lemmas may carry a syntactic marker: `galore(ip)`, `big(a)`, `afraid(p)`.
    private func stripMarker(_ s: String) -> String {
        for m in ["(a)", "(p)", "(ip)"] where s.hasSuffix(m) { return String(s.dropLast(m.count)) }
        return s
    }

    /// Byte-wise comparison (the index files are sorted in C locale order).
    private func compare(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> Int {
        var i = a.startIndex, j = 0
        while i < a.endIndex && j < b.count {
            if a[i] != b[j] { return a[i] < b[j] ? -1 : 1 }
            i += 1; j += 1
        }
        if i == a.endIndex && j == b.count { return 0 }
        return i == a.endIndex ? -1 : 1
    }
}

/// Parses an exception list (`noun.exc`: `inflected base [base...]` per line).
func parseWordNetExceptions(_ bytes: [UInt8]) -> [String: [String]] {
    var out: [String: [String]] = [:]
    for line in bytes.split(separator: 0x0A) {
        let f = line.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
        guard f.count >= 2 else { continue }
        out[f[0], default: []].append(contentsOf: f[1...])
    }
    return out
}
