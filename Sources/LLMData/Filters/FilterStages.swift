// FilterStages: pipeline steps around the filters. `FilterStage` wraps any `String -> reason?` check
// (Gopher quality/repetition, length, script, bad words); `C4Stage` keeps the C4-filtered lines or drops
// the document. Both are pure and Sendable, so the pipeline may run them on many threads.

/// A keep-or-drop step built from a check that returns nil (keep) or a drop reason.
///
/// ```swift
/// let stage = FilterStage(name: "gopherQuality", GopherQuality().check)
/// ```
public struct FilterStage: DocumentStage {
    public let name: String
    let check: @Sendable (String) -> String?

    public init(name: String, _ check: @escaping @Sendable (String) -> String?) {
        self.name = name; self.check = check
    }

    public func process(_ doc: Document) throws -> StageOutcome {
        if let r = check(doc.text) { return .drop(reason: r) }
        return .keep(doc)
    }
}

extension FilterStage {
    /// The Gopher quality filter as a stage.
    public static func gopherQuality(_ f: GopherQuality = GopherQuality()) -> FilterStage { FilterStage(name: "gopherQuality", f.check) }
    /// The Gopher repetition filter as a stage.
    public static func gopherRepetition(_ f: GopherRepetition = GopherRepetition()) -> FilterStage { FilterStage(name: "gopherRepetition", f.check) }
    /// Length bounds as a stage.
    public static func length(_ f: LengthFilter) -> FilterStage { FilterStage(name: "length", f.check) }
    /// The script filter as a stage.
    public static func script(_ f: ScriptFilter) -> FilterStage { FilterStage(name: "script", f.check) }
    /// The bad-words filter as a stage.
    public static func badWords(_ f: BadWordsFilter) -> FilterStage { FilterStage(name: "badWords", f.check) }
}

/// The C4 rules as a stage: keeps the surviving lines, or drops with the C4 reason.
public struct C4Stage: DocumentStage {
    public let name: String
    public let filter: C4Filter

    public init(_ filter: C4Filter = C4Filter(), name: String = "c4") { self.filter = filter; self.name = name }

    public func process(_ doc: Document) throws -> StageOutcome {
        switch filter.apply(doc.text) {
        case .success(let t): var d = doc; d.text = t; return .keep(d)
        case .failure(let e): return .drop(reason: e.description)
        }
    }
}
