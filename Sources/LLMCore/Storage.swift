// Storage: a reference-counted, 64-byte aligned block of native memory shared by tensor views.
// Tracks the bytes it holds (live and cumulative, so a host can report them to its GC; charged to the
// thread's current MemoryAccount, if any, so a host can limit them) and a version
// counter bumped by in-place writes (autograd uses it to detect modified saved tensors). Large blocks
// stay in malloc's heap between steps (see heapTuned). A read-only alias (``Storage/readOnlyAlias()``)
// shares another storage's memory without owning or counting it: tensors handed to another Lua state
// (parallel.pool) view one, and in-place ops refuse to write through it. A mapped storage
// (``Storage/init(mapped:byteCount:keeping:)``) is read-only too: it views a read-only file mapping (memory-mapped
// checkpoint weights) and keeps the mapping's owner alive, so the map outlives the reader while any tensor uses it.
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

#if canImport(Glibc)
    /// glibc's `int mallopt(int, int)` (malloc.h is not part of the Glibc module).
    @_silgen_name("mallopt") private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
#endif

/// Aligned native memory behind one or more ``Tensor`` views.
public final class Storage: @unchecked Sendable {
    /// Start of the block (64-byte aligned).
    public let bytes: UnsafeMutableRawPointer
    /// Size in bytes.
    public let byteCount: Int
    /// Incremented by every in-place write through any view.
    public internal(set) var version: Int = 0
    /// True for a read-only alias: in-place ops on its views are refused.
    public let isReadOnly: Bool
    /// The storage whose memory an alias shares (kept alive by the alias); nil for an owner.
    private let owner: Storage?
    /// The object owning a mapped storage's memory (a file mapping), kept alive by it; nil otherwise.
    private let mapping: AnyObject?

    /// Bytes held by all live storages.
    public static let liveBytes = Atomic<Int>(0)
    /// Bytes allocated since the process started (monotonic); hosts diff it to pace their GC.
    public static let allocatedBytes = Atomic<Int>(0)
    /// The budget this block is charged to (the thread's ``MemoryAccounts/current`` when it was made);
    /// credited when the block is freed, on whatever thread that happens.
    public let account: (any MemoryAccount)?
    /// Upper bound on a single allocation: the machine's physical memory.
    public static let maxBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        let (p, o) = Int(pages).multipliedReportingOverflow(by: Int(size))
        return o || p <= 0 ? Int(1) << 40 : p
    }()

    /// Keeps freed tensor blocks (up to 1 GiB each) in malloc's heap instead of returning them to the kernel
    /// with munmap: a training step frees and re-allocates the same sizes every step, and fresh mmap'd pages
    /// cost a page fault plus a kernel zero-fill per 4 KiB on first touch. Peak RSS is unchanged.
    static let heapTuned: Bool = {
        #if canImport(Glibc)
            _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 1 << 30)
            _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, 1 << 30)
        #endif
        return true
    }()

    /// Allocates `byteCount` bytes, zero-filled when `zeroed`.
    /// - Throws: ``TensorError/memory(_:)`` when the request exceeds physical memory or malloc fails.
    public init(byteCount: Int, zeroed: Bool = true) throws {
        guard byteCount >= 0 else { throw TensorError.memory("cannot allocate a negative size") }
        let account = MemoryAccounts.current
        if let account, !account.charge(byteCount) {
            throw MemoryAccounts.refusal(account, allocating: byteCount)
        }
        guard byteCount <= Storage.maxBytes else {
            account?.credit(byteCount)
            throw TensorError.memory("cannot allocate \(byteCount) bytes: more than this machine's memory (\(Storage.maxBytes) bytes)")
        }
        if byteCount > 1 << 30 {  // large requests: refuse what the machine cannot back right now
            let free = sysconf(Int32(_SC_AVPHYS_PAGES)), page = sysconf(Int32(_SC_PAGESIZE))
            let (avail, o) = Int(free).multipliedReportingOverflow(by: Int(page))
            if !o && avail > 0 && byteCount > avail {
                account?.credit(byteCount)
                throw TensorError.memory("cannot allocate \(byteCount) bytes: only \(avail) bytes of memory are free")
            }
        }
        _ = Storage.heapTuned
        var p: UnsafeMutableRawPointer? = nil
        let rc = posix_memalign(&p, 64, max(byteCount, 64))
        guard rc == 0, let ptr = p else {
            account?.credit(byteCount)
            throw TensorError.memory("out of memory allocating \(byteCount) bytes")
        }
        if zeroed { memset(ptr, 0, byteCount) }
        bytes = ptr
        self.byteCount = byteCount
        self.account = account
        isReadOnly = false
        owner = nil
        mapping = nil
        Storage.liveBytes.add(byteCount, ordering: .relaxed)
        Storage.allocatedBytes.add(byteCount, ordering: .relaxed)
    }

    /// A read-only view of `base`'s memory (of its owner when `base` is itself an alias).
    private init(aliasing base: Storage) {
        let root = base.owner ?? base
        bytes = root.bytes
        byteCount = root.byteCount
        account = nil
        isReadOnly = true
        owner = root
        mapping = nil
    }

    /// A read-only storage over `byteCount` bytes at `mapped`, memory that `keeping` owns (a read-only file
    /// mapping): nothing is copied or counted, in-place ops on its views fail, and `keeping` lives as long as
    /// this storage. `mapped` must stay valid and unmodified while `keeping` lives.
    public init(mapped: UnsafeRawPointer, byteCount: Int, keeping: AnyObject) {
        bytes = UnsafeMutableRawPointer(mutating: mapped)
        self.byteCount = byteCount
        account = nil
        isReadOnly = true
        owner = nil
        mapping = keeping
    }

    /// A read-only alias of this memory: views of it read the same bytes (and see later writes through the
    /// owner's views), while their in-place ops fail. The memory lives as long as any alias does; it stays
    /// counted once, against the owner's account.
    public func readOnlyAlias() -> Storage { Storage(aliasing: self) }

    deinit {
        guard owner == nil, mapping == nil else { return }
        free(bytes)
        account?.credit(byteCount)
        Storage.liveBytes.subtract(byteCount, ordering: .relaxed)
    }

    /// Marks the contents as modified in place.
    public func bumpVersion() { version &+= 1 }
}
