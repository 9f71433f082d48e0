// BPEHashTables: the two open-addressing hash tables behind BPE training and encoding, faster than
// Dictionary for their fixed key shapes. PairTable maps a packed id pair (UInt64) to an Int64;
// ByteStringTable interns byte strings (pre-tokens) and gives each a dense index. Neither deletes
// single keys; both can be cleared. Capacities are powers of two, kept at most half full.

/// Packs an id pair as `a << 32 | b`, so pairs order lexicographically as integers.
@inline(__always) func packPair(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

/// Open-addressing map from packed id pairs to Int64 values. `UInt64.max` is reserved (empty slot).
struct PairTable {
    private(set) var keys: [UInt64]
    private(set) var values: [Int64]
    private var shift: UInt64
    private(set) var count = 0
    /// Slots filled since the last clear (so clearing costs what was used, not the capacity).
    private var used: [Int] = []

    init(capacity: Int = 16) {
        var bits = 4
        while (1 << bits) < capacity * 2 { bits += 1 }
        keys = [UInt64](repeating: .max, count: 1 << bits)
        values = [Int64](repeating: 0, count: 1 << bits)
        shift = UInt64(64 - bits)
    }

    @inline(__always) private func home(_ k: UInt64) -> Int { Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The value for `k`, or nil.
    @inline(__always) func get(_ k: UInt64) -> Int64? {
        let mask = keys.count - 1
        var i = home(k)
        while true {
            let key = keys[i]
            if key == k { return values[i] }
            if key == .max { return nil }
            i = (i + 1) & mask
        }
    }

    /// The slot of `k`, inserting it with value 0 when absent. Valid until the next insertion.
    @inline(__always) mutating func slot(_ k: UInt64) -> (index: Int, inserted: Bool) {
        if (count + 1) * 2 > keys.count { grow() }
        let mask = keys.count - 1
        var i = home(k)
        while true {
            let key = keys[i]
            if key == k { return (i, false) }
            if key == .max {
                keys[i] = k; values[i] = 0; count += 1; used.append(i)
                return (i, true)
            }
            i = (i + 1) & mask
        }
    }

    /// Sets `k` to `v`.
    mutating func set(_ k: UInt64, _ v: Int64) { let s = slot(k).index; values[s] = v }

    /// Adds `d` to the value of `k` (0 when absent) and returns the new value.
    @inline(__always) @discardableResult
    mutating func add(_ k: UInt64, _ d: Int64) -> Int64 { let s = slot(k).index; values[s] &+= d; return values[s] }

    /// Removes every key.
    mutating func removeAll() {
        for i in used { keys[i] = .max }
        used.removeAll(keepingCapacity: true)
        count = 0
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        var bits = 64 - Int(shift) + 1
        if bits < 4 { bits = 4 }
        keys = [UInt64](repeating: .max, count: 1 << bits)
        values = [Int64](repeating: 0, count: 1 << bits)
        shift = UInt64(64 - bits)
        count = 0
        used.removeAll(keepingCapacity: true)
        for (i, k) in oldKeys.enumerated() where k != .max { set(k, oldValues[i]) }
    }
}

/// Interns byte strings: each distinct string gets the next dense index (0, 1, 2, ...).
struct ByteStringTable {
    private var slots: [Int32]  // entry index + 1; 0 = empty
    private var hashes: [UInt64] = []
    /// Entry i's bytes are `bytes[starts[i]..<starts[i + 1]]`.
    private(set) var starts: [Int] = [0]
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 1024) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        slots = [Int32](repeating: 0, count: n)
    }

    var count: Int { hashes.count }

    /// A 64-bit hash of `n` bytes at `p`, eight bytes at a time.
    @inline(__always) static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 8 <= n {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0, s: UInt64 = 0
        while i < n { tail |= UInt64(p[i]) << s; s += 8; i += 1 }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 29)
    }

    /// The index of the `n` bytes at `p`, inserting them when new.
    @inline(__always)
    mutating func findOrInsert(_ p: UnsafePointer<UInt8>, _ n: Int) -> (index: Int, inserted: Bool) {
        if (count + 1) * 2 > slots.count { grow() }
        let h = Self.hash(p, n)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h >> 7) & mask
        while true {
            let e = Int(slots[i]) - 1
            if e < 0 {
                slots[i] = Int32(count + 1)
                hashes.append(h)
                bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
                starts.append(bytes.count)
                return (count - 1, true)
            }
            if hashes[e] == h && starts[e + 1] - starts[e] == n && equal(e, p, n) { return (e, false) }
            i = (i + 1) & mask
        }
    }

    @inline(__always) private func equal(_ e: Int, _ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        bytes.withUnsafeBufferPointer { b in memcmpBytes(b.baseAddress! + starts[e], p, n) }
    }

    /// Calls `body` with the bytes of entry `i`.
    func withKey<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[starts[i]..<starts[i + 1]])) }
    }

    /// Removes every entry (keeps the capacity).
    mutating func removeAll() {
        for i in slots.indices { slots[i] = 0 }
        hashes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true); starts.append(0)
        bytes.removeAll(keepingCapacity: true)
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for (e, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h >> 7) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = Int32(e + 1)
        }
    }
}

/// `n` bytes at `a` equal `n` bytes at `b`.
@inline(__always) func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 8 <= n {
        if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
        i += 8
    }
    while i < n { if a[i] != b[i] { return false }; i += 1 }
    return true
}
