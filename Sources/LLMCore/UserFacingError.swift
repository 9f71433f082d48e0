// UserFacingError: the one protocol every engine error type adopts (TensorError, DataError, FormatError,
// ...). Its `description` is the complete message a user sees — a Lua error raised by the bridge, a line
// printed by the CLI — worded per DESIGN.md §2. The Lua bridge maps every such error in one place (the
// dispatcher in LLMLua/Bridge/Binding.swift); bindings do not catch and re-wrap them.

/// An engine error whose `description` is the message shown to the user as is.
///
/// ```swift
/// struct ShardError: UserFacingError { let description: String }
/// // thrown from a binding: Lua sees `shards: ...` at the caller's line
/// ```
public protocol UserFacingError: Error, CustomStringConvertible {
    /// Whether the bridge prefixes the message with the Lua function's name (`sample: ...`), for
    /// errors whose message does not name its subject. Default: false (the message names it).
    static var prefixedWithFunctionName: Bool { get }
}

extension UserFacingError {
    public static var prefixedWithFunctionName: Bool { false }
}

extension TensorError: UserFacingError {}
