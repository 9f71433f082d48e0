// LineReader: where REPL lines come from. On a terminal, libedit (readline-compatible API, BSD licence)
// gives line editing, tab completion and a history persisted in ~/.llmscript_history (or
// $LLMSCRIPT_HISTORY; empty disables it). Otherwise plain readLine(): no prompts, no escape codes.
// History problems (HOME unset, unwritable file) are silently ignored; reading never crashes.
import CEdit
#if canImport(Glibc)
    import Glibc
#endif

/// A source of input lines for the REPL.
protocol LineReader {
    /// The next line without its newline, or nil at end of input.
    func readLine(prompt: String) -> String?
    /// Records a complete entry (possibly several lines) in the history.
    func addHistory(_ entry: String)
}

/// Piped input: no prompts, no editing.
struct PlainLineReader: LineReader {
    func readLine(prompt: String) -> String? { Swift.readLine(strippingNewline: true) }
    func addHistory(_ entry: String) {}
}

/// Terminal input through libedit.
final class EditLineReader: LineReader {
    private let historyPath: String?

    /// - Parameter completer: called on Tab with the word before the cursor; returns full replacements.
    init(completer: @escaping (String) -> [String]) {
        historyPath = EditLineReader.defaultHistoryPath()
        Completion.install(completer)
        stifle_history(1000)
        if let p = historyPath, access(p, R_OK) == 0 { _ = read_history(p) }
    }

    func readLine(prompt: String) -> String? {
        fflush(nil)
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }

    func addHistory(_ entry: String) {
        guard !entry.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" }) else { return }
        _ = add_history(entry)
        if let p = historyPath { _ = write_history(p) }  // every entry, so a crash loses nothing
    }

    /// $LLMSCRIPT_HISTORY if set (empty: no history), else $HOME/.llmscript_history, else none.
    static func defaultHistoryPath() -> String? {
        if let v = getenv("LLMSCRIPT_HISTORY") {
            let s = String(cString: v)
            return s.isEmpty ? nil : s
        }
        guard let h = getenv("HOME") else { return nil }
        let home = String(cString: h)
        guard !home.isEmpty else { return nil }
        return home.hasSuffix("/") ? home + ".llmscript_history" : home + "/.llmscript_history"
    }
}
