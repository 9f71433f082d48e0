// tokenizer.json: HF fixtures in both merge forms encode exactly as HF tokenizers did (T-02, T-03), the
// export -> import round trip is identical, and malformed or unsupported files are rejected with a
// message naming the problem (T-05). Fixtures: Tests/Fixtures/tokenizers (make_tokenizer_fixtures.py).
import Foundation
import Testing
@testable import LLMData

@Test func bpeHFFixtureEncodesIdentically() throws {
    let pairs = try TokenizerJSON.load(path: tokenizerFixture("hf_bpe500.json"))
    let legacy = try TokenizerJSON.load(path: tokenizerFixture("hf_bpe500_legacy.json"))
    #expect(pairs.merges.count == 243 && legacy.merges.count == 243)
    for c in try fixtureCases("hf_bpe500_cases.json") {
        let text = try #require(c["text"] as? String), ids = try #require(c["ids"] as? [Int])
        #expect(try pairs.encodeIDs(text) == ids, "\(text.debugDescription)")
        #expect(try legacy.encodeIDs(text) == ids, "\(text.debugDescription)")
        #expect(try pairs.decode(ids) == text)
    }
}

@Test func bpeExportImportRoundTrip() throws {
    let tok = try trainedFixtureTokenizer()
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-\(UUID().uuidString).json").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try TokenizerJSON.save(tok, path: path)
    let back = try TokenizerJSON.load(path: path)
    #expect(back.tokens == tok.tokens && back.addedTokens == tok.addedTokens && back.options == tok.options)
    #expect(back.merges.map { [$0.0, $0.1] } == tok.merges.map { [$0.0, $0.1] })
    for c in try fixtureCases("hf_bpe500_cases.json") {
        let text = try #require(c["text"] as? String)
        #expect(try back.encodeIDs(text) == (try tok.encodeIDs(text)))
    }
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains("\"merges\": [") && text.contains("\"type\": \"ByteLevel\""))
    // The committed export (checked by HF tokenizers in make_tokenizer_fixtures.py) is still what we write.
    #expect(text == (try String(contentsOfFile: tokenizerFixture("llmscript_bpe500.json"), encoding: .utf8)))
}

/// The message of the error `parse` throws for `json`.
private func rejection(_ json: String) -> String {
    do { _ = try TokenizerJSON.parse(Array(json.utf8), source: "t.json"); return "accepted" } catch { return "\(error)" }
}

/// A minimal byte-level BPE file whose vocab is the 256 byte tokens plus `extra`, with `merges`.
private func file(
    extra: String = "", merges: String = "[]", model: String = "\"type\": \"BPE\"",
    pre: String = #"{"type": "ByteLevel", "add_prefix_space": false}"#, top: String = ""
) -> String {
    let vocab = GPT2ByteLevel.sortedAlphabet.enumerated().map {
        "\"\($0.element.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\": \($0.offset)"
    }
    return #"{"pre_tokenizer": \#(pre), \#(top) "model": {\#(model), "vocab": {\#((vocab + (extra.isEmpty ? [] : [extra])).joined(separator: ", "))}, "merges": \#(merges)}}"#
}

@Test func bpeRejectsMalformedFiles() throws {
    #expect(rejection(file(extra: #""ab": 256"#, merges: #"[["a", "b"]]"#)) == "accepted")
    #expect(rejection(file(extra: #""ab": 256"#, merges: #"["a b"]"#)) == "accepted")
    #expect(rejection("").contains("empty"))
    #expect(rejection("{").contains("not valid JSON"))
    #expect(rejection("[1]").contains("JSON object"))
    #expect(rejection("{}").contains("missing 'model'"))
    #expect(rejection(file(model: "\"type\": \"WordPiece\"")).contains("model type 'WordPiece' is not supported"))
    #expect(rejection(file(model: "\"type\": \"Unigram\"")).contains("model type 'Unigram' is not supported"))
    #expect(rejection(file(extra: #""ab": 256"#, merges: #"[["a", "zz"]]"#)).contains("'zz', which is not in the vocab"))
    #expect(rejection(file(extra: #""ab": 256"#, merges: #"[["a", "c"]]"#)).contains("merged token 'ac' is not in the vocab"))
    #expect(rejection(file(extra: #""ab": 256"#, merges: #"["a  b"]"#)).contains("two tokens separated by one space"))
    #expect(rejection(file(extra: #""ab": 256"#, merges: "{}")).contains("must be an array"))
    #expect(rejection(file(extra: #""ab": 5"#)).contains("duplicate id 5"))
    #expect(rejection(file(extra: #""ab": 300"#)).contains("not contiguous"))
    #expect(rejection(file(extra: #""ab": 256"#)).contains("'model.merges' is empty"))
    #expect(rejection(file(extra: #""ab": -1"#)).contains("non-negative integer id"))
    #expect(rejection(file(pre: #"{"type": "Whitespace"}"#)).contains("pre_tokenizer 'Whitespace' is not supported"))
    #expect(rejection(file(pre: "null")).contains("only byte-level BPE"))
    #expect(rejection(file(top: #""normalizer": {"type": "NFC"},"#)).contains("normalizer 'NFC' is not supported"))
    #expect(rejection(file(top: #""decoder": {"type": "WordPiece"},"#)).contains("decoder 'WordPiece'"))
    #expect(rejection(file(top: #""added_tokens": [{"id": 3, "content": "<s>"}],"#)).contains("which the vocab gives to"))
    #expect(rejection(file(top: #""added_tokens": [{"id": 257, "content": "<s>"}],"#)).contains("not contiguous"))
    #expect(rejection(file(top: #""added_tokens": [{"id": 256, "content": "<s>"}],"#)) == "accepted")
    #expect(rejection(file(top: #""added_tokens": [{"id": 256, "content": "<s>", "lstrip": true}],"#)).contains("'lstrip': true is not supported"))
    #expect(rejection(file(model: #""type": "BPE", "dropout": 0.1"#)).contains("dropout"))
    #expect(throws: DataError.self) { _ = try TokenizerJSON.load(path: "/nonexistent/tokenizer.json") }
    #expect(throws: DataError.self) { _ = try TokenizerJSON.load(path: "/tmp") }
}

@Test func bpeImportOptions() throws {
    let tok = try TokenizerJSON.parse(
        Array(
            file(
                extra: #""Ġa": 256"#, merges: #"[["Ġ", "a"]]"#,
                pre: #"{"type": "ByteLevel", "add_prefix_space": true}"#
            ).utf8))
    #expect(tok.options.addPrefixSpace)
    #expect(try tok.encodeIDs("a") == [256])  // " a" after the prefix space
    #expect(try tok.encodeIDs(" a") == [256])
}
