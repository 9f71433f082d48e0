// DedupExact: exact dedup by a content hash of the normalized text (lowercased, whitespace collapsed),
// 64-bit (XXH64) or 128-bit (two XXH64 lanes). Keeps the first document of each content; later ones are
// dropped with `exact_dedup: duplicate of <id>`. An ordered stage: documents must arrive in input order.
import LLMCore

/// Normalization and hashing for exact dedup.
public enum ExactDedupKey {
    /// Lowercased, whitespace-collapsed (line breaks included) text: the form that is hashed.
    public static func normalize(_ text: String) -> String {
        TextClean.collapseWhitespace(text.lowercased(), keepNewlines: false)
    }
}

/// Exact dedup stage (keep the first of each normalized content).
///
/// ```swift
/// let dd = ExactDedup()
/// try dd.process(Document(text: "Hello  World", id: "a"))   // keep
/// try dd.process(Document(text: "hello world", id: "b"))    // drop: exact_dedup: duplicate of a
/// ```
public final class ExactDedup: OrderedDocumentStage {
    public let name: String
    /// 128-bit hashes (default) or 64-bit.
    public let bits: Int
    var seen64 = HashIndex64()
    var seen128: [Hash128: UInt32] = [:]
    var ids = IdStore()
    /// Documents seen and dropped so far.
    public private(set) var seen = 0, duplicates = 0
    /// The index's bytes, charged to the memory budget current when the stage was made.
    let held = MemoryCharge()
    /// Approximate memory of the index and ids, in bytes (a dictionary entry of the 128-bit index: 20 bytes, ~1.5x slack).
    public var memoryBytes: Int { seen64.bytes + seen128.capacity * 30 + ids.bytes.count + ids.ends.count * 4 }

    public init(bits: Int = 128, name: String = "exactDedup") {
        self.bits = bits == 64 ? 64 : 128; self.name = name
    }

    /// True when `text` duplicates an earlier one (and records it otherwise). `id` names it in reasons.
    public func process(_ doc: Document) throws -> StageOutcome {
        seen += 1
        let key = ExactDedupKey.normalize(doc.text)
        let ordinal = UInt32(truncatingIfNeeded: ids.count)
        let first: UInt32
        if bits == 64 {
            first = seen64.insertIfAbsent(DedupHash.xxh64(key), ordinal)
        } else {
            let h = DedupHash.hash128(key)
            if let f = seen128[h] { first = f } else { seen128[h] = ordinal; first = ordinal }
        }
        if first != ordinal {
            duplicates += 1
            return .drop(reason: "\(name): duplicate of \(ids[Int(first)])")
        }
        ids.append(doc.id)
        if ids.count & 1023 == 0 { try held.set(memoryBytes) }
        return .keep(doc)
    }
}
