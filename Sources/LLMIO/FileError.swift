// FileError: what the IO layer throws. `message` is complete and user-facing: `what: cannot open 'p': reason`
// for a system error, or the sandbox's denial (`sandbox: reading 'p' is not allowed (...)`) unchanged.
#if canImport(Glibc)
    import Glibc
#endif

/// An IO failure with a ready-to-show message.
public struct FileError: Error, CustomStringConvertible, Sendable {
    /// The whole message.
    public let message: String
    /// True when the sandbox's file policy refused the path (the message is then the denial).
    public let denied: Bool
    /// The errno of a system error (0 for a denial or a format problem).
    public let code: Int32

    /// An error with a complete `message`.
    public init(_ message: String, denied: Bool = false, code: Int32 = 0) {
        self.message = message; self.denied = denied; self.code = code
    }
    public var description: String { message }

    /// `what: cannot <verb> 'path': strerror(errno)` for the current errno.
    static func system(_ what: String, _ verb: String, _ path: String, _ code: Int32 = errno) -> FileError {
        FileError("\(what): cannot \(verb) '\(path)': \(String(cString: strerror(code)))", code: code)
    }
}

/// The text of a NUL-terminated C buffer.
func string(fromCBuffer buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
