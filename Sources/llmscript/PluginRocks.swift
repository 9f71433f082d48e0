// PluginRocks: LuaRocks as a subprocess (`luarocks --lua-version 5.4 --tree T ...`), offline only: every
// call names an empty local server (--only-server), so a missing dependency fails instead of downloading.
// Also PluginLua, which asks `llm.plugins` (stdlib-lua/llm/plugins.lua) about manifests in a LuaVM.
// Errors are PluginError (message for the user, exit status 1 or 2; 128 + signal when interrupted).
import CLua
import CLuaShim
import LLMLua

/// A failed plugin/test command: printed as `llmscript <command>: message`, exits with `status`.
struct PluginError: Error {
    let message: String
    var status: Int32 = 1
}

/// One working area for a command: a temp dir with an empty LuaRocks server and a staging tree.
final class RocksSession {
    let exe: String
    let temp: String
    var server: String { temp + "/server" }
    var staging: String { temp + "/staging" }
    var log: String { temp + "/luarocks.log" }

    /// Finds luarocks ($LLMSCRIPT_LUAROCKS or PATH) and makes the temp area. From here until the session
    /// is released, SIGINT/SIGTERM/SIGHUP end the running LuaRocks step and surface as an "interrupted"
    /// error at the next step, so the folder is removed on every exit path.
    init() throws(PluginError) {
        let name = PluginSystem.env("LLMSCRIPT_LUAROCKS").flatMap { $0.isEmpty ? nil : $0 } ?? "luarocks"
        guard let exe = PluginSystem.which(name) else {
            throw PluginError(
                message: "LuaRocks is not installed ('\(name)' is not on PATH); "
                    + "install it with scripts/setup.sh or 'apt-get install luarocks'")
        }
        llms_signals_catch()
        guard let temp = PluginSystem.makeTempDir() else {
            llms_signals_restore()
            throw PluginError(message: "cannot create a temporary directory")
        }
        self.exe = exe
        self.temp = temp
        PluginSystem.makeDirs(server)
        PluginSystem.write(server + "/manifest-5.4", "repository = {}\nmodules = {}\ncommands = {}\n")
    }

    deinit {
        PluginSystem.remove(temp)
        llms_signals_restore()
    }

    /// Throws "interrupted" (exit status 128 + signal) once a signal was caught during the session.
    func checkInterrupt() throws(PluginError) {
        let sig = llms_signals_caught()
        guard sig == 0 else {
            throw PluginError(message: "interrupted by signal \(sig); removed the staging folder", status: 128 + sig)
        }
    }

    /// Runs a program of this session (in its own process group, output captured to the log); an
    /// interruption before or during it is thrown.
    func spawn(_ argv: [String], cwd: String? = nil) throws(PluginError) -> (status: Int32, output: String) {
        try checkInterrupt()
        let status = PluginSystem.run(argv, cwd: cwd, captureTo: log, newGroup: true)
        try checkInterrupt()
        return (status, PluginSystem.read(log) ?? "")
    }

    /// Runs `luarocks --lua-version 5.4 --tree tree --only-server=<empty> args...`; output is captured
    /// and returned with the status (printed by the caller on failure). `--project-tree` names an empty
    /// folder of the session: otherwise LuaRocks takes a folder (or an ancestor) holding `.luarocks/` and
    /// `lua_modules/` for a project and runs its `.luarocks/config-5.4.lua`, code shipped with a rock.
    func run(tree: String, _ args: [String], cwd: String? = nil) throws(PluginError) -> (status: Int32, output: String) {
        try spawn(
            [
                exe, "--lua-version", "5.4", "--tree", tree, "--only-server=\(server)",
                "--project-tree=\(temp)/no-project/lua_modules"
            ] + args, cwd: cwd)
    }

    /// Like `run`, throwing a PluginError with LuaRocks' output when it fails.
    @discardableResult
    func check(tree: String, _ args: [String], cwd: String? = nil, what: String) throws(PluginError) -> String {
        let r = try run(tree: tree, args, cwd: cwd)
        guard r.status == 0 else {
            let out = r.output.split(separator: "\n").filter { !$0.hasPrefix("Warning: Failed searching manifest") }
            throw PluginError(
                message: "\(what) failed (luarocks exit status \(r.status)):\n"
                    + out.joined(separator: "\n"))
        }
        return r.output
    }
}

/// Runs small Lua chunks against `llm.plugins` in a fresh VM; results come back as strings.
struct PluginLua {
    let vm: LuaVM

    init() throws(PluginError) {
        do { vm = try LuaVM(strict: false) } catch { throw PluginError(message: "\(error)") }
    }

    /// A Lua string literal for `s`.
    static func quote(_ s: String) -> String {
        var out = "\""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += "\\" + String(UnicodeScalar(b))
            case 32..<127: out += String(UnicodeScalar(b))
            default: out += "\\\(b)"
            }
        }
        return out + "\""
    }

    /// Runs `code` (which may `return` strings) and returns its results converted with tostring.
    func eval(_ code: String) throws(PluginError) -> [String] {
        let L = vm.L
        let n: Int32
        do { n = try vm.run(string: "local P = require 'llm.plugins'\n" + code, name: "=(plugin)", keepResults: true) } catch {
            let text = "\(error)"  // the message for the user, without Lua's traceback
            throw PluginError(message: text.range(of: "\nstack traceback:").map { String(text[..<$0.lowerBound]) } ?? text)
        }
        var out: [String] = []
        for i in 0..<n { out.append(llms_tostring(L, -n + i).map { String(cString: $0) } ?? "nil") }
        llms_pop(L, n)
        return out
    }
}
