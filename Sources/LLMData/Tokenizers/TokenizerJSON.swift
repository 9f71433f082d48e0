// TokenizerJSON: reads Hugging Face `tokenizer.json` files of byte-level BPE tokenizers (GPT-2 style)
// into a BPETokenizer. The file is hostile input: strict JSON (LLMFormats' parser), then every field is
// checked: model type BPE; pre-tokenizer ByteLevel; no normalizer; decoder/post-processor ByteLevel or
// null; merges as "a b" strings or ["a", "b"] pairs, both sides and the result in the vocabulary; ids
// unique and contiguous. Each rejection is a DataError naming the file and the problem.
import LLMIO
import Foundation
import LLMFormats

/// Hugging Face `tokenizer.json` import and export for byte-level BPE.
///
/// ```swift
/// let tok = try TokenizerJSON.load(path: "gpt2/tokenizer.json")
/// try TokenizerJSON.save(tok, path: "out/tokenizer.json")
/// ```
public enum TokenizerJSON {
    /// Files larger than this are rejected before parsing.
    public static let maxFileBytes = 1 << 30

    /// Loads the tokenizer at `path`.
    /// - Throws: ``DataError/tokenizer(_:)`` for an unreadable, malformed or unsupported file.
    public static func load(path: String) throws -> BPETokenizer {
        let name = "tokenizer.json '\(path)'"
        let bytes: [UInt8]
        do { bytes = try Files.readAll(path, maxBytes: maxFileBytes, what: name) } catch let e as FileError {
            if e.denied { throw DataError.tokenizer(e.message) }
            if e.code == ENOENT { throw DataError.tokenizer("\(name): no such file") }
            if Files.isDirectory(path) { throw DataError.tokenizer("\(name): is a directory, not a file") }
            if e.code == 0 && Files.isRegularFile(path) { throw DataError.tokenizer("\(name): larger than \(maxFileBytes) bytes") }
            throw DataError.tokenizer(e.code != 0 ? "\(name): cannot be opened for reading" : e.message)
        }
        return try parse(bytes, source: name)
    }

    /// Parses the bytes of a `tokenizer.json`; `source` names it in error messages.
    public static func parse(_ bytes: [UInt8], source: String = "tokenizer.json") throws -> BPETokenizer {
        func fail(_ m: String) -> DataError { .tokenizer("\(source): \(m)") }
        guard !bytes.isEmpty else { throw fail("the file is empty") }
        let root: JSONValue
        do { root = try JSONParser.parse(bytes) } catch let e as FormatError {
            throw fail("not valid JSON: \(e.message)")
        }
        guard case .object = root else { throw fail("expected a JSON object at the top level, got \(root.kindName)") }
        guard let model = root["model"], case .object = model else { throw fail("missing 'model' object") }
        let type = model["type"]?.string ?? (model["merges"] != nil ? "BPE" : "")
        guard type == "BPE" else {
            throw fail("model type '\(type.isEmpty ? "(none)" : type)' is not supported; only byte-level BPE ('BPE' with a ByteLevel pre-tokenizer) can be loaded")
        }
        try checkComponents(root, fail)
        try checkModelFlags(model, fail)
        var options = BPEOptions()
        if let pre = root["pre_tokenizer"] {
            options.addPrefixSpace = try flag(pre, "add_prefix_space", false, "pre_tokenizer", fail)
            options.useRegex = try flag(pre, "use_regex", true, "pre_tokenizer", fail)
        }
        options.ignoreMerges = try flag(model, "ignore_merges", false, "model", fail)

        // Vocabulary: token -> id, ids unique.
        guard let vocabMembers = model["vocab"]?.members else { throw fail("'model.vocab' must be an object of token -> id") }
        var byID: [Int: String] = [:]
        for m in vocabMembers {
            guard let id64 = m.value.int, id64 >= 0, id64 < Int64(Int32.max) else {
                throw fail("vocab entry '\(m.key)' must have a non-negative integer id, got \(m.value.kindName)")
            }
            let id = Int(id64)
            if let other = byID.updateValue(m.key, forKey: id) { throw fail("duplicate id \(id) in vocab ('\(other)' and '\(m.key)')") }
        }
        let modelIDs = Set(byID.keys)

        // Added tokens: may reuse a model id (same content) or extend the id range.
        var added: [BPEAddedToken] = []
        if let list = root["added_tokens"], list != .null {
            guard let items = list.array else { throw fail("'added_tokens' must be an array") }
            for (k, item) in items.enumerated() {
                guard let content = item["content"]?.string, !content.isEmpty, let id64 = item["id"]?.int,
                    id64 >= 0, id64 < Int64(Int32.max)
                else {
                    throw fail("added_tokens[\(k)] needs a non-empty 'content' string and a non-negative integer 'id'")
                }
                for key in ["lstrip", "rstrip", "single_word"] where item[key] == .bool(true) {
                    throw fail("added token '\(content)': '\(key)': true is not supported")
                }
                let id = Int(id64)
                if let existing = byID[id], existing != content {
                    throw fail("added token '\(content)' has id \(id), which the vocab gives to '\(existing)'")
                }
                byID[id] = content
                added.append(
                    BPEAddedToken(
                        id: id, content: content, special: item["special"] == .bool(true),
                        normalized: item["normalized"] == .bool(true)))
            }
        }

        // Ids must be exactly 0..<n.
        let n = byID.count
        guard n > 0 else { throw fail("the vocabulary is empty") }
        var tokens = [String](repeating: "", count: n)
        for (id, t) in byID {
            guard id < n else {
                let missing = (0..<n).first { byID[$0] == nil } ?? n
                throw fail("token ids are not contiguous: \(n) tokens, but id \(id) is used and id \(missing) is missing")
            }
            tokens[id] = t
        }
        let outside = Set(added.map(\.id)).subtracting(modelIDs)
        let merges = try readMerges(model["merges"], tokens: tokens, modelIDs: modelIDs, fail)
        if merges.isEmpty {
            let addedIDs = Set(added.map(\.id))
            let multi = modelIDs.filter { tokens[$0].unicodeScalars.count > 1 && !addedIDs.contains($0) }
            if !multi.isEmpty {
                throw fail("'model.merges' is empty but the vocab has \(multi.count) multi-character tokens; the merges are missing or in an unknown form")
            }
        }
        do {
            return try BPETokenizer(tokens: tokens, merges: merges, addedTokens: added, addedOutsideModel: outside, options: options)
        } catch let e as DataError {
            throw fail(e.description.replacingOccurrences(of: "BPETokenizer: ", with: ""))
        }
    }

    /// Merges in either form: `"a b"` strings (legacy) or `["a", "b"]` pairs (tokenizers >= 0.20).
    static func readMerges(_ v: JSONValue?, tokens: [String], modelIDs: Set<Int>, _ fail: (String) -> DataError) throws -> [(Int32, Int32)] {
        guard let items = v?.array else { throw fail("'model.merges' must be an array") }
        var ids = [String: Int32](minimumCapacity: modelIDs.count)
        for id in modelIDs { ids[tokens[id]] = Int32(id) }
        var out: [(Int32, Int32)] = []
        out.reserveCapacity(items.count)
        for (k, item) in items.enumerated() {
            let a: String, b: String
            switch item {
            case .string(let s):
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw fail("merges[\(k)] '\(s)' must be two tokens separated by one space") }
                a = String(parts[0]); b = String(parts[1])
            case .array(let pair):
                guard pair.count == 2, let x = pair[0].string, let y = pair[1].string else {
                    throw fail("merges[\(k)] must be a pair of two token strings")
                }
                a = x; b = y
            default:
                throw fail("merges[\(k)] must be a string \"a b\" or a pair [\"a\", \"b\"], got \(item.kindName)")
            }
            guard let ia = ids[a] else { throw fail("merges[\(k)] ('\(a)' '\(b)') uses '\(a)', which is not in the vocab") }
            guard let ib = ids[b] else { throw fail("merges[\(k)] ('\(a)' '\(b)') uses '\(b)', which is not in the vocab") }
            guard ids[a + b] != nil else { throw fail("merges[\(k)] ('\(a)' '\(b)'): the merged token '\(a + b)' is not in the vocab") }
            out.append((ia, ib))
        }
        return out
    }

    /// Normalizer, pre-tokenizer, decoder and post-processor must be the byte-level ones (or null).
    private static func checkComponents(_ root: JSONValue, _ fail: (String) -> DataError) throws {
        func typeOf(_ key: String) throws -> String? {
            guard let v = root[key], v != .null else { return nil }
            guard let t = v["type"]?.string else { throw fail("'\(key)' must be null or an object with a 'type'") }
            return t
        }
        if let t = try typeOf("normalizer") { throw fail("normalizer '\(t)' is not supported (only null)") }
        guard let pre = try typeOf("pre_tokenizer") else { throw fail("pre_tokenizer is null; only byte-level BPE (a ByteLevel pre-tokenizer) is supported") }
        guard pre == "ByteLevel" else { throw fail("pre_tokenizer '\(pre)' is not supported (only ByteLevel)") }
        if let t = try typeOf("decoder"), t != "ByteLevel" { throw fail("decoder '\(t)' is not supported (only ByteLevel)") }
        if let t = try typeOf("post_processor"), t != "ByteLevel" { throw fail("post_processor '\(t)' is not supported (only ByteLevel or null)") }
    }

    private static func checkModelFlags(_ model: JSONValue, _ fail: (String) -> DataError) throws {
        if let d = model["dropout"], d != .null, d != .int(0), d != .double(0) { throw fail("model.dropout is not supported (must be null)") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key], v != .null, v != .string("") { throw fail("model.\(key) is not supported (must be null or empty)") }
        }
    }

    /// A boolean member of `v` (default when absent or null).
    private static func flag(_ v: JSONValue, _ key: String, _ def: Bool, _ owner: String, _ fail: (String) -> DataError) throws -> Bool {
        guard let x = v[key], x != .null else { return def }
        guard case .bool(let b) = x else { throw fail("'\(owner).\(key)' must be a boolean, got \(x.kindName)") }
        return b
    }
}
