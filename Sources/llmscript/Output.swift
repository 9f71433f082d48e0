// Output: writes text to stdout/stderr without reordering it against Lua's buffered C stdio (print,
// io.write) or libedit's prompt: every write flushes all C streams first, then writes the fd directly.
// Never throws; a closed pipe just loses the text.
#if canImport(Glibc)
    import Glibc
#endif

enum Output {
    /// Writes `text` to standard output.
    static func out(_ text: String) { write(fd: 1, text) }
    /// Writes `text` to standard error.
    static func err(_ text: String) { write(fd: 2, text) }

    /// Ensures a line ends with a newline before writing it.
    static func line(_ text: String, toError: Bool = false) {
        let t = text.hasSuffix("\n") ? text : text + "\n"
        toError ? err(t) : out(t)
    }

    static func write(fd: Int32, _ text: String) {
        fflush(nil)
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buf in
                Glibc.write(fd, buf.baseAddress! + offset, buf.count - offset)
            }
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
        }
    }

    /// True when file descriptor `fd` is a terminal.
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }
}
