// FormatError: every failure of a file-format reader or writer (safetensors, JSON, checkpoints).
// Readers treat files as hostile; each rejection is a thrown FormatError whose description names the
// format, the file and (where there is one) the entry, never a trap.
import LLMCore

/// An error reading or writing a file format. `description` is the user-facing message.
public struct FormatError: UserFacingError, Equatable, Sendable {
    /// The full message, e.g. `safetensors: tensor 'w': unknown dtype 'F99' in 'model.safetensors'`.
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
