// FilePolicy: the folders a sandboxed run may read and write, as directory descriptors (CLLMIO/llmio.h),
// and FileAccess.policy, the policy in force on the current thread (a C thread-local slot). The Lua bridge
// sets it for the duration of every call from a sandboxed state; code that hands work to other threads
// carries it over with `FileAccess.capture()` / `FileAccess.with(_:_:)`. Every function of this module
// consults it: with no policy they act on plain paths; with one, paths resolve beneath an allowed folder
// and never through a link out of it.
import CLLMIO

/// A set of allowed folders, opened once. Immutable after creation; shared by the Lua io functions
/// (through ``raw``) and the Swift readers and writers.
///
/// ```swift
/// let p = try FilePolicy([.init("data"), .init("out", writable: true)])
/// try FileAccess.with(p) { try Files.readAll("data/a.txt", maxBytes: 1 << 20, what: "read") }
/// ```
public final class FilePolicy: @unchecked Sendable {
    /// One allowed folder.
    public struct Folder: Sendable, Equatable {
        /// The folder (relative to the current directory, or absolute).
        public var path: String
        /// How denials name it (what the user wrote); nil keeps it out of messages (engine folders).
        public var shown: String?
        /// Whether files inside may be created, written, renamed and removed.
        public var writable: Bool
        /// Create the folder (and its parents) when it is missing.
        public var create: Bool
        /// A readable (or, with `writable`, writable) folder, named in denials as `shown` (default: `path`).
        public init(_ path: String, shown: String? = nil, writable: Bool = false, create: Bool = false) {
            self.path = path; self.shown = shown ?? path; self.writable = writable; self.create = create
        }
        /// A folder that denials do not name.
        public static func hidden(_ path: String) -> Folder { var f = Folder(path); f.shown = nil; return f }
    }

    /// The C policy (an `llmio_policy *`), valid as long as this object.
    public let raw: OpaquePointer
    /// The folders as given.
    public let folders: [Folder]

    /// Opens every folder. Read folders that do not exist are skipped (there is nothing to read);
    /// a writable folder that cannot be opened (or created) is an error.
    public init(_ folders: [Folder]) throws {
        raw = llmio_policy_new()
        var kept: [Folder] = []
        for f in folders where !f.path.isEmpty {
            let err = llmio_policy_add(raw, f.path, f.shown, f.writable ? 1 : 0, f.create ? 1 : 0)
            if err == 0 { kept.append(f); continue }
            if f.writable {
                llmio_policy_free(raw)
                throw FileError.system("sandbox", "open the folder", f.shown ?? f.path, err)
            }
        }
        self.folders = kept
    }

    deinit { llmio_policy_free(raw) }

    /// The sandbox's denial message for `path` (as the caller wrote it).
    public func denialMessage(_ path: String, write: Bool, reason: Int32 = LLMIO_DENIED_OUTSIDE) -> String {
        var buf = [CChar](repeating: 0, count: 2048)
        _ = llmio_denial_message(raw, path, write ? 1 : 0, reason, &buf, buf.count)
        return string(fromCBuffer: buf)
    }
}

/// The file policy in force for the current thread of work (a C thread-local slot: setting it costs a few
/// nanoseconds, so the bridge can set it around every call of a sandboxed state).
public enum FileAccess {
    /// The policy of the running sandboxed call, or nil (trusted: plain paths).
    public static var policy: FilePolicy? {
        llmio_current().map { Unmanaged<FilePolicy>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Runs `body` under `policy` (nil: unrestricted), restoring the previous policy afterwards.
    public static func with<R>(_ policy: FilePolicy?, _ body: () throws -> R) rethrows -> R {
        let previous = llmio_current()
        llmio_set_current(policy.map { Unmanaged.passUnretained($0).toOpaque() })
        defer { llmio_set_current(previous) }
        return try withExtendedLifetime(policy) { try body() }
    }

    /// The current policy, to hand to work started on another thread (`FileAccess.with(p) { ... }` there).
    public static func capture() -> FilePolicy? { policy }
}
