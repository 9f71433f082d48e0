// MemoryAccount: a memory budget that native allocations are charged to. The engine knows nothing of
// who enforces it (a sandboxed Lua state does, see LLMLua's MemoryBudget); a host makes an account
// current on a thread for the duration of a call (`MemoryAccount.withCurrent`), and every `Storage`
// allocated on that thread meanwhile is charged to it before it allocates and credited when freed,
// wherever and whenever that happens. Threads with no current account are not limited. Buffers that
// outlive a call (a writer's pending data, a dedup index) hold a `MemoryCharge` resized as they grow.
#if canImport(Glibc)
    import Glibc
#endif

/// A budget of bytes shared by everything that allocates under it.
public protocol MemoryAccount: AnyObject, Sendable {
    /// Adds `bytes` to the account; false, charging nothing, when they do not fit.
    func charge(_ bytes: Int) -> Bool
    /// Removes `bytes` charged earlier.
    func credit(_ bytes: Int)
    /// The limit in bytes that applies (0: none), for messages.
    var limitBytes: Int { get }
    /// Bytes charged now, for messages.
    var usedBytes: Int { get }
}

/// The account current on each thread (a pthread key: thread-local without Foundation).
public enum MemoryAccounts {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// The account charged by allocations on this thread, if any.
    public static var current: (any MemoryAccount)? {
        guard let p = pthread_getspecific(key) else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue() as? any MemoryAccount
    }

    /// Runs `body` with `account` current on this thread (nested calls restore the previous one). The
    /// caller keeps `account` alive for the duration (it is stored unretained).
    public static func withCurrent<R>(_ account: (any MemoryAccount)?, _ body: () throws -> R) rethrows -> R {
        let previous = pthread_getspecific(key)
        let raw = account.map { Unmanaged<AnyObject>.passUnretained($0).toOpaque() }
        if raw != previous { pthread_setspecific(key, raw) }
        defer { if raw != previous { pthread_setspecific(key, previous) } }
        return try body()
    }

    /// The error for an allocation of `bytes` that `account` refused.
    public static func refusal(_ account: any MemoryAccount, allocating bytes: Int) -> TensorError {
        .memory("sandbox: memory limit of \(account.limitBytes) bytes exceeded (allocating \(bytes) bytes with \(account.usedBytes) in use)")
    }
}

/// Native memory a long-lived buffer holds (a writer's pending data): charged to the account current when
/// the owner was made, resized as the buffer grows and shrinks, credited when released.
public final class MemoryCharge: @unchecked Sendable {
    /// The account charged (nil: nothing is limited).
    public let account: (any MemoryAccount)?
    /// Bytes charged now.
    public private(set) var bytes = 0

    /// A charge of 0 bytes against `account` (by default the one current on this thread). Not thread-safe:
    /// its owner resizes it from one thread at a time.
    public init(account: (any MemoryAccount)? = MemoryAccounts.current) { self.account = account }

    /// Makes the charge `newBytes`. - Throws: ``TensorError/memory(_:)`` when the growth does not fit.
    public func set(_ newBytes: Int) throws {
        let newBytes = Swift.max(newBytes, 0)
        if let account {
            if newBytes > bytes {
                guard account.charge(newBytes - bytes) else { throw MemoryAccounts.refusal(account, allocating: newBytes - bytes) }
            } else if newBytes < bytes {
                account.credit(bytes - newBytes)
            }
        }
        bytes = newBytes
    }

    deinit { if bytes > 0 { account?.credit(bytes) } }
}
