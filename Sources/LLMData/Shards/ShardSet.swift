// ShardSet: a folder of token shards plus `shards.json` (format, version, vocab size, token width, and
// per split the shard files with their token and document counts). The writer assigns whole documents
// to train or val (a seeded hash of the document index, so the split is by document and reproducible),
// cuts a new shard every `shardTokens` tokens, and writes the manifest last, atomically.
import Foundation
import LLMCore
import LLMIO

/// Writes documents of token ids into train/val shards.
///
/// ```swift
/// let w = try ShardSetWriter(folder: "data/shards", vocabSize: 8192, valFraction: 0.05)
/// for doc in docs { try w.add(doc) }
/// let manifest = try w.finish()
/// ```
public final class ShardSetWriter {
    public let folder: String
    public let vocabSize: Int
    let shardTokens: Int, valFraction: Double, seed: UInt64
    var pending: [String: [[Int]]] = ["train": [], "val": []]
    var pendingTokens: [String: Int] = ["train": 0, "val": 0]
    var files: [String: [[String: Any]]] = ["train": [], "val": []]
    var documents = 0
    var finished = false
    /// The pending documents' native bytes, charged to the memory budget current when the writer was made.
    let held = MemoryCharge()

    public init(folder: String, vocabSize: Int, valFraction: Double = 0, shardTokens: Int = 50_000_000, seed: UInt64 = 0) throws {
        guard vocabSize > 0, vocabSize <= Int(UInt32.max) + 1 else { throw DataError.batch("shards: vocabSize must be in 1...2^32, got \(vocabSize)") }
        guard valFraction >= 0, valFraction < 1 else { throw DataError.batch("shards: valFraction must be in [0, 1), got \(valFraction)") }
        guard shardTokens > 0 else { throw DataError.batch("shards: shardTokens must be positive, got \(shardTokens)") }
        do { try Files.makeDirectories(folder, what: "shards") } catch let e as FileError {
            throw DataError.batch(e.denied ? e.message : "shards: cannot create folder '\(folder)': \(e.message)")
        }
        self.folder = folder; self.vocabSize = vocabSize; self.valFraction = valFraction
        self.shardTokens = shardTokens; self.seed = seed
    }

    /// The split a document index goes to (splitmix64 of seed and index, compared with valFraction).
    func split(of index: Int) -> String {
        var z = seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) * 0x1.0p-53 < valFraction ? "val" : "train"
    }

    /// Adds one document (token ids); `split` forces "train" or "val".
    public func add(_ tokens: [Int], split forced: String? = nil) throws {
        guard !finished else { throw DataError.batch("shards: the writer is already finished") }
        if let f = forced, f != "train" && f != "val" { throw DataError.batch("shards: split must be 'train' or 'val', got '\(f)'") }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= vocabSize }) {
            throw DataError.batch("shards: token id \(bad) in document \(documents + 1) is out of range for vocabSize \(vocabSize)")
        }
        let s = forced ?? split(of: documents)
        try held.set(held.bytes &+ tokens.count &* 8 &+ 32)  // before the copy is kept
        documents += 1
        pending[s, default: []].append(tokens)
        pendingTokens[s, default: 0] += tokens.count
        if pendingTokens[s]! >= shardTokens { try flush(s) }
    }

    func flush(_ s: String) throws {
        guard let docs = pending[s], !docs.isEmpty else { return }
        let name = String(format: "%@-%05d.bin", s, files[s]!.count)
        try ShardFile.write(path: folder + "/" + name, documents: docs, vocabSize: vocabSize)
        files[s]!.append(["file": name, "tokens": pendingTokens[s]!, "documents": docs.count])
        try held.set(held.bytes &- pendingTokens[s]! &* 8 &- docs.count &* 32)
        pending[s] = []
        pendingTokens[s] = 0
    }

    /// Writes the remaining shards and the manifest; returns the manifest.
    @discardableResult public func finish() throws -> [String: Any] {
        guard !finished else { throw DataError.batch("shards: the writer is already finished") }
        try flush("train"); try flush("val")
        finished = true
        let manifest: [String: Any] = [
            "format": "llmscript-shards", "version": 1, "vocabSize": vocabSize,
            "tokenWidth": vocabSize <= 65536 ? 2 : 4, "documents": documents,
            "train": files["train"]!, "val": files["val"]!
        ]
        let data = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
        try ShardFile.writeAtomically(data, to: folder + "/shards.json")
        return manifest
    }
}

/// The shards of one split of a shard folder, validated against the manifest.
public struct ShardSplit: Sendable {
    public let shards: [ShardFile]
    public let vocabSize: Int

    public init(folder: String, split: String) throws {
        func bad(_ m: String) -> DataError { .batch("shards '\(folder)': \(m)") }
        guard split == "train" || split == "val" else { throw bad("split must be 'train' or 'val', got '\(split)'") }
        let bytes: [UInt8]
        do { bytes = try Files.readAll(folder + "/shards.json", maxBytes: 1 << 30, what: "shards") } catch let e as FileError {
            if e.denied { throw DataError.batch(e.message) }
            throw bad("no shards.json (is this a shard folder written by llm.data.ShardWriter?)")
        }
        guard let m = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any],
            m["format"] as? String == "llmscript-shards", m["version"] as? Int == 1,
            let vocab = m["vocabSize"] as? Int, let list = m[split] as? [[String: Any]]
        else {
            throw bad("shards.json is not a version 1 llmscript shard manifest")
        }
        var shards: [ShardFile] = []
        for entry in list {
            guard let name = entry["file"] as? String, !name.contains("/"), let tokens = entry["tokens"] as? Int else {
                throw bad("shards.json has a malformed entry")
            }
            let shard = try ShardFile(path: folder + "/" + name)
            guard shard.tokenCount == tokens, shard.vocabSize == vocab else {
                throw bad("\(name) holds \(shard.tokenCount) tokens (vocab \(shard.vocabSize)) but shards.json says \(tokens) (vocab \(vocab))")
            }
            shards.append(shard)
        }
        self.shards = shards
        vocabSize = vocab
    }
}
