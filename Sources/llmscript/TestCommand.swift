// TestCommand: `llmscript test [DIR] [busted options...]` runs busted (Debian lua-busted) inside this
// process, so specs see llm/nn/... like any script (strict globals off: busted uses globals). DIR is a
// plugin folder (a rockspec and spec/: runs spec/ from DIR with ./src on the module path, like `busted`
// there), or a folder/file of *_spec.lua; default: the plugin in ., else Tests/lua, else spec.
// Output ends with `N passed, N failed` (llm.testsummary); exit 0 when all pass, 1 otherwise, 2 usage.
import LLMLua

enum TestCommand {
    static let usage = "usage: llmscript test [DIR] [busted options...]   (DIR: a plugin folder or a folder of *_spec.lua)"

    static func main(_ args: [String], argv0: String) -> Int32 {
        do throws(PluginError) {
            if args.first == "-h" || args.first == "--help" { Output.out(usage + "\n"); return 0 }
            let dirs = args.filter { !$0.hasPrefix("-") }
            let options = args.filter { $0.hasPrefix("-") }
            guard dirs.count <= 1 else {
                throw PluginError(message: "expected at most one DIR, got \(dirs.joined(separator: " "))", status: 2)
            }
            return try run(bustedArgs(dir: dirs.first) + options, argv0: argv0)
        } catch {
            return Subcommands.report(error, command: "test", usage: usage)
        }
    }

    static func isPlugin(_ dir: String) -> Bool {
        PluginSystem.isDir(dir + "/spec") && PluginSystem.list(dir).contains { $0.hasSuffix(".rockspec") }
    }

    /// busted's arguments for DIR (without the output handler).
    static func bustedArgs(dir: String?) throws(PluginError) -> [String] {
        let root: String
        if let dir {
            guard PluginSystem.exists(dir) else { throw PluginError(message: "'\(dir)' does not exist") }
            root = dir
        } else if isPlugin(".") {
            root = "."
        } else if let d = ["Tests/lua", "spec"].first(where: PluginSystem.isDir) {
            root = d
        } else {
            throw PluginError(message: "no specs here (no plugin, Tests/lua or spec folder); give a DIR", status: 2)
        }
        if PluginSystem.isDir(root) && isPlugin(root) {
            return ["-C", root, "--lpath=./src/?.lua;./src/?/init.lua", "spec"]
        }
        return [root]
    }

    /// Runs busted's runner with `arg` = args in a fresh non-strict VM. busted calls os.exit(1) itself
    /// when a test fails; returning normally means every test passed.
    static func run(_ args: [String], argv0: String) throws(PluginError) -> Int32 {
        let vm: LuaVM
        do { vm = try LuaVM(strict: false) } catch { throw PluginError(message: "\(error)") }
        // arg like `llmscript busted ...`: arg[-1] the interpreter, arg[0] busted, arg[1...] its options
        ScriptRunner(vm: vm).setArgTable(argv: [argv0, "busted", "-o", "llm.testsummary"] + args, scriptIndex: 1)
        do {
            try vm.run(
                string: """
                    if not package.searchpath('busted.runner', package.path) then
                      error('busted is not installed (Debian lua-busted; scripts/setup.sh installs it)', 0)
                    end
                    require('busted.runner')({ standalone = false })
                    """, name: "@llmscript test")
        } catch {
            throw PluginError(message: "\(error)")
        }
        return 0
    }
}
