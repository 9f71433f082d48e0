// SandboxOptions: the `--sandbox` family of flags (--allow-read/--allow-write DIR, --max-memory SIZE,
// --max-time SECONDS) parsed into a value, and turned into the LuaVM's SandboxPolicy for a run. The
// limits only apply with --sandbox (a usage error otherwise). The recipe's folder is readable.
import CLuaShim
import LLMLua

/// Sandbox settings from the command line.
struct SandboxOptions: Equatable {
    var enabled = false
    var allowRead: [String] = []
    var allowWrite: [String] = []
    var maxMemory: Int? = nil
    var maxTime: Double? = nil

    static func handles(_ a: String) -> Bool {
        a == "--sandbox" || ["--allow-read", "--allow-write", "--max-memory", "--max-time"].contains { a == $0 || a.hasPrefix($0 + "=") }
    }

    /// Parses one flag; `value(flag)` returns the flag's argument (glued or the next one).
    mutating func parse(_ a: String, value: (String) throws(UsageError) -> String) throws(UsageError) {
        if a == "--sandbox" { enabled = true; return }
        let flag = String(a.prefix { $0 != "=" })
        let v = try value(flag)
        switch flag {
        case "--allow-read", "--allow-write":
            guard !v.isEmpty else { throw UsageError(message: "Invalid '\(flag)': expected a folder, got ''") }
            if flag == "--allow-read" { allowRead.append(v) } else { allowWrite.append(v) }
        case "--max-memory":
            guard let n = SandboxPolicy.parseSize(v) else {
                throw UsageError(message: "Invalid '--max-memory': expected a size such as 512M or 2G, got '\(v)'")
            }
            maxMemory = n
        default:
            guard let t = Double(v), t.isFinite, t > 0 else {
                throw UsageError(message: "Invalid '--max-time': expected a positive number of seconds, got '\(v)'")
            }
            maxTime = t
        }
    }

    /// The limits need --sandbox.
    func validate() throws(UsageError) {
        if !enabled && (!allowRead.isEmpty || !allowWrite.isEmpty || maxMemory != nil || maxTime != nil) {
            throw UsageError(message: "--allow-read, --allow-write, --max-memory and --max-time need --sandbox")
        }
    }

    /// The policy for a run of `script` (nil without --sandbox). Arms the process watchdog that ends a
    /// run stuck in one native call past the time limit (grace: a quarter of the limit, at least 2 s).
    func policy(script: ScriptSource?) -> SandboxPolicy? {
        guard enabled else { return nil }
        var recipeDir: String? = nil
        if case .file(let path) = script {
            recipeDir = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        }
        if let t = maxTime {
            llms_watchdog_arm(
                t + max(2, t / 4),
                "llmscript: sandbox: time limit of \(t == t.rounded() && t < 1e15 ? String(Int(t)) : String(t)) s exceeded (stopped inside a native call)")
        }
        return SandboxPolicy(
            readDirs: allowRead, writeDirs: allowWrite, recipeDir: recipeDir,
            memoryLimit: maxMemory, timeLimit: maxTime, allowExit: true)
    }
}
