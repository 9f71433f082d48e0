// PluginVet: what `plugin install` and `plugin pack` check before LuaRocks sees a rock, so that no code
// from the rock runs. The rockspec (and a binary rock's rock_manifest) is evaluated as data in a bare,
// bounded Lua state (LLMLua's DataFile: no libraries, instruction and memory budgets), never by LuaRocks
// first. Then:
// - `hooks` are refused (LuaRocks runs post_install hooks as shell commands);
// - a build that LuaRocks would run must be of type `builtin` or `none` (default `builtin`), in
//   `build` and in every `build.platforms` override: `command`, `make`, `cmake` and custom backends
//   run the rock's commands;
// - `build.patches` are refused, and file names a build copies (modules, install entries, copied
//   folders) must be relative without `..` (LuaRocks would otherwise copy from or to anywhere);
// - native code is refused unless --allow-native: `builtin` modules that are C sources (a table, a
//   list of sources, a string not ending in .lua), no `build.modules` when C files are present (LuaRocks
//   autodetects and compiles them), `build.install.lib` (prebuilt libraries), and a binary rock's
//   `lib/` entries or shared objects.
// A `.rock` is read with `unzip` (listing, then extracting only its top-level rockspec and rock_manifest
// into the session's temporary folder). Refusals are PluginErrors naming the file and the reason.
import LLMLua

enum PluginVet {
    /// How a path given to `plugin install` is installed.
    enum Source {
        /// A rockspec, built by `luarocks make` in its folder.
        case rockspec(String)
        /// A packed rock: a source rock (`.src.rock`, built by LuaRocks) or a binary one (deployed as is).
        case rock(String, source: Bool)
    }

    /// Checks `source` before any LuaRocks step; throws a refusal.
    static func check(_ source: Source, session: RocksSession, allowNative: Bool) throws(PluginError) {
        switch source {
        case .rockspec(let spec):
            let data = try evaluate(path: spec, what: PluginSystem.basename(spec))
            try checkBuild(data, name: PluginSystem.basename(spec), allowNative: allowNative) {
                hasCSources(in: PluginSystem.dirname(spec))
            }
        case .rock(let rock, let isSource):
            let entries = try listArchive(rock, session: session)
            let top = entries.filter { !$0.name.contains("/") }
            let specs = top.filter { $0.name.hasSuffix(".rockspec") }
            let name = PluginSystem.basename(rock)
            if Set(entries.map(\.name)).count != entries.count {
                throw PluginError(message: "refusing \(name): the archive lists an entry twice")
            }
            guard specs.count == 1 else {
                throw PluginError(message: "\(name): expected one rockspec at the top of the rock, found \(specs.count)")
            }
            let spec = try evaluate(path: try extract(rock, specs[0], session: session), what: "\(name)!\(specs[0].name)")
            if isSource {
                try checkBuild(spec, name: name, allowNative: allowNative) {  // C files, or an archive that may hold some
                    entries.contains { e in [".c", ".zip", ".tar", ".tgz", ".gz", ".bz2", ".xz"].contains { e.name.lowercased().hasSuffix($0) } }
                }
            } else {
                try checkHooks(spec, name: name)
                if let m = top.first(where: { $0.name == "rock_manifest" }) {
                    _ = try evaluate(path: try extract(rock, m, session: session), what: "\(name)!rock_manifest")
                }
                if !allowNative, let lib = entries.first(where: isNativeEntry) {
                    throw PluginError(
                        message: "refusing \(name): it contains the native library '\(lib.name)', "
                            + "machine code that runs when required; pass --allow-native to install it")
                }
            }
        }
    }

    /// The rockspec or rock a path names (a .rock, a .rockspec, or a folder with one rockspec).
    static func source(_ path: String) throws(PluginError) -> Source {
        guard PluginSystem.exists(path) else { throw PluginError(message: "'\(path)' does not exist") }
        let abs = PluginSystem.absolute(path)
        if PluginSystem.isFile(abs) && abs.hasSuffix(".rock") { return .rock(abs, source: abs.hasSuffix(".src.rock")) }
        return .rockspec(try PluginPack.rockspec(in: abs))
    }

    /// The rockspec's globals, evaluated as data.
    static func evaluate(path: String, what: String) throws(PluginError) -> LuaData {
        do throws(DataFileError) {
            return try DataFile.load(path: path).globals
        } catch {
            throw PluginError(message: "refusing \(what): not a valid data file: \(error.message)")
        }
    }

    static func checkHooks(_ spec: LuaData, name: String) throws(PluginError) {
        guard let hooks = spec["hooks"] else { return }
        guard let entries = hooks.entries, entries.isEmpty else {
            let which = (hooks.entries ?? []).compactMap { $0.key.text }.sorted().joined(separator: ", ")
            throw PluginError(
                message: "refusing \(name): its hooks (\(which.isEmpty ? hooks.typeName : which)) "
                    + "would run shell commands from the rock")
        }
    }

    /// Checks `hooks` and the build LuaRocks would run; `hasCSources` answers whether LuaRocks'
    /// module autodetection (no `build.modules`) would find C files to compile.
    static func checkBuild(
        _ spec: LuaData, name: String, allowNative: Bool,
        hasCSources: () -> Bool
    ) throws(PluginError) {
        try checkHooks(spec, name: name)
        let build = spec["build"] ?? .table([])
        guard build.entries != nil else {
            throw PluginError(message: "refusing \(name): Invalid 'build': expected a table, got \(build.typeName)")
        }
        var variants: [(String, LuaData)] = [("build", build)]  // the table and every platform override
        var i = 0
        while i < variants.count {
            let (scope, b) = variants[i]
            i += 1
            for e in b["platforms"]?.entries ?? [] where e.value.entries != nil {
                variants.append(("\(scope).platforms.\(e.key.text ?? "?")", e.value))
            }
        }
        for (scope, b) in variants {
            let type = b["type"]
            if let type, type.text == nil {
                throw PluginError(message: "refusing \(name): Invalid '\(scope).type': expected a string, got \(type.typeName)")
            }
            if let t = type?.text, t != "builtin" && t != "none" {
                throw PluginError(
                    message: "refusing \(name): build type '\(t)' (\(scope).type) runs commands from the rock; "
                        + "llmscript installs only 'builtin' and 'none' builds")
            }
            if b["patches"] != nil {
                throw PluginError(message: "refusing \(name): \(scope).patches would rewrite files named by the rock; not accepted")
            }
            try checkPaths(b, scope: scope, name: name)
            guard !allowNative else { continue }
            if let lib = b["install"]?["lib"], lib.entries?.isEmpty != true {
                throw PluginError(
                    message: "refusing \(name): \(scope).install.lib installs native libraries; "
                        + "pass --allow-native to install it")
            }
            for e in b["modules"]?.entries ?? [] {
                if let file = e.value.text, file.hasSuffix(".lua") { continue }
                let module = e.key.text ?? "?"
                let what = e.value.text.map { "'\($0)'" } ?? "a C module table"
                throw PluginError(
                    message: "refusing \(name): module '\(module)' (\(what)) is C code compiled with the rock's flags; "
                        + "pass --allow-native to build it")
            }
        }
        if !allowNative, (build["type"]?.text ?? "builtin") == "builtin", build["modules"] == nil, hasCSources() {
            throw PluginError(
                message: "refusing \(name): no build.modules, so LuaRocks would compile any C files it finds; "
                    + "list the Lua modules in build.modules or pass --allow-native")
        }
    }

    /// File names a build copies from or to (module sources, install entries, copied folders) stay inside
    /// the rock and the tree: relative, without `..` segments.
    static func checkPaths(_ b: LuaData, scope: String, name: String) throws(PluginError) {
        func check(_ v: LuaData, _ what: String) throws(PluginError) {
            guard case .string = v else { return }
            let p = v.text ?? "\u{FFFD}"
            let segments = p.split(whereSeparator: { $0 == "/" || $0 == "\\" })
            if p.hasPrefix("/") || p.hasPrefix("\\") || p.hasPrefix("~") || p.contains("\u{FFFD}") || p.contains(":")
                || segments.contains("..")
            {
                throw PluginError(message: "refusing \(name): \(what) names '\(p)', a path outside the rock")
            }
        }
        for e in b["modules"]?.entries ?? [] {
            try check(e.value, "\(scope).modules")
            for s in e.value["sources"]?.entries ?? e.value.entries ?? [] { try check(s.value, "\(scope).modules") }
        }
        for category in b["install"]?.entries ?? [] {
            for e in category.value.entries ?? [] {
                try check(e.key, "\(scope).install"); try check(e.value, "\(scope).install")
            }
        }
        for e in b["copy_directories"]?.entries ?? [] { try check(e.value, "\(scope).copy_directories") }
    }

    /// Whether a binary rock entry is native code (a library folder or a shared object).
    static func isNativeEntry(_ e: ArchiveEntry) -> Bool {
        let n = e.name.lowercased()
        return (n.hasPrefix("lib/") && !n.hasSuffix("/")) || n.hasSuffix(".so") || n.hasSuffix(".dll") || n.hasSuffix(".dylib")
    }

    /// Whether a folder may hold C sources (what LuaRocks' builtin autodetection compiles): true when a
    /// `.c` file is found, and also when the folder is too large to look through (`budget` entries).
    static func hasCSources(in dir: String) -> Bool {
        var budget = 20_000
        func scan(_ dir: String, _ depth: Int) -> Bool {
            for name in PluginSystem.list(dir) {
                budget -= 1
                if budget < 0 || depth > 16 { return true }
                let p = dir + "/" + name
                if name.hasSuffix(".c") && PluginSystem.isFile(p) { return true }
                if PluginSystem.isDir(p) && !PluginSystem.isLink(p) && scan(p, depth + 1) { return true }
            }
            return false
        }
        return scan(dir, 0)
    }

    /// One file of a zip archive as `unzip -l` lists it.
    struct ArchiveEntry {
        let name: String
        let size: Int
    }

    /// The entries of a zip archive (`unzip -l`).
    static func listArchive(_ rock: String, session: RocksSession) throws(PluginError) -> [ArchiveEntry] {
        guard let unzip = PluginSystem.which("unzip") else {
            throw PluginError(message: "'unzip' is not on PATH; LuaRocks needs it for .rock files")
        }
        let r = try session.spawn([unzip, "-l", rock])
        guard r.status == 0 else {
            throw PluginError(message: "\(PluginSystem.basename(rock)): not a readable rock (unzip exit status \(r.status))")
        }
        var entries: [ArchiveEntry] = []
        var inside = false, total: Int? = nil
        let lines = r.output.split(separator: "\n")
        for (i, line) in lines.enumerated() {
            if line.hasPrefix("---------") {
                if inside {  // footer: "<bytes>   <count> files"
                    let words = i + 1 < lines.count ? lines[i + 1].split(separator: " ") : []
                    total = words.count >= 2 ? Int(words[words.count - 2]) : nil
                    break
                }
                inside = true; continue
            }
            guard inside else { continue }
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
            guard fields.count == 4, let size = Int(fields[0]) else { total = -1; break }
            entries.append(ArchiveEntry(name: String(fields[3].drop { $0 == " " }), size: size))
        }
        guard total == entries.count else {  // a name that breaks the listing must not hide the entries after it
            throw PluginError(message: "refusing \(PluginSystem.basename(rock)): its file list cannot be read unambiguously")
        }
        return entries
    }

    /// Extracts one (top-level, small) entry into the session folder; returns its path.
    static func extract(_ rock: String, _ entry: ArchiveEntry, session: RocksSession) throws(PluginError) -> String {
        let limit = DataLimits().maxBytes
        guard entry.size <= limit else {
            throw PluginError(message: "refusing \(PluginSystem.basename(rock)): '\(entry.name)' is \(entry.size) bytes (more than \(limit))")
        }
        let dir = session.temp + "/vet"
        PluginSystem.makeDirs(dir)
        let r = try session.spawn([PluginSystem.which("unzip") ?? "unzip", "-o", "-q", rock, entry.name, "-d", dir])
        let out = dir + "/" + entry.name
        guard r.status == 0, PluginSystem.isFile(out) else {
            throw PluginError(message: "\(PluginSystem.basename(rock)): cannot extract '\(entry.name)' (unzip exit status \(r.status))")
        }
        return out
    }
}
