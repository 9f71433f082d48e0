// DataError: every failure of the data module (corpus reading, tokenizers, splits, batches) is thrown,
// never trapped. `description` is the user-facing message and names the subject first
// (`corpus: no such file or directory: /x`, `CharTokenizer.encode: ...`, `Batcher: ...`).
import LLMCore

/// An error raised by the data pipeline. `description` is the complete user-facing message.
///
/// ```swift
/// do { _ = try TextCorpus.read(["/nope"]) } catch let e as DataError { print(e) }
/// // corpus: no such file or directory: /nope
/// ```
public enum DataError: UserFacingError, Equatable {
    /// A corpus path, file or content problem (missing, unreadable, empty, binary, too large).
    case corpus(String)
    /// A tokenizer problem (unknown character, id out of range, bad serialized form).
    case tokenizer(String)
    /// A split, window or batch problem (too little data, bad sizes, bad state).
    case batch(String)

    public var description: String {
        switch self {
        case .corpus(let m), .tokenizer(let m), .batch(let m): return m
        }
    }
}
