// Monitor: a mutex with one condition variable (pthread), the lock under which the HTTP threads and the
// engine thread share the server's queue and exchanges. `wait(seconds:)` returns after a broadcast or
// the timeout; callers re-check their condition (spurious wake-ups are allowed).
#if canImport(Glibc)
    import Glibc
#endif

final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond); pthread_mutex_destroy(mutex)
        cond.deallocate(); mutex.deallocate()
    }

    /// The longest single wait, in seconds (a year).
    static let maxWait = 365.0 * 86400

    /// Runs `body` holding the lock.
    func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits (the lock held by the caller, inside `locked`) for a broadcast or `seconds` (NaN and negative
    /// values wait 0 s; at most `maxWait`, so that the deadline always fits a timespec).
    func wait(seconds: Double) {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let bounded = seconds >= 0 ? min(seconds, Monitor.maxWait) : 0
        let total = Double(ts.tv_nsec) + bounded * 1e9
        ts.tv_sec += Int(total / 1e9)
        ts.tv_nsec = Int(total.truncatingRemainder(dividingBy: 1e9))
        pthread_cond_timedwait(cond, mutex, &ts)
    }

    /// Wakes every waiter (call with the lock held or not).
    func broadcast() { pthread_cond_broadcast(cond) }

    /// Seconds on the monotonic clock.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
