// REPL: read-eval-print loop over a LineReader, like lua.c's: a line is first tried as `return <line>`
// (so expressions print their values), else compiled as a statement, reading continuation lines (`>>`)
// while the compiler reports an error at <eof>. A trailing `;` hides the results. Every error is printed
// with its traceback and the loop goes on; it ends at end of input (Ctrl-D).
import CLua
import CLuaShim
import LLMLua

final class REPL {
    private let vm: LuaVM
    private let reader: LineReader
    private let printer: ValuePrinter
    /// Chunk name used in messages (`stdin:1: ...`).
    private let chunkName = "=stdin"

    static let prompt = "> "
    static let continuationPrompt = ">> "

    init(vm: LuaVM, reader: LineReader) throws {
        self.vm = vm
        self.reader = reader
        self.printer = try ValuePrinter(vm: vm)
    }

    /// Runs until end of input.
    func run() {
        while evaluateNextEntry() {}
    }

    /// Reads, compiles, runs and prints one entry. Returns false at end of input.
    private func evaluateNextEntry() -> Bool {
        let L = vm.L
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        guard var line = reader.readLine(prompt: REPL.prompt) else { return false }
        if line.hasPrefix("=") { line = "return " + line.dropFirst() }  // Lua 5.1-style `=expr`
        let trimmed = line.trimmingTrailingWhitespace()
        guard !trimmed.isEmpty else { return true }
        let suppress = trimmed.hasSuffix(";")

        // 1. as an expression
        var entry = line
        var status = load("return " + trimmed.droppingTrailingSemicolons() + ";")
        if status != LUA_OK {
            llms_pop(L, 1)
            // 2. as statements, reading more lines while the chunk is incomplete
            status = load(entry)
            while status == LUA_ERRSYNTAX && isIncomplete() {
                guard let more = reader.readLine(prompt: REPL.continuationPrompt) else { break }
                llms_pop(L, 1)
                entry += "\n" + more
                status = load(entry)
            }
        }
        reader.addHistory(entry)
        guard status == LUA_OK else {
            reportTopError()
            return true
        }
        do {
            try vm.protectedCall(nargs: 0, nresults: LUA_MULTRET)
        } catch {
            Output.line("\(error)", toError: true)
            return true
        }
        let n = lua_gettop(L) - base
        if n > 0 && !suppress { printer.printTop(n) }
        return true
    }

    /// Compiles `code`, leaving the function or the error message on top.
    private func load(_ code: String) -> Int32 {
        var code = code
        return code.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { chars in
                llms_loadbuffer(vm.L, chars.baseAddress, chars.count, chunkName)
            }
        }
    }

    /// lua.c's test: a syntax error at the end of input means the chunk is unfinished.
    private func isIncomplete() -> Bool {
        guard let msg = llms_tostring(vm.L, -1) else { return false }
        return String(cString: msg).hasSuffix("<eof>")
    }

    private func reportTopError() {
        let msg = llms_tostring(vm.L, -1).map { String(cString: $0) } ?? "(error object is not a string)"
        llms_pop(vm.L, 1)
        Output.line(msg, toError: true)
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\t" || last == "\r" || last == "\n" { s = s.dropLast() }
        return String(s)
    }

    func droppingTrailingSemicolons() -> String {
        var s = Substring(self)
        while let last = s.last, last == ";" || last == " " || last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
