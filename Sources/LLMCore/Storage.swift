// Storage: a reference-counted, 64-byte aligned block of native memory shared by tensor views.
// Tracks the bytes it holds (live and cumulative, so a host can report them to its GC) and a version
// counter bumped by in-place writes (autograd uses it to detect modified saved tensors).
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Aligned native memory behind one or more ``Tensor`` views.
public final class Storage: @unchecked Sendable {
    /// Start of the block (64-byte aligned).
    public let bytes: UnsafeMutableRawPointer
    /// Size in bytes.
    public let byteCount: Int
    /// Incremented by every in-place write through any view.
    public internal(set) var version: Int = 0

    /// Bytes held by all live storages.
    public static let liveBytes = Atomic<Int>(0)
    /// Bytes allocated since the process started (monotonic); hosts diff it to pace their GC.
    public static let allocatedBytes = Atomic<Int>(0)
    /// Upper bound on a single allocation: the machine's physical memory.
    public static let maxBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        let (p, o) = Int(pages).multipliedReportingOverflow(by: Int(size))
        return o || p <= 0 ? Int(1) << 40 : p
    }()

    /// Allocates `byteCount` bytes, zero-filled when `zeroed`.
    /// - Throws: ``TensorError/memory(_:)`` when the request exceeds physical memory or malloc fails.
    public init(byteCount: Int, zeroed: Bool = true) throws {
        guard byteCount >= 0 else { throw TensorError.memory("cannot allocate a negative size") }
        guard byteCount <= Storage.maxBytes else {
            throw TensorError.memory("cannot allocate \(byteCount) bytes: more than this machine's memory (\(Storage.maxBytes) bytes)")
        }
        if byteCount > 1 << 30 {   // large requests: refuse what the machine cannot back right now
            let free = sysconf(Int32(_SC_AVPHYS_PAGES)), page = sysconf(Int32(_SC_PAGESIZE))
            let (avail, o) = Int(free).multipliedReportingOverflow(by: Int(page))
            if !o && avail > 0 && byteCount > avail {
                throw TensorError.memory("cannot allocate \(byteCount) bytes: only \(avail) bytes of memory are free")
            }
        }
        var p: UnsafeMutableRawPointer? = nil
        let rc = posix_memalign(&p, 64, max(byteCount, 64))
        guard rc == 0, let ptr = p else { throw TensorError.memory("out of memory allocating \(byteCount) bytes") }
        if zeroed { memset(ptr, 0, byteCount) }
        bytes = ptr
        self.byteCount = byteCount
        Storage.liveBytes.add(byteCount, ordering: .relaxed)
        Storage.allocatedBytes.add(byteCount, ordering: .relaxed)
    }

    deinit {
        free(bytes)
        Storage.liveBytes.subtract(byteCount, ordering: .relaxed)
    }

    /// Marks the contents as modified in place.
    public func bumpVersion() { version &+= 1 }
}
