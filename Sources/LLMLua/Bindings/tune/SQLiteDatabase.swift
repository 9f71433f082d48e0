// SQLiteDatabase: a small wrapper over one SQLite connection (Debian libsqlite3-dev) for the study storage
// of `tune`. Contract: opening never modifies an existing file that is not a database (the first read
// fails first, with a clear "not a valid SQLite database ... left unchanged" error); a database opens in
// WAL mode (readers never block the writer; a process killed mid-transaction leaves the last committed
// state) with synchronous=NORMAL and a busy timeout, after which a lock held by another connection is
// reported as "locked by another process". Statements are prepared once and cached by their SQL text.
import CSQLite

#if canImport(Glibc)
    import Glibc
#endif

/// One value bound to or read from a statement.
enum SQLiteValue: Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// One SQLite connection with a prepared-statement cache. Not thread-safe: one Lua state uses it.
final class SQLiteDatabase: LuaBridged, @unchecked Sendable {
    static var luaTypeName: String { "tune.Database" }

    /// The file this connection opened.
    let path: String
    /// How long a statement waits for another connection's lock before failing.
    let busyTimeoutMs: Int32
    private var db: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    /// Opens (creating when missing, unless `readOnly`) the database at `path` in WAL mode.
    init(path: String, busyTimeoutMs: Int32, readOnly: Bool) throws {
        self.path = path
        self.busyTimeoutMs = busyTimeoutMs
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        db = handle
        if rc != SQLITE_OK {
            let e = error(rc, sql: nil)
            close()
            throw e
        }
        sqlite3_busy_timeout(handle, busyTimeoutMs)
        sqlite3_extended_result_codes(handle, 1)
        do {
            _ = try execute("PRAGMA schema_version", [])  // reads the header: a non-database fails here, unchanged
            if !readOnly {
                _ = try execute("PRAGMA journal_mode=WAL", [])
                _ = try execute("PRAGMA synchronous=NORMAL", [])
            }
            _ = try execute("PRAGMA foreign_keys=ON", [])
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// True until ``close()``.
    var isOpen: Bool { db != nil }

    /// Finalizes the cached statements and closes the connection (idempotent).
    func close() {
        for s in statements.values { sqlite3_finalize(s) }
        statements.removeAll()
        if let db { sqlite3_close_v2(db) }
        db = nil
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { db.map { Int(sqlite3_changes($0)) } ?? 0 }

    /// Row id of the last successful INSERT.
    var lastInsertRowid: Int64 { db.map { sqlite3_last_insert_rowid($0) } ?? 0 }

    /// Runs one statement with positional parameters (`?`); returns its rows as (column names, values).
    func execute(_ sql: String, _ params: [SQLiteValue]) throws -> (columns: [String], rows: [[SQLiteValue]]) {
        guard let db else { throw LuaError.runtime("tune.Database: the database '\(path)' is closed") }
        let stmt = try prepared(sql, db)
        defer {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
        }
        let expected = Int(sqlite3_bind_parameter_count(stmt))
        guard params.count <= expected else {
            throw LuaError.runtime("tune.Database: \(params.count) parameters given, the statement has \(expected): \(sql)")
        }
        for (i, v) in params.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch v {
            case .null: rc = sqlite3_bind_null(stmt, idx)
            case .integer(let n): rc = sqlite3_bind_int64(stmt, idx, n)
            case .real(let d): rc = sqlite3_bind_double(stmt, idx, d)
            case .text(let s): rc = sqlite3_bind_text(stmt, idx, s, -1, SQLiteDatabase.transient)
            }
            if rc != SQLITE_OK { throw error(rc, sql: sql) }
        }
        let n = Int(sqlite3_column_count(stmt))
        let columns = (0..<n).map { String(cString: sqlite3_column_name(stmt, Int32($0))) }
        var rows: [[SQLiteValue]] = []
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error(rc, sql: sql) }
            rows.append((0..<n).map { column(stmt, Int32($0)) })
        }
        return (columns, rows)
    }

    // MARK: - private

    /// SQLITE_TRANSIENT: SQLite copies the bound text before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private func prepared(_ sql: String, _ db: OpaquePointer) throws -> OpaquePointer {
        if let s = statements[sql] { return s }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, sql: sql) }
        statements[sql] = stmt
        return stmt
    }

    private func column(_ stmt: OpaquePointer, _ i: Int32) -> SQLiteValue {
        switch sqlite3_column_type(stmt, i) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(stmt, i))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(stmt, i))
        case SQLITE_NULL: return .null
        default: return sqlite3_column_text(stmt, i).map { .text(String(cString: $0)) } ?? .null
        }
    }

    /// The error for result code `rc`, worded for the common cases a user can act on.
    private func error(_ rc: Int32, sql: String?) -> LuaError {
        let primary = rc & 0xff
        let detail = db.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
        switch primary {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return .runtime("tune: the study file '\(path)' is locked by another process (still busy after \(busyTimeoutMs) ms: \(detail)); nothing was changed")
        case SQLITE_NOTADB, SQLITE_CORRUPT:
            return .runtime("tune: '\(path)' is not a valid SQLite study database (\(detail)); the file was left unchanged")
        case SQLITE_CANTOPEN:
            return .runtime("tune: cannot open the study file '\(path)' (\(detail))")
        case SQLITE_READONLY:
            return .runtime("tune: the study file '\(path)' is read-only (\(detail))")
        default:
            return .runtime("tune: SQLite error on '\(path)': \(detail)" + (sql.map { " (in: \($0))" } ?? ""))
        }
    }
}
