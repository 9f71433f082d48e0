// Communicator+Exchange: the collectives beyond the basic four — reduce-scatter, point-to-point send and
// receive (blocking and non-blocking), the non-blocking all-reduce the overlapped data-parallel reducer
// uses, and the all-reduce with a 16-bit wire format (gradient compression). Same rules as Communicator:
// float32 contiguous tensors, no staging copies (except the 16-bit wire buffer), errors as DistError, every
// blocking wait under the watchdog. Point-to-point messages carry no shape signature (the sender's and
// receiver's counts are compared when the message arrives: a mismatch is an error on the receiver).
import CMPIShim
import LLMCore

/// Wire format of a compressed all-reduce.
public enum WireFormat: String, Sendable, CaseIterable {
    /// IEEE 754 half precision (5-bit exponent: gradients above 65504 overflow to infinity).
    case f16
    /// bfloat16 (float32's exponent range, 8-bit mantissa).
    case bf16
}

/// A non-blocking operation in flight. It keeps its tensor alive until ``wait()`` completes it; a request
/// must be waited on (or tested until done) before its tensor is read or written.
public final class Request: @unchecked Sendable {
    var handle: UnsafeMutableRawPointer?
    /// The tensor the operation reads or writes (kept alive until completion).
    public private(set) var tensor: Tensor?
    let what: String
    let expectedCount: Int?
    let communicator: Communicator
    /// Work to run once complete (averaging of an all-reduce).
    let completion: ((Tensor) -> Void)?

    init(_ handle: UnsafeMutableRawPointer?, tensor: Tensor, what: String, expectedCount: Int?, communicator: Communicator, completion: ((Tensor) -> Void)? = nil) {
        self.handle = handle; self.tensor = tensor; self.what = what; self.expectedCount = expectedCount
        self.communicator = communicator; self.completion = completion
    }

    deinit {
        // Never waited: MPI may still read or write the tensor's memory, so it is kept alive for good.
        if handle != nil, let t = tensor { _ = Unmanaged.passRetained(t) }
    }

    /// True once the operation completed (after a successful wait or test).
    public var isComplete: Bool { handle == nil }

    private func finish(received: Int32) throws {
        handle = nil
        let t = tensor
        tensor = nil
        if let n = expectedCount, Int(received) != n {
            throw DistError("\(what): expected \(n) floats, the sender sent \(received) (the tensors differ in size)")
        }
        if let t { completion?(t) }
    }

    /// Blocks until the operation completes (under the watchdog). Waiting twice is allowed (the second returns at once).
    public func wait() throws {
        guard handle != nil else { return }
        var received: Int32 = -1
        try communicator.guarded(what + " (wait)") { llms_mpi_wait(&handle, &received) }
        try finish(received: received)
    }

    /// Completes the operation if it is done; returns whether it is. Never blocks.
    public func test() throws -> Bool {
        guard handle != nil else { return true }
        var done: Int32 = 0, received: Int32 = -1
        try Communicator.check(llms_mpi_test(&handle, &done, &received), what + " (test)")
        if done != 0 { try finish(received: received) }
        return done != 0
    }
}

extension Communicator {
    private func int32Count(_ t: Tensor, _ what: String) throws -> Int32 {
        guard t.count <= Int(Int32.max) else { throw DistError("\(what): tensor too large (\(t.count) elements; at most \(Int32.max))") }
        return Int32(t.count)
    }

    private func peer(_ r: Int, _ what: String, _ role: String) throws -> Int32 {
        guard r >= 0 && r < size else { throw DistError("\(what): \(role) \(r) is not a rank (size \(size))") }
        guard r != rank else { throw DistError("\(what): \(role) \(r) is this rank itself") }
        return Int32(r)
    }

    private func checkTag(_ tag: Int, _ what: String) throws -> Int32 {
        guard tag >= 0 && tag <= 32767 else { throw DistError("\(what): tag must be in 0...32767, got \(tag)") }
        return Int32(tag)
    }

    private static func opCode(_ op: ReduceOp) -> Int32 { op == .max ? 1 : op == .min ? 2 : 0 }

    private func divide(_ t: Tensor, by s: Int) {
        guard s > 1 else { return }
        let p = t.f32, f = Float(s)
        for i in 0..<t.count { p[i] /= f }
    }

    /// Reduces `t` across ranks and scatters the result: rank r receives elements
    /// [r·n/size, (r+1)·n/size) of the reduction, as a new 1-D tensor of n/size elements.
    ///
    /// `t.count` must be divisible by `size`.
    public func reduceScatter(_ t: Tensor, op: ReduceOp) throws -> Tensor {
        try checkTensor(t, "reduceScatter")
        guard t.count % size == 0 else {
            throw DistError("dist.reduceScatter: \(t.count) elements do not divide among \(size) ranks (pad the tensor to a multiple of \(size))")
        }
        let block = t.count / size
        guard block <= Int(Int32.max) else { throw DistError("dist.reduceScatter: blocks of \(block) elements are too large") }
        try agree("dist.reduceScatter", signature(4, t, extra: Int64(ReduceOp.allCases.firstIndex(of: op) ?? 0) + 1), detail: "\(Self.shapeText(t)) with op '\(op.rawValue)'")
        let out = try Tensor(shape: [block], dtype: .float32)
        try guarded("dist.reduceScatter") { llms_mpi_reduce_scatter_float(handle, t.f32, out.f32, Int32(block), Self.opCode(op)) }
        if op == .avg { divide(out, by: size) }
        return out
    }

    /// Sends `t` to rank `to` (blocks until the buffer can be reused).
    public func send(_ t: Tensor, to: Int, tag: Int = 0) throws {
        try checkTensor(t, "send")
        let n = try int32Count(t, "dist.send"), dst = try peer(to, "dist.send", "destination"), tg = try checkTag(tag, "dist.send")
        try guarded("dist.send to rank \(to)") { llms_mpi_send_float(handle, t.f32, n, dst, tg) }
    }

    /// Receives into `t` from rank `from`; the message must have exactly `t.count` floats.
    public func recv(_ t: Tensor, from: Int, tag: Int = 0) throws {
        try checkTensor(t, "recv", writes: true)
        let n = try int32Count(t, "dist.recv"), src = try peer(from, "dist.recv", "source"), tg = try checkTag(tag, "dist.recv")
        var received: Int32 = 0
        try guarded("dist.recv from rank \(from)") { llms_mpi_recv_float(handle, t.f32, n, src, tg, &received) }
        guard received == n else { throw DistError("dist.recv: expected \(n) floats from rank \(from), received \(received) (the tensors differ in size)") }
    }

    /// Starts sending `t` to rank `to`; `t` must not be modified until the request completes.
    public func isend(_ t: Tensor, to: Int, tag: Int = 0) throws -> Request {
        try checkTensor(t, "isend")
        let n = try int32Count(t, "dist.isend"), dst = try peer(to, "dist.isend", "destination"), tg = try checkTag(tag, "dist.isend")
        var req: UnsafeMutableRawPointer?
        try Communicator.check(llms_mpi_isend_float(handle, t.f32, n, dst, tg, &req), "dist.isend")
        return Request(req, tensor: t, what: "dist.isend to rank \(to)", expectedCount: nil, communicator: self)
    }

    /// Starts receiving into `t` from rank `from`; read `t` only after the request completes.
    public func irecv(_ t: Tensor, from: Int, tag: Int = 0) throws -> Request {
        try checkTensor(t, "irecv", writes: true)
        let n = try int32Count(t, "dist.irecv"), src = try peer(from, "dist.irecv", "source"), tg = try checkTag(tag, "dist.irecv")
        var req: UnsafeMutableRawPointer?
        try Communicator.check(llms_mpi_irecv_float(handle, t.f32, n, src, tg, &req), "dist.irecv")
        return Request(req, tensor: t, what: "dist.irecv from rank \(from)", expectedCount: Int(n), communicator: self)
    }

    /// Starts an in-place all-reduce of `t` (averaged on completion for `.avg`). No shape signature is
    /// exchanged (that would block): every rank must start the same sequence of non-blocking all-reduces.
    public func iallReduce(_ t: Tensor, op: ReduceOp) throws -> Request {
        try checkTensor(t, "iallReduce", writes: true)
        let n = try int32Count(t, "dist.iallReduce")
        if size == 1 { return Request(nil, tensor: t, what: "dist.iallReduce", expectedCount: nil, communicator: self) }
        var req: UnsafeMutableRawPointer?
        try Communicator.check(llms_mpi_iallreduce_float(handle, t.f32, n, Self.opCode(op), &req), "dist.iallReduce")
        let s = size
        return Request(
            req, tensor: t, what: "dist.iallReduce", expectedCount: nil, communicator: self,
            completion: op == .avg ? { [weak self] t in self?.divide(t, by: s) } : nil)
    }

    /// All-reduce (sum or average) with the values sent as 16-bit floats: half the bytes on the wire, at
    /// the cost of rounding each value and each partial sum to the 16-bit format.
    public func allReduce(_ t: Tensor, op: ReduceOp, wire: WireFormat) throws {
        try checkTensor(t, "allReduce", writes: true)
        guard op == .sum || op == .avg else {
            throw DistError("dist.allReduce: compress='\(wire.rawValue)' supports op 'sum' and 'avg', not '\(op.rawValue)'")
        }
        try agree(
            "dist.allReduce", signature(5, t, extra: (op == .avg ? 10 : 20) + (wire == .bf16 ? 1 : 0)),
            detail: "\(Self.shapeText(t)) with op '\(op.rawValue)' and compress '\(wire.rawValue)'")
        guard size > 1 else { return }
        try guarded("dist.allReduce") { llms_mpi_allreduce_half(handle, t.f32, Int64(t.count), wire == .bf16 ? 1 : 0) }
        if op == .avg { divide(t, by: size) }
    }
}
