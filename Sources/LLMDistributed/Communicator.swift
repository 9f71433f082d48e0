// Communicator: collectives over MPI (Open MPI's libmpi, loaded at run time by CMPIShim on the first
// `Communicator.world()`), on float32 contiguous tensors in place, without staging copies. Size 1
// (a process not started by mpirun) works: every collective is then the identity. Each collective first
// all-reduces a short shape signature (min and max of [op, count, shape...]) so that ranks passing
// different shapes get a clear error on every rank instead of corrupt data or a hang; a watchdog aborts
// the job with a message when a collective has not completed within `timeout` seconds.
// MPI is initialised without thread support (MPI_Init): call collectives from one thread at a time.
// Sub-communicators from `split` are not freed (MPI_Comm_free) before MPI_Finalize.
import CMPIShim
import Foundation
import LLMCore
import Synchronization

/// Reduction of ``Communicator/allReduce(_:op:)``.
public enum ReduceOp: String, Sendable, CaseIterable {
    case sum, avg, max, min
}

/// A group of processes (an MPI communicator) and the collectives over it.
public final class Communicator: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    /// This process's index within the group, 0..<size.
    public let rank: Int
    /// Number of processes in the group.
    public let size: Int
    /// Seconds a collective may wait for the other ranks before the watchdog aborts the job.
    public static let timeout = Mutex<Double>(Communicator.defaultTimeout())
    private static let worldComm = Mutex<Communicator?>(nil)

    init(_ handle: UnsafeMutableRawPointer) throws {
        self.handle = handle
        var r: Int32 = 0, s: Int32 = 0
        try Communicator.check(llms_mpi_rank(handle, &r), "MPI_Comm_rank")
        try Communicator.check(llms_mpi_size(handle, &s), "MPI_Comm_size")
        rank = Int(r); size = Int(s)
    }

    static func defaultTimeout() -> Double {
        if let s = ProcessInfo.processInfo.environment["LLMS_DIST_TIMEOUT"], let v = Double(s), v > 0 { return v }
        return 300
    }

    /// Loads libmpi (once), initialises MPI and returns the world communicator.
    ///
    /// Throws ``DistError`` naming the library and the Debian packages when libmpi cannot be loaded.
    public static func world() throws -> Communicator {
        try worldComm.withLock { w in
            if let w { return w }
            if llms_mpi_load(nil) != 0 {
                let why = String(cString: llms_mpi_error())
                throw DistError(
                    "dist: cannot load MPI (libmpi.so.40, Open MPI): \(why); install the Debian packages libopenmpi-dev and openmpi-bin, or set LLMS_MPI_LIB to the library's path")
            }
            try check(llms_mpi_init(), "MPI_Init")
            guard let h = llms_mpi_world() else { throw DistError("dist: MPI has no world communicator") }
            let c = try Communicator(h)
            w = c
            return c
        }
    }

    /// When MPI runs with more than one rank, prints that this rank failed and aborts the whole job
    /// (MPI_Abort): the other ranks would otherwise wait for it in their next collective or in
    /// MPI_Finalize. Does nothing in a single process or before `world()`.
    public static func abortJobIfDistributed(status: Int32) {
        guard let w = initialized, w.size > 1 else { return }
        FileHandle.standardError.write(Data("dist: rank \(w.rank) of \(w.size) failed (exit status \(status)); aborting the job\n".utf8))
        llms_mpi_abort(status)
    }

    /// The world communicator if `world()` has run, else nil.
    public static var initialized: Communicator? { worldComm.withLock { $0 } }

    static func check(_ rc: Int32, _ what: String) throws {
        guard rc != 0 else { return }
        var buf = [CChar](repeating: 0, count: 512)
        llms_mpi_error_string(rc, &buf, 512)
        let text = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw DistError("\(what) failed: \(text)")
    }

    /// Runs `body` (one MPI call) under the watchdog.
    func guarded(_ what: String, _ body: () -> Int32) throws {
        let t = Communicator.timeout.withLock { $0 }
        llms_mpi_watch_begin(
            "dist: rank \(rank) of \(size): \(what) did not complete within \(Int(t)) s: another rank died, hangs or did not call it; aborting the job (set LLMS_DIST_TIMEOUT to change the limit)",
            t)
        let rc = body()
        llms_mpi_watch_end()
        try Communicator.check(rc, what)
    }

    /// Throws unless every rank passes the same signature (checked with one min/max all-reduce).
    func agree(_ what: String, _ signature: [Int64], detail: String) throws {
        var buf = signature + signature.map { -$0 }
        let n = Int32(signature.count)
        try guarded(what) { llms_mpi_allreduce_int64(handle, &buf, 2 * n, 1) }
        let maxs = Array(buf[0..<signature.count]), mins = buf[signature.count...].map { -$0 }
        guard maxs != signature || mins != signature else { return }
        throw DistError("\(what): ranks passed different shapes or arguments (rank \(rank) of \(size) passed \(detail))")
    }

    /// [tag, extra, rank of shape, dims padded to 8]: the same length on every rank.
    func signature(_ tag: Int64, _ t: Tensor, extra: Int64 = 0) -> [Int64] {
        [tag, extra, Int64(t.shape.count)] + t.shape.map(Int64.init) + Array(repeating: 0, count: max(0, 8 - t.shape.count))
    }

    static func shapeText(_ t: Tensor) -> String { "shape {" + t.shape.map(String.init).joined(separator: ", ") + "}" }

    func checkTensor(_ t: Tensor, _ what: String, writes: Bool = false) throws {
        if writes && t.isReadOnly {
            throw DistError("dist.\(what): the tensor is \(Tensor.readOnlyReason)")
        }
        guard t.dtype == .float32 else { throw DistError("dist.\(what): expected a float32 tensor, got \(t.dtype)") }
        guard t.isContiguous else { throw DistError("dist.\(what): expected a contiguous tensor (call :contiguous() first)") }
        guard t.shape.count <= 8 else { throw DistError("dist.\(what): tensors of rank above 8 are not supported") }
    }

    /// Waits until every rank has reached the barrier.
    public func barrier() throws { try guarded("dist.barrier") { llms_mpi_barrier(handle) } }

    /// Overwrites `t` on every rank with root's values.
    public func broadcast(_ t: Tensor, root: Int) throws {
        try checkTensor(t, "broadcast", writes: true)
        guard root >= 0 && root < size else { throw DistError("dist.broadcast: root \(root) is not a rank (size \(size))") }
        try agree("dist.broadcast", signature(1, t, extra: Int64(root)), detail: "\(Self.shapeText(t)) with root \(root)")
        try guarded("dist.broadcast") { llms_mpi_bcast(handle, t.rawPointer, Int64(t.count), 0, Int32(root)) }
    }

    /// Reduces `t` across ranks in place: every rank ends with the sum (average, max, min).
    public func allReduce(_ t: Tensor, op: ReduceOp) throws {
        try checkTensor(t, "allReduce", writes: true)
        let code: Int64 = op == .max ? 1 : op == .min ? 2 : 0
        try agree("dist.allReduce", signature(2, t, extra: Int64(ReduceOp.allCases.firstIndex(of: op) ?? 0) + 1), detail: "\(Self.shapeText(t)) with op '\(op.rawValue)'")
        try guarded("dist.allReduce") { llms_mpi_allreduce_float(handle, t.f32, Int64(t.count), Int32(code)) }
        if op == .avg && size > 1 {
            let p = t.f32, s = Float(size)
            for i in 0..<t.count { p[i] /= s }
        }
    }

    /// The tensors of all ranks stacked along a new first dimension (shape [size, ...t.shape]).
    public func allGather(_ t: Tensor) throws -> Tensor {
        try checkTensor(t, "allGather")
        try agree("dist.allGather", signature(3, t), detail: Self.shapeText(t))
        guard t.count <= Int(Int32.max) else { throw DistError("dist.allGather: tensor too large (\(t.count) elements)") }
        let out = try Tensor(shape: [size] + t.shape, dtype: .float32)
        try guarded("dist.allGather") { llms_mpi_allgather_float(handle, t.f32, out.f32, Int32(t.count)) }
        return out
    }

    /// Splits the group: ranks with the same `color` form a new communicator, ordered by `key`.
    public func split(color: Int, key: Int) throws -> Communicator {
        guard color >= 0 && color <= Int(Int32.max) else { throw DistError("dist.split: color must be a non-negative integer, got \(color)") }
        var out: UnsafeMutableRawPointer?
        try guarded("dist.split") { llms_mpi_split(handle, Int32(color), Int32(clamping: key), &out) }
        guard let out else { throw DistError("dist.split: MPI returned no communicator") }
        return try Communicator(out)
    }
}
