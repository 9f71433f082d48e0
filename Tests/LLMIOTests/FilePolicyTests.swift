// FilePolicyTests: the file policy of LLMIO (resolution beneath allowed folders) in both of its
// implementations (openat2 RESOLVE_BENEATH and the openat(O_NOFOLLOW) walk): reads and writes inside,
// denials outside through `..`, absolute and relative symlinks (at the end of the path and in the middle),
// read-only folders, *at renames/removals/folders, denial messages that name only what the caller wrote,
// and a symlink-swap race that must never read the file outside.
import CLLMIO
import Foundation
import Synchronization
import Testing
@testable import LLMIO

@Suite(.serialized) struct FilePolicyTests {
    /// root/{data/a.txt, out/, outside/secret.txt}, data/up -> ../outside (relative), data/abs -> outside
    /// (absolute), data/inner -> a.txt, data/sub/b.txt.
    final class Tree: Sendable {
        let root: String, data: String, out: String, outside: String
        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("llmio-\(UUID().uuidString)").path
            data = root + "/data"; out = root + "/out"; outside = root + "/outside"
            let fm = FileManager.default
            for d in [data + "/sub", out, outside] { try fm.createDirectory(atPath: d, withIntermediateDirectories: true) }
            try "hello".write(toFile: data + "/a.txt", atomically: false, encoding: .utf8)
            try "deep".write(toFile: data + "/sub/b.txt", atomically: false, encoding: .utf8)
            try "SECRET".write(toFile: outside + "/secret.txt", atomically: false, encoding: .utf8)
            try fm.createSymbolicLink(atPath: data + "/up", withDestinationPath: "../outside")
            try fm.createSymbolicLink(atPath: data + "/abs", withDestinationPath: outside)
            try fm.createSymbolicLink(atPath: data + "/inner", withDestinationPath: "sub/b.txt")
        }
        func policy() throws -> FilePolicy {
            try FilePolicy([.init(data, shown: "data"), .init(out, shown: "out", writable: true)])
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }
    }

    static func text(_ path: String, _ p: FilePolicy) throws -> String {
        try FileAccess.with(p) { String(decoding: try Files.readAll(path, maxBytes: 1 << 20, what: "test"), as: UTF8.self) }
    }
    static func denial(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let e as FileError { return e.denied ? e.message : "not a denial: \(e.message)" } catch { return "\(error)" }
    }

    /// Runs `body` with the openat2 resolution and again with the walk.
    static func bothResolvers(_ body: () throws -> Void) rethrows {
        llmio_force_walk(0); try body()
        llmio_force_walk(1); defer { llmio_force_walk(0) }
        try body()
    }

    @Test func readsInsideAndRefusesEveryWayOut() throws {
        let t = try Tree(), p = try t.policy()
        try Self.bothResolvers {
            #expect(try Self.text(t.data + "/a.txt", p) == "hello")
            #expect(try Self.text(t.data + "/inner", p) == "deep")  // a link that stays inside
            #expect(try Self.text(t.data + "/sub/../a.txt", p) == "hello")
            for path in [
                t.outside + "/secret.txt", t.data + "/../outside/secret.txt", t.data + "/up/secret.txt",
                t.data + "/abs/secret.txt", "/etc/passwd", t.data + "/sub/../../outside/secret.txt"
            ] {
                let d = Self.denial { _ = try Self.text(path, p) }
                #expect(d == "sandbox: reading '\(path)' is not allowed (outside the allowed folders: data, out)", "\(path)")
            }
            // a link as the last component, pointing outside
            try? FileManager.default.removeItem(atPath: t.data + "/last")
            try FileManager.default.createSymbolicLink(atPath: t.data + "/last", withDestinationPath: "../outside/secret.txt")
            #expect(Self.denial { _ = try Self.text(t.data + "/last", p) }?.contains("outside the allowed folders") == true)
        }
    }

    @Test func writesNeedAWritableFolderAndActFromDescriptors() throws {
        let t = try Tree(), p = try t.policy()
        try Self.bothResolvers {
            try FileAccess.with(p) {
                try Files.makeDirectories(t.out + "/x/y", what: "test")
                try Files.writeAtomically(t.out + "/x/y/f.txt", what: "test") { try $0.write(Array("ok".utf8)) }
                try Files.rename(t.out + "/x/y/f.txt", t.out + "/g.txt", what: "test")
                #expect(try Self.text(t.out + "/g.txt", p) == "ok")
                try Files.remove(t.out + "/g.txt", what: "test")
                try Files.removeTree(t.out + "/x", what: "test")
                #expect(!Files.exists(t.out + "/x"))
            }
            let d = Self.denial { try FileAccess.with(p) { _ = try Files.writeAtomically(t.data + "/new.txt", what: "t") { _ in } } }
            #expect(d == "sandbox: writing '\(t.data)/new.txt' is not allowed (outside the writable folders: out)")
            #expect(Self.denial { try FileAccess.with(p) { try Files.rename(t.data + "/a.txt", t.out + "/a.txt", what: "t") } } != nil)
            #expect(Self.denial { try FileAccess.with(p) { try Files.remove(t.outside + "/secret.txt", what: "t") } } != nil)
            #expect(Self.denial { try FileAccess.with(p) { try Files.makeDirectory(t.root + "/escape", what: "t") } } != nil)
            // a link inside the writable folder: removing it removes the link, never what it points to
            try FileManager.default.createSymbolicLink(atPath: t.out + "/ln", withDestinationPath: t.outside + "/secret.txt")
            try FileAccess.with(p) { try Files.remove(t.out + "/ln", what: "t") }
            #expect(FileManager.default.fileExists(atPath: t.outside + "/secret.txt"))
            // creating through a dangling link that points outside
            try FileManager.default.createSymbolicLink(atPath: t.out + "/dangling", withDestinationPath: t.outside + "/made.txt")
            #expect(
                Self.denial { try FileAccess.with(p) { _ = try Files.create(t.out + "/dangling", what: "t") { _ in } } } != nil
                    || !FileManager.default.fileExists(atPath: t.outside + "/made.txt"))
            #expect(!FileManager.default.fileExists(atPath: t.outside + "/made.txt"))
            try FileManager.default.removeItem(atPath: t.out + "/dangling")
        }
        #expect(!FileManager.default.fileExists(atPath: t.root + "/escape"))
    }

    @Test func messagesNameOnlyWhatTheCallerWrote() throws {
        let t = try Tree()
        let alias = t.root + "/alias"
        try FileManager.default.createSymbolicLink(atPath: alias, withDestinationPath: t.data)
        let p = try FilePolicy([.init(alias, shown: "my-data"), .hidden(t.out)])
        #expect(try Self.text(alias + "/a.txt", p) == "hello")  // the folder as written
        #expect(try Self.text(t.data + "/a.txt", p) == "hello")  // and as resolved
        let d = Self.denial { _ = try Self.text("up/secret.txt", p) } ?? ""
        #expect(d == "sandbox: reading 'up/secret.txt' is not allowed (outside the allowed folders: my-data)")
        #expect(!d.contains(t.root) && !d.contains(t.out))
        let twice = try FilePolicy([.init(t.data, shown: "d"), .init(t.data, shown: "d")])
        #expect(twice.denialMessage("x", write: false) == "sandbox: reading 'x' is not allowed (outside the allowed folders: d)")
    }

    @Test func absoluteLinksAreRefusedEvenWhenTheyPointInside() throws {
        let t = try Tree(), p = try t.policy()
        try FileManager.default.createSymbolicLink(atPath: t.data + "/absin", withDestinationPath: t.data + "/a.txt")
        Self.bothResolvers {
            #expect(Self.denial { _ = try Self.text(t.data + "/absin", p) }?.contains("outside the allowed folders") == true)
        }
    }

    @Test func trustedCallsActOnPlainPaths() throws {
        let t = try Tree()
        #expect(FileAccess.policy == nil)
        #expect(String(decoding: try Files.readAll(t.data + "/up/secret.txt", maxBytes: 100, what: "t"), as: UTF8.self) == "SECRET")
        let m = try MappedFile(t.data + "/a.txt", what: "t")
        withExtendedLifetime(m) { #expect(Array(m.bytes) == Array("hello".utf8)) }
        let e = Self.denial { _ = try Files.readAll(t.root + "/missing", maxBytes: 1, what: "t") }
        #expect(e?.hasPrefix("not a denial: t: cannot open '\(t.root)/missing': No such file") == true, "\(e ?? "")")
    }

    @Test func removingAFolderNeverFollowsALinkInside() throws {
        let t = try Tree()
        try FileManager.default.createDirectory(atPath: t.out + "/x/y", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: t.out + "/x/y/link", withDestinationPath: t.outside)
        try FileManager.default.createSymbolicLink(atPath: t.out + "/x/rel", withDestinationPath: "../../outside")
        try Self.bothResolvers {
            try Files.makeDirectories(t.out + "/x/y", what: "t")
            try Files.removeTree(t.out + "/x", what: "t")  // trusted: plain paths, still no link followed
            #expect(!Files.exists(t.out + "/x"))
            #expect(FileManager.default.fileExists(atPath: t.outside + "/secret.txt"))
        }
        try Files.removeTree(t.out + "/never-there", what: "t")
    }

    @Test func writersTapMapsAndListings() throws {
        let t = try Tree()
        var seen = 0
        let w = try Files.writeAtomically(t.out + "/tap.bin", what: "t") { w in
            w.tap = { seen += $0.count }
            try w.write([1, 2, 3]); try w.write([4])
        }
        #expect(w.bytesWritten == 4 && seen == 4)
        let map = try MappedFile(t.out + "/tap.bin", what: "t")
        withExtendedLifetime(map) { #expect(Array(map.bytes) == [1, 2, 3, 4]) }
        _ = try Files.create(t.out + "/empty", what: "t") { _ in }
        let empty = try MappedFile(t.out + "/empty", what: "t")
        #expect(empty.bytes.count == 0)
        #expect(throws: FileError.self) { _ = try Files.create(t.out + "/empty", what: "t") { _ in } }  // exclusive
        #expect(Set(try Files.list(t.out, what: "t")) == ["tap.bin", "empty"])
        let f = try AtomicFile(t.out + "/aborted", what: "t")
        try f.writer.write([9])
        f.abort()
        #expect(Set(try Files.list(t.out, what: "t")) == ["tap.bin", "empty"])
        #expect((try? MappedFile(t.out, what: "t")) == nil)  // a folder is not a regular file
    }

    @Test func atomicWritesLeaveTheOldFileOnFailure() throws {
        let t = try Tree()
        let f = t.out + "/atomic.txt"
        try Files.writeAtomically(f, what: "t") { try $0.write(Array("one".utf8)) }
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try Files.writeAtomically(f, what: "t") { w in
                try w.write(Array("two".utf8)); throw Boom()
            }
        }
        #expect(try String(contentsOfFile: f, encoding: .utf8) == "one")
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.out) == ["atomic.txt"])  // no temporary left
    }

    @Test func thePolicyFollowsWorkToOtherThreads() throws {
        let t = try Tree(), p = try t.policy()
        let results = Mutex([Bool](repeating: false, count: 4))
        FileAccess.with(p) {
            let files = FileAccess.capture()
            DispatchQueue.concurrentPerform(iterations: 4) { i in
                FileAccess.with(files) {
                    let denied = (try? Files.readAll(t.outside + "/secret.txt", maxBytes: 100, what: "t")) == nil
                    results.withLock { $0[i] = denied }
                }
            }
        }
        #expect(results.withLock { $0 } == [true, true, true, true])
    }

    /// A concurrent process swaps `data/flip` between a real folder and a link to `outside` while files
    /// are opened through it: the secret must never be read, with either resolver.
    @Test func symlinkSwapRaceNeverReadsOutside() throws {
        let t = try Tree(), p = try t.policy()
        let flip = t.data + "/flip", real = t.data + "/flip-real", link = t.data + "/flip-link"
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: true)
        try "inside".write(toFile: real + "/secret.txt", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: t.outside)
        try FileManager.default.createSymbolicLink(atPath: flip, withDestinationPath: "flip-real")
        final class Flag: Sendable { let stop = Atomic<Bool>(false), stopped = Atomic<Bool>(false) }
        let flag = Flag()
        let swapper = Thread {
            var toLink = true
            defer { flag.stopped.store(true, ordering: .relaxed) }
            while !flag.stop.load(ordering: .relaxed) {
                // rename(2) atomically replaces `flip` with one or the other link (as an attacker would)
                let tmp = t.data + "/flip-tmp"
                unlink(tmp)
                _ = symlink(toLink ? t.outside : "flip-real", tmp)
                _ = rename(tmp, flip)
                toLink.toggle()
            }
        }
        swapper.start()
        defer {
            flag.stop.store(true, ordering: .relaxed)
            while !flag.stopped.load(ordering: .relaxed) { usleep(1000) }
        }
        Self.bothResolvers {
            var inside = 0
            for _ in 0..<3000 {
                if let s = try? Self.text(flip + "/secret.txt", p) {
                    #expect(s == "inside")
                    if s != "inside" { return }
                    inside += 1
                }
            }
            #expect(inside > 0)  // the race really alternated
        }
    }
}
