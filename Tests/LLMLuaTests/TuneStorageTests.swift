// TuneStorageTests: the native part of `tune` without Lua: SQLiteDatabase (typed round trip of parameters
// and columns, statement reuse, a corrupt file refused unchanged, a second writer refused as locked) and
// ChildProcess (exit status, signal, timeout kill, environment, log file).
import Foundation
import Testing
@testable import LLMLua

@Suite struct TuneStorageTests {
    static func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tune-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    @Test func valuesRoundTrip() throws {
        let db = try SQLiteDatabase(path: Self.tempPath("a.sqlite"), busyTimeoutMs: 100, readOnly: false)
        _ = try db.execute("CREATE TABLE t(a, b, c, d)", [])
        for i in 0..<3 { _ = try db.execute("INSERT INTO t VALUES(?, ?, ?, ?)", [.integer(Int64(i)), .real(0.1), .text("x<&>"), .null]) }
        #expect(db.lastInsertRowid == 3)
        let r = try db.execute("SELECT * FROM t WHERE a = ?", [.integer(2)])
        #expect(r.columns == ["a", "b", "c", "d"])
        #expect(r.rows == [[.integer(2), .real(0.1), .text("x<&>"), .null]])
        db.close()
        #expect(throws: LuaError.self) { try db.execute("SELECT 1", []) }
    }

    @Test func corruptFileIsRefusedUnchanged() throws {
        let path = Self.tempPath("bad.sqlite")
        let bytes = Data(String(repeating: "garbage ", count: 200).utf8)
        try bytes.write(to: URL(fileURLWithPath: path))
        do {
            _ = try SQLiteDatabase(path: path, busyTimeoutMs: 100, readOnly: false)
            Issue.record("opened a corrupt file")
        } catch let LuaError.runtime(m) {
            #expect(m.contains("is not a valid SQLite study database"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func secondWriterIsToldTheFileIsLocked() throws {
        let path = Self.tempPath("l.sqlite")
        let a = try SQLiteDatabase(path: path, busyTimeoutMs: 100, readOnly: false)
        _ = try a.execute("CREATE TABLE t(x)", [])
        let b = try SQLiteDatabase(path: path, busyTimeoutMs: 100, readOnly: false)
        _ = try a.execute("BEGIN IMMEDIATE", [])
        do {
            _ = try b.execute("INSERT INTO t VALUES(1)", [])
            Issue.record("wrote under another writer's lock")
        } catch let LuaError.runtime(m) {
            #expect(m.contains("is locked by another process"))
        }
        _ = try a.execute("ROLLBACK", [])
        _ = try b.execute("INSERT INTO t VALUES(1)", [])
        #expect(try a.execute("SELECT COUNT(*) AS n FROM t", []).rows == [[.integer(1)]])
    }

    @Test func childProcessesEndWithStatusSignalOrTimeout() throws {
        let log = Self.tempPath("c.log")
        let ok = try ChildProcess(argv: ["/bin/sh", "-c", "echo $TUNE_X; exit 3"], env: ["TUNE_X": "hello"], log: log, timeout: nil, memoryMB: nil)
        #expect(ok.wait() == ChildExit(code: 3, signal: nil, timedOut: false))
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "hello\n")
        let hang = try ChildProcess(argv: ["sleep", "30"], env: [:], log: nil, timeout: 0.2, memoryMB: nil)
        #expect(hang.wait() == ChildExit(code: nil, signal: 9, timedOut: true))
        let killed = try ChildProcess(argv: ["sleep", "30"], env: [:], log: nil, timeout: nil, memoryMB: nil)
        #expect(killed.poll() == nil)
        killed.kill()
        #expect(killed.wait().signal == 9)
        #expect(throws: LuaError.self) { try ChildProcess(argv: ["/nonexistent/program"], env: [:], log: nil, timeout: nil, memoryMB: nil) }
    }
}
