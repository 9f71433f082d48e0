// PluginPaths: where llmscript looks for plugins, which are LuaRocks rocks installed in trees of its own:
// the project's `./plugins` first, then the user's `~/.llmscript/rocks` (or $LLMSCRIPT_ROCKS). Each tree's
// share/lua/5.4 goes on package.path and lib/lua/5.4 on package.cpath; the tree roots are published to
// Lua as `package.llmscript_trees` (search order) for `llm.plugins`. No I/O beyond getenv.
import CLua
import CLuaShim

#if canImport(Glibc)
    import Glibc
#endif

extension LuaVM {
    /// The project's plugin tree, relative to the working directory (like `./?.lua`).
    public static let projectPluginTree = "./plugins"

    /// The user's plugin tree: `$LLMSCRIPT_ROCKS` when set and non-empty, else `$HOME/.llmscript/rocks`,
    /// or nil when neither is set.
    public static func userPluginTree() -> String? {
        if let env = getenv("LLMSCRIPT_ROCKS").map({ String(cString: $0) }), !env.isEmpty { return env }
        if let home = getenv("HOME").map({ String(cString: $0) }), !home.isEmpty { return home + "/.llmscript/rocks" }
        return nil
    }

    /// Plugin trees in search order: the project's, then the user's.
    ///
    /// ```swift
    /// LuaVM.pluginTrees()   // ["./plugins", "/home/me/.llmscript/rocks"]
    /// ```
    public static func pluginTrees() -> [String] {
        [projectPluginTree] + (userPluginTree().map { [$0] } ?? [])
    }

    /// `package.path` templates of the plugin trees (`?.lua` and `?/init.lua` under share/lua/5.4).
    static func pluginPathTemplates() -> [String] {
        pluginTrees().flatMap { ["\($0)/share/lua/5.4/?.lua", "\($0)/share/lua/5.4/?/init.lua"] }
    }

    /// Prefixes `package.cpath` with the trees' lib/lua/5.4/?.so and sets `package.llmscript_trees`.
    func configurePluginCPath() {
        let trees = LuaVM.pluginTrees()
        lua_getglobal(L, "package")
        lua_getfield(L, -1, "cpath")
        let old = llms_tostring(L, -1).map { String(cString: $0) } ?? ""
        llms_pop(L, 1)
        lua_pushstring(L, (trees.map { "\($0)/lib/lua/5.4/?.so" } + [old]).joined(separator: ";"))
        lua_setfield(L, -2, "cpath")
        lua_createtable(L, Int32(trees.count), 0)
        for (i, t) in trees.enumerated() { lua_pushstring(L, t); lua_rawseti(L, -2, lua_Integer(i + 1)) }
        lua_setfield(L, -2, "llmscript_trees")
        llms_pop(L, 1)
    }
}
