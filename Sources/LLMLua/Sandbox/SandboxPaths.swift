// SandboxPaths: the file-access rule of a sandboxed state, as a thin layer over LLMIO's FilePolicy (the
// allowed folders as directory descriptors; paths resolve beneath them, never through a link out of them).
// Enforcement is at every open: the Lua io/os functions (CLuaShim/llms_fs.c) and every Swift reader and
// writer (LLMIO, under the policy the bridge puts in force for each call of a sandboxed state) open through
// it. `denial` is the early check of the bindings' path arguments, so a refused path fails before any work,
// with the same message. Messages name the path as the recipe wrote it and the folders as the user did.
import LLMIO

/// How a path is going to be used.
public enum PathAccess: Sendable {
    /// Opening or listing for reading.
    case read
    /// Creating, writing, renaming or deleting.
    case write
    /// Reading a file or a folder recursively (each entry is checked when it is opened).
    case readTree
}

/// The folders a sandboxed script may read and write.
public struct PathPolicy: Sendable {
    /// The allowed folders, opened once.
    public let files: FilePolicy

    public init(files: FilePolicy) { self.files = files }

    /// A policy over `readDirs` and `writeDirs` (missing write folders are created).
    public init(readDirs: [String], writeDirs: [String]) throws {
        files = try FilePolicy(readDirs.map { FilePolicy.Folder($0) } + writeDirs.map { FilePolicy.Folder($0, writable: true, create: true) })
    }

    /// Throws the sandbox's denial unless `path` may be used for `access`.
    public func check(_ path: String, _ access: PathAccess) throws {
        if let denial = denial(path, access) { throw LuaError.runtime(denial) }
    }

    /// The denial message for `path`, or nil when the policy lets it through (it may still not exist).
    /// Reading: the path resolves beneath a readable folder. Writing: its parent resolves beneath a
    /// writable folder (or is missing there: creating the parents is checked step by step).
    public func denial(_ path: String, _ access: PathAccess) -> String? {
        let write = access == .write
        guard !path.isEmpty, !path.utf8.contains(0) else {
            return "sandbox: \(write ? "writing" : "reading") '\(path)' is not allowed (not a valid path)"
        }
        return FileAccess.with(files) { Files.refusal(path, write: write)?.message }
    }
}
