// DedupTable: the compact state behind dedup. `HashIndex64` is an open-addressing table (linear probing,
// load <= 0.7, power-of-two capacity) from a 64-bit key to a UInt32 document ordinal: 12 bytes a slot,
// so tens of millions of band buckets fit in a few hundred MB. `IdStore` keeps document ids as one byte
// buffer plus offsets, so drop reasons can name the kept document without a String per document.

/// An open-addressing map from UInt64 keys to UInt32 values. Key 0 is stored as 1 (the empty marker).
public struct HashIndex64: Sendable {
    var keys: [UInt64]
    var vals: [UInt32]
    var mask: Int
    /// Number of entries.
    public private(set) var count = 0

    public init(capacity: Int = 1024) {
        var c = 16
        while c < capacity * 10 / 7 { c <<= 1 }
        keys = [UInt64](repeating: 0, count: c); vals = [UInt32](repeating: 0, count: c); mask = c - 1
    }

    /// Approximate memory held, in bytes.
    public var bytes: Int { keys.count * 12 }

    /// The value for `key`, if present.
    @inline(__always)
    public func get(_ key: UInt64) -> UInt32? {
        let k = key == 0 ? 1 : key
        var i = Int(truncatingIfNeeded: DedupHash.mix64(k)) & mask
        while true {
            let s = keys[i]
            if s == k { return vals[i] }
            if s == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    /// Inserts `key -> value` unless the key is present; returns the value now stored.
    @inline(__always) @discardableResult
    public mutating func insertIfAbsent(_ key: UInt64, _ value: UInt32) -> UInt32 {
        if (count + 1) * 10 > keys.count * 7 { grow() }
        let k = key == 0 ? 1 : key
        var i = Int(truncatingIfNeeded: DedupHash.mix64(k)) & mask
        while true {
            let s = keys[i]
            if s == k { return vals[i] }
            if s == 0 { keys[i] = k; vals[i] = value; count += 1; return value }
            i = (i + 1) & mask
        }
    }

    mutating func grow() {
        let oldK = keys, oldV = vals
        let c = keys.count * 2
        keys = [UInt64](repeating: 0, count: c); vals = [UInt32](repeating: 0, count: c); mask = c - 1
        for j in 0..<oldK.count where oldK[j] != 0 {
            var i = Int(truncatingIfNeeded: DedupHash.mix64(oldK[j])) & mask
            while keys[i] != 0 { i = (i + 1) & mask }
            keys[i] = oldK[j]; vals[i] = oldV[j]
        }
    }
}

/// Document ids in one buffer, indexed by ordinal.
public struct IdStore: Sendable {
    var bytes: [UInt8] = []
    var ends: [UInt32] = []
    public init() {}
    public var count: Int { ends.count }

    /// Appends `id` (truncated to 256 bytes); returns its ordinal.
    @discardableResult
    public mutating func append(_ id: String) -> Int {
        bytes.append(contentsOf: id.utf8.prefix(256))
        ends.append(UInt32(truncatingIfNeeded: bytes.count))
        return ends.count - 1
    }

    /// The id at `ordinal`.
    public subscript(ordinal: Int) -> String {
        guard ordinal >= 0 && ordinal < ends.count else { return "" }
        let lo = ordinal == 0 ? 0 : Int(ends[ordinal - 1]), hi = Int(ends[ordinal])
        return String(decoding: bytes[lo..<hi], as: UTF8.self)
    }
}
