// Byte-level BPE: the GPT-2 byte alphabet (T-01), the hand-written pre-tokenizer against the Python
// `regex` module, training parity with HF tokenizers' BpeTrainer, round trips (CJK, emoji, long pieces,
// special tokens), invalid UTF-8 repair and toJSONObject round trips. Fixtures: Tests/Fixtures/tokenizers
// (written by scripts/reference/make_tokenizer_fixtures.py).
import Foundation
import Testing
import LLMCore
@testable import LLMData

/// Tests/Fixtures/tokenizers/<name>.
func tokenizerFixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("tokenizers").appendingPathComponent(name).path
}

/// The JSON array of objects in fixture `name`.
func fixtureCases(_ name: String) throws -> [[String: Any]] {
    let data = try Data(contentsOf: URL(fileURLWithPath: tokenizerFixture(name)))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
}

/// A small tokenizer trained on the fixture text (as HF's BpeTrainer would).
func trainedFixtureTokenizer() throws -> BPETokenizer {
    let text = try String(contentsOfFile: tokenizerFixture("train.txt"), encoding: .utf8)
    return try BPETokenizer.train([text], vocabSize: 500, minFrequency: 2, specialTokens: ["<|endoftext|>"])
}

@Test func bpeByteAlphabet() {
    let m = GPT2ByteLevel.byteToScalar
    #expect(Set(m).count == 256)
    #expect(m[0x20] == 0x120 && m[0x0A] == 0x10A && m[0x00] == 0x100 && m[0xAD] == 0x143)
    #expect(m[Int(UInt8(ascii: "A"))] == 0x41 && m[0xFF] == 0xFF)
    #expect(GPT2ByteLevel.token(forBytes: Array(" hi\n".utf8)) == "ĠhiĊ")
    #expect(GPT2ByteLevel.bytes(ofToken: "ĠhiĊ") == Array(" hi\n".utf8))
    #expect(GPT2ByteLevel.bytes(ofToken: "世") == nil)
}

@Test func bpePreTokenizerMatchesPythonRegex() throws {
    for c in try fixtureCases("pretokenize_cases.json") {
        let text = try #require(c["text"] as? String), pieces = try #require(c["pieces"] as? [String])
        #expect(GPT2PreTokenizer.pieces(text) == pieces, "\(text.debugDescription)")
    }
    #expect(GPT2PreTokenizer.pieces("Hello world's  end") == ["Hello", " world", "'s", " ", " end"])
    #expect(GPT2PreTokenizer.pieces("a\n\nb  ") == ["a", "\n", "\n", "b", "  "])  // `\s+(?!\S)` backs off one
}

@Test func bpeTrainingMatchesHFTrainer() throws {
    let ours = try trainedFixtureTokenizer()
    let hf = try TokenizerJSON.load(path: tokenizerFixture("hf_bpe500.json"))
    #expect(ours.tokens == hf.tokens)
    #expect(ours.merges.map { [$0.0, $0.1] } == hf.merges.map { [$0.0, $0.1] })
    #expect(ours.addedTokens.map(\.id) == [0] && ours.vocabSize == 500)
}

@Test func bpeRoundTrips() throws {
    let tok = try trainedFixtureTokenizer()
    let texts = [
        "", "hello world", "人工智能正在改变世界。", "emoji 😀👍🏽 👨‍👩‍👧 🇫🇷", "  spaces\t\ttabs\n\n",
        "it's <|endoftext|>twice<|endoftext|><|endoftext|>", String(repeating: "ab", count: 200),
        String(repeating: "数据", count: 100), "e\u{301}\u{0}\u{7F}\u{1C}", "\u{10FFFF}\u{E000}"
    ]
    for s in texts {
        let ids = try tok.encodeIDs(s)
        #expect(try tok.decode(ids) == s, "\(s.debugDescription)")
        #expect(try tok.decode(try tok.encode(s)) == s)
    }
    let eot = try #require(tok.tokenToID("<|endoftext|>"))
    #expect(try tok.encodeIDs("<|endoftext|>") == [eot])
    #expect(try tok.encodeIDs("a<|endoftext|>b").contains(eot))
    #expect(tok.idToToken(eot) == "<|endoftext|>" && tok.idToToken(-1) == nil && tok.idToToken(500) == nil)
    #expect(throws: DataError.self) { try tok.decode([500]) }
    // A cut multi-byte character decodes to U+FFFD, never an error.
    let bytes = try tok.decodeToBytes(try tok.encodeIDs("世"))
    #expect(String(decoding: bytes.prefix(2), as: UTF8.self) == "\u{FFFD}")
}

@Test func bpeInvalidUTF8IsRepaired() throws {
    let tok = try trainedFixtureTokenizer()
    let bad: [UInt8] = [0x61, 0xFF, 0x62, 0xE4, 0xB8, 0x20, 0xED, 0xA0, 0x80, 0x63]
    let ids = try bad.withUnsafeBufferPointer { try tok.encodeInt32(utf8: $0) }
    #expect(ids.map(Int.init) == (try tok.encodeIDs(String(decoding: bad, as: UTF8.self))))
    var trainer = BPETrainer()
    bad.withUnsafeBufferPointer { trainer.add(utf8: $0) }
    #expect(trainer.distinctWords > 0)
}

@Test func bpeTableRoundTrip() throws {
    let tok = try trainedFixtureTokenizer()
    let copy = try #require(try TokenizerCoding.decode(tok.toJSONObject()) as? BPETokenizer)
    #expect(copy.tokens == tok.tokens && copy.merges.map { [$0.0, $0.1] } == tok.merges.map { [$0.0, $0.1] })
    #expect(copy.addedTokens == tok.addedTokens)
    let s = "The quick 狐狸 jumps 😀<|endoftext|>"
    #expect(try copy.encodeIDs(s) == (try tok.encodeIDs(s)))
    #expect(throws: DataError.self) { _ = try BPETokenizer(jsonObject: ["type": "bpe", "vocab": ["a"], "merges": ["a b"]]) }
}

@Test func bpeTrainerOptions() throws {
    #expect(throws: DataError.self) { _ = try BPETokenizer.train(["x"], vocabSize: 100) }
    #expect(throws: DataError.self) { _ = try BPETokenizer.train(["x"], vocabSize: 300, specialTokens: ["<s>", "<s>"]) }
    #expect(throws: DataError.self) { _ = try BPETokenizer.train(["x"], vocabSize: 300, minFrequency: -1) }
    let tok = try BPETokenizer.train(["low lower lowest low low"], vocabSize: 300, minFrequency: 3)
    // "l o" and "o w" (5 each; the smaller id pair wins the tie), then "lo w" (5), "Ġ low" (4); "low e" is 2.
    #expect(tok.merges.map { tok.tokens[Int($0.0)] + " " + tok.tokens[Int($0.1)] } == ["l o", "lo w", "Ġ low"])
    #expect(tok.vocabSize == 259)
    let none = try BPETokenizer.train([], vocabSize: 257, specialTokens: ["<pad>"])
    #expect(none.vocabSize == 257 && none.merges.isEmpty && none.tokenToID("<pad>") == 0)
    #expect(try none.decode(try none.encode("any text ü")) == "any text ü")
}

@Test func bpeRandomRoundTrips() throws {
    let tok = try trainedFixtureTokenizer()
    var state: UInt64 = 0x1234_5678
    func next(_ n: UInt64) -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return (state >> 33) % n }
    let ranges: [ClosedRange<UInt32>] = [0x20...0x7E, 0x09...0x0D, 0xA0...0x2FF, 0x4E00...0x4FFF, 0x1F300...0x1F64F, 0x300...0x36F]
    for _ in 0..<150 {
        var s = String.UnicodeScalarView()
        for _ in 0..<Int(next(80)) {
            let r = ranges[Int(next(UInt64(ranges.count)))]
            s.append(Unicode.Scalar(r.lowerBound + UInt32(next(UInt64(r.count))))!)
        }
        let text = String(s)
        #expect(try tok.decode(try tok.encodeIDs(text)) == text)
        var bytes = Array(text.utf8)  // random bytes flipped: never a crash, always the repaired text
        if !bytes.isEmpty { bytes[Int(next(UInt64(bytes.count)))] = UInt8(next(256)) }
        let ids = try bytes.withUnsafeBufferPointer { try tok.encodeInt32(utf8: $0) }
        #expect(try tok.decode(ids.map(Int.init)) == String(decoding: bytes, as: UTF8.self))
    }
}
