// TokenizerJSONExport: writes a BPETokenizer as a Hugging Face `tokenizer.json` in the layout tokenizers
// 0.23 writes (pretty-printed; model.vocab ordered by id; merges as ["a", "b"] pairs, the form of
// tokenizers >= 0.20), with GPT-2's ByteLevel pre-tokenizer, post-processor and decoder. The file is
// written to a temporary name and renamed, so a failed save never leaves a partial file.
import LLMIO
import Foundation
import LLMFormats

extension TokenizerJSON {
    /// The `tokenizer.json` document of `tok`.
    public static func document(_ tok: BPETokenizer) -> JSONValue {
        func m(_ k: String, _ v: JSONValue) -> JSONMember { JSONMember(k, v) }
        func byteLevel(prefix: Bool, trim: Bool) -> JSONValue {
            .object([
                m("type", .string("ByteLevel")), m("add_prefix_space", .bool(prefix)), m("trim_offsets", .bool(trim)),
                m("use_regex", .bool(tok.options.useRegex))
            ])
        }
        let added: [JSONValue] = tok.addedTokens.map { t in
            .object([
                m("id", .int(Int64(t.id))), m("content", .string(t.content)), m("single_word", .bool(false)),
                m("lstrip", .bool(false)), m("rstrip", .bool(false)), m("normalized", .bool(t.normalized)),
                m("special", .bool(t.special))
            ])
        }
        var vocab: [JSONMember] = []
        vocab.reserveCapacity(tok.tokens.count)
        for (i, t) in tok.tokens.enumerated() where !tok.addedOutsideModel.contains(i) { vocab.append(m(t, .int(Int64(i)))) }
        let merges: [JSONValue] = tok.merges.map { .array([.string(tok.tokens[Int($0.0)]), .string(tok.tokens[Int($0.1)])]) }
        let model: JSONValue = .object([
            m("type", .string("BPE")), m("dropout", .null), m("unk_token", .null), m("continuing_subword_prefix", .null),
            m("end_of_word_suffix", .null), m("fuse_unk", .bool(false)), m("byte_fallback", .bool(false)),
            m("ignore_merges", .bool(tok.options.ignoreMerges)), m("vocab", .object(vocab)), m("merges", .array(merges))
        ])
        return .object([
            m("version", .string("1.0")), m("truncation", .null), m("padding", .null), m("added_tokens", .array(added)),
            m("normalizer", .null),
            m("pre_tokenizer", byteLevel(prefix: tok.options.addPrefixSpace, trim: true)),
            m("post_processor", byteLevel(prefix: true, trim: false)),
            m("decoder", byteLevel(prefix: true, trim: true)),
            m("model", model)
        ])
    }

    /// The `tokenizer.json` text of `tok`.
    public static func export(_ tok: BPETokenizer) throws -> String {
        try JSONWriter.string(document(tok), indent: 2)
    }

    /// Writes `tok` to `path` atomically (temporary file, then rename).
    /// - Throws: ``DataError/tokenizer(_:)`` when the file cannot be written.
    public static func save(_ tok: BPETokenizer, path: String) throws {
        let text = try export(tok)
        do { try Files.writeAtomically(path, what: "tokenizer.json") { w in try w.write(Array(text.utf8)) } } catch let e as FileError {
            throw DataError.tokenizer(e.denied ? e.message : "tokenizer.json '\(path)': cannot write: \(e.message)")
        }
    }
}
