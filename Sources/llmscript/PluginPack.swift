// PluginPack: finding a plugin's rockspec, checking a rock staged in a temporary tree (manifest valid,
// provided modules installed, llmscript version satisfied), and `llmscript plugin pack DIR`: builds the
// rock in a staging tree and packs it with `luarocks pack` into a binary rock (`name-version.all.rock`
// for pure Lua) that anyone with LuaRocks installs offline with `luarocks install FILE.rock`.

enum PluginPack {
    /// The rockspec named by `path`, or the only `*.rockspec` in the folder `path` (absolute paths).
    static func rockspec(in path: String) throws(PluginError) -> String {
        if PluginSystem.isFile(path) {
            guard path.hasSuffix(".rockspec") else {
                throw PluginError(message: "'\(path)' is not a .rock, a .rockspec or a folder with a rockspec")
            }
            return path
        }
        let specs = PluginSystem.list(path).filter { $0.hasSuffix(".rockspec") }
        guard !specs.isEmpty else { throw PluginError(message: "no .rockspec in '\(path)'") }
        guard specs.count == 1 else {
            throw PluginError(message: "several rockspecs in '\(path)' (\(specs.joined(separator: ", "))); name one")
        }
        return path + "/" + specs[0]
    }

    /// Checks the one rock in the session's staging tree; returns its name, version and what it provides.
    static func inspectStaged(_ rocks: RocksSession, _ lua: PluginLua) throws(PluginError)
        -> (name: String, version: String, provides: String)
    {
        let r = try lua.eval(
            """
            local S, VER = \(PluginLua.quote(rocks.staging)), \(PluginLua.quote(Launcher.version))
            local rs = P.rocks(S)
            if #rs ~= 1 then return 'error', 'LuaRocks staged ' .. #rs .. ' rocks, expected 1' end
            local e, err = P.inspect(S, rs[1].name, rs[1].version)
            if not e then return 'error', err end
            local ok, sat = pcall(P.satisfies, VER, e.llmscript)
            if not ok then return 'error', sat end
            if not sat then
              return 'error', ('%s %s needs llmscript %s; this is llmscript %s'):format(e.name, e.version, e.llmscript, VER)
            end
            return 'ok', e.name, e.version, P.describe(e.provides)
            """)
        guard r.count == 4, r[0] == "ok" else {
            throw PluginError(message: "not a valid llmscript plugin: " + (r.count > 1 ? r[1] : "no result"))
        }
        return (r[1], r[2], r[3])
    }

    /// `llmscript plugin pack DIR`: writes the rock into `output` and prints its path.
    /// The rockspec is vetted first, like `install` (no build commands; C modules only with allowNative).
    static func pack(_ dir: String, output: String, allowNative: Bool) throws(PluginError) {
        guard PluginSystem.isDir(dir) || PluginSystem.isFile(dir) else { throw PluginError(message: "'\(dir)' does not exist") }
        let spec = try rockspec(in: PluginSystem.absolute(dir))
        let rocks = try RocksSession()
        try PluginVet.check(.rockspec(spec), session: rocks, allowNative: allowNative)
        guard PluginSystem.makeDirs(output) else { throw PluginError(message: "cannot create '\(output)'") }
        let out = PluginSystem.absolute(output)
        let lua = try PluginLua()
        try rocks.check(
            tree: rocks.staging, ["make", spec, "--deps-mode=none"], cwd: PluginSystem.dirname(spec),
            what: "building \(dir)")
        let (name, version, _) = try inspectStaged(rocks, lua)
        let log = try rocks.check(tree: rocks.staging, ["pack", name, version], cwd: out, what: "packing \(name)")
        let packed = log.split(separator: "\n").first { $0.hasPrefix("Packed: ") }.map { String($0.dropFirst(8)) }
        Output.out("packed \(packed ?? "\(out)/\(name)-\(version).rock")\n")
    }
}
