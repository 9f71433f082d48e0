// Tokenizers: round trips (ASCII, accents, CJK, emoji), vocabulary order, unknown characters and unk,
// out-of-range ids, lossy-safe byte decoding, and serialization to and from dictionaries.
import Testing
import LLMCore
@testable import LLMData

private func ints(_ t: Tensor) -> [Int] {
    var out: [Int] = []
    t.forEachOffset { out.append(Int(t.loadInteger(at: $0))) }
    return out
}

@Test func charRoundTrip() throws {
    let text = "héllo, 世界 👋\nnew line"
    let tok = try CharTokenizer(training: text)
    let ids = try tok.encode(text)
    #expect(ids.dtype == .int64 && ids.shape == [text.unicodeScalars.count])
    #expect(try tok.decode(ids) == text)
    #expect(tok.vocabulary == Array(Set(text.unicodeScalars)).sorted { $0.value < $1.value })
    #expect(ints(try tok.encode("hé")) == [tok.vocabulary.firstIndex(of: "h")!, tok.vocabulary.firstIndex(of: "é")!])
    #expect(try tok.decode([Int]()) == "" && ints(try tok.encode("")).isEmpty)
}

@Test func charUnknownAndUnk() throws {
    let tok = try CharTokenizer(training: "abc")
    #expect(
        throws: DataError.tokenizer(
            "CharTokenizer.encode: character 'é' (U+00E9) at position 2 is not in the vocabulary "
                + "(3 characters); build the tokenizer from text that contains it, or pass unk")
    ) {
        try tok.encode("aé")
    }
    #expect(throws: DataError.self) { try tok.encode("\n") }
    let withUnk = try CharTokenizer(training: "abc?", unk: 0)
    #expect(ints(try withUnk.encode("a世c")) == [1, 0, 3])
    #expect(throws: DataError.self) { try CharTokenizer(training: "abc", unk: 3) }
    #expect(throws: DataError.self) { try CharTokenizer(training: "") }
    #expect(throws: DataError.tokenizer("CharTokenizer.decode: id 3 at position 2 is out of range (vocabulary ids are 0..2)")) {
        try tok.decode([0, 3])
    }
    #expect(throws: DataError.self) { try tok.decode(try Tensor.from([0.5], shape: [1], dtype: .float32)) }
}

@Test func charRejectsInvalidUTF8() throws {
    let tok = try CharTokenizer(training: "abc")
    let bad: [UInt8] = [0x61, 0xC3]
    #expect(throws: DataError.tokenizer("CharTokenizer.encode: the text is not valid UTF-8")) {
        try bad.withUnsafeBufferPointer { try tok.encode(utf8: $0) }
    }
}

@Test func byteRoundTripAndLossyDecode() throws {
    let tok = ByteTokenizer()
    let text = "héllo, 世界 👋"
    let ids = try tok.encode(text)
    #expect(ints(ids) == Array(text.utf8).map(Int.init))
    #expect(try tok.decode(ids) == text)
    #expect(try tok.decode([0x61, 0xE4, 0xB8]) == "a\u{FFFD}")  // a character cut in half
    #expect(tok.vocabSize == 256)
    #expect(throws: DataError.self) { try tok.decode([256]) }
    #expect(throws: DataError.self) { try tok.decode([-1]) }
    let grid = try Tensor.from([104, 105, 33, 10], shape: [2, 2], dtype: .int32)
    #expect(try tok.decode(grid) == "hi!\n")
}

@Test func serialization() throws {
    let tok = try CharTokenizer(training: "héllo 👋", unk: 1)
    let dict = tok.toJSONObject()
    #expect(dict["type"] as? String == "char")
    let copy = try #require(try TokenizerCoding.decode(dict) as? CharTokenizer)
    #expect(copy.vocabulary == tok.vocabulary && copy.unk == 1)
    #expect(try TokenizerCoding.decode(ByteTokenizer().toJSONObject()) is ByteTokenizer)
    #expect(throws: DataError.self) { try TokenizerCoding.decode(["type": "bpe"]) }
    #expect(throws: DataError.self) { try TokenizerCoding.decode([:]) }
    #expect(throws: DataError.self) { try TokenizerCoding.decode(["type": "char", "vocab": ["ab"]]) }
    #expect(throws: DataError.self) { try TokenizerCoding.decode(["type": "char", "vocab": ["a", "a"]]) }
}
