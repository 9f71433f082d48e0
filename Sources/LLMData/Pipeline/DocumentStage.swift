// The document model and the stage protocols every pipeline step implements (issue 4).
// A `Document` is text + id + string-valued meta (JSON non-string values are kept as their JSON text).
// A `DocumentStage` is pure and Sendable: `Pipeline` runs it on a thread pool over chunks and keeps
// input order. An `OrderedDocumentStage` (dedup, anything with state across documents) is run
// sequentially, in input order, on one thread. Stages never trap on bad text; they drop with a reason.

/// One document flowing through a pipeline.
///
/// ```swift
/// let doc = Document(text: "hello", id: "a.txt:1", meta: ["source": "a.txt"])
/// ```
public struct Document: Sendable {
    /// The document's text (valid Unicode; readers repair or reject invalid UTF-8).
    public var text: String
    /// A stable identifier (a reader's default is `path:line` or `path:index`).
    public var id: String
    /// Metadata; JSON non-string values are stored as their JSON text.
    public var meta: [String: String]

    /// Creates a document.
    public init(text: String, id: String, meta: [String: String] = [:]) {
        self.text = text
        self.id = id
        self.meta = meta
    }
}

/// What a stage decides for one document.
public enum StageOutcome: Sendable {
    /// Keep the (possibly modified) document.
    case keep(Document)
    /// Drop the document. The report counts drops by the reason's category, the text before the
    /// first `": "` (`"too short: 3 words"` counts as `"too short"`); the rejects file keeps it whole.
    case drop(reason: String)
}

/// A stateless (or internally synchronized) step that may run on many threads at once.
///
/// ```swift
/// struct Lowercase: DocumentStage {
///     let name = "lowercase"
///     func process(_ doc: Document) throws -> StageOutcome {
///         var d = doc; d.text = d.text.lowercased(); return .keep(d)
///     }
/// }
/// ```
/// A thrown error stops the pipeline run (use `.drop` for bad documents).
public protocol DocumentStage: Sendable {
    /// A short name shown in the report (`"normalize"`, `"gopherQuality"` ...).
    var name: String { get }
    /// Processes one document.
    func process(_ doc: Document) throws -> StageOutcome
}

/// A step that needs every document in input order (dedup): run sequentially on one thread.
public protocol OrderedDocumentStage: AnyObject {
    /// A short name shown in the report.
    var name: String { get }
    /// Processes one document; called in input order.
    func process(_ doc: Document) throws -> StageOutcome
}
