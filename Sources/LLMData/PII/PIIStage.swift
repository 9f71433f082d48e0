// PIIStage: PII scrubbing as a pipeline step. Replaces data by placeholders, records the document's own
// counts in meta["pii"] (`email=1,phone=2`, only when something was replaced), and accumulates totals
// per kind across all documents (thread-safe; the pipeline may run it on many threads).
import Synchronization

/// Pipeline step: scrubs PII and counts replacements.
///
/// ```swift
/// let stage = PIIStage()
/// _ = try stage.process(Document(text: "a@b.com", id: "1"))
/// stage.totals()   // [.email: 1]
/// ```
public final class PIIStage: DocumentStage {
    public let name: String
    public let scrubber: PIIScrubber
    let counts = Mutex<[PIIKind: Int]>([:])

    public init(_ scrubber: PIIScrubber = PIIScrubber(), name: String = "pii") {
        self.scrubber = scrubber; self.name = name
    }

    /// Replacements per kind over every document processed so far.
    public func totals() -> [PIIKind: Int] { counts.withLock { $0 } }

    public func process(_ doc: Document) throws -> StageOutcome {
        let (t, c) = scrubber.scrub(doc.text)
        guard !c.isEmpty else { return .keep(doc) }
        var d = doc
        d.text = t
        d.meta["pii"] = PIIKind.allCases.compactMap { k in c[k].map { "\(k.rawValue)=\($0)" } }.joined(separator: ",")
        counts.withLock { total in for (k, v) in c { total[k, default: 0] += v } }
        return .keep(d)
    }
}
