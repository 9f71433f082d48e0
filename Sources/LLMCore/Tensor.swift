// Tensor: one dtype-erased n-d array (shape + strides + offset over a shared Storage) that also carries
// its autograd state (requiresGrad, grad, the node that produced it). Ops live in Ops/*.swift as
// extensions; every op validates its input and throws TensorError instead of trapping.

/// An n-dimensional array with a runtime ``DType``, viewing a shared ``Storage``.
///
/// In Lua: `local t = llm.tensor{{1, 2}, {3, 4}}; print(t:shape()[1], t:sum():item())`.
public final class Tensor: @unchecked Sendable {
    /// The shared memory this tensor views.
    public let storage: Storage
    /// Element type.
    public let dtype: DType
    /// Dimensions (0-based in Swift).
    public let shape: [Int]
    /// Element strides per dimension (0 on broadcast dims).
    public let strides: [Int]
    /// Element offset of the first element within `storage`.
    public let offset: Int
    /// Number of elements.
    public let count: Int

    /// Accumulated gradient of a leaf after `backward()`.
    public var grad: Tensor?
    /// The autograd node that produced this tensor, nil for leaves.
    public internal(set) var gradNode: Node?
    var requiresGradFlag: Bool = false

    /// Creates a view. `count` is derived from `shape` (already validated by the caller).
    init(storage: Storage, dtype: DType, shape: [Int], strides: [Int], offset: Int) {
        self.storage = storage
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.offset = offset
        var n = 1
        for d in shape { n &*= d }
        self.count = n
    }

    /// Allocates a new contiguous tensor.
    /// - Throws: when the shape is invalid or too large.
    public convenience init(shape: [Int], dtype: DType = .float32, zeroed: Bool = true) throws {
        let n = try Shape.elementCount(shape)
        let (bytes, o) = n.multipliedReportingOverflow(by: dtype.itemSize)
        guard !o else { throw TensorError.memory("tensor too large: \(shapeString(shape))") }
        let storage = try Storage(byteCount: bytes, zeroed: zeroed)
        self.init(storage: storage, dtype: dtype, shape: shape, strides: Shape.contiguousStrides(shape), offset: 0)
    }

    /// Creates a contiguous f32 tensor holding `values` (count must match the shape).
    public convenience init(_ values: [Float], shape: [Int]) throws {
        try self.init(shape: shape, zeroed: false)
        guard values.count == count else {
            throw TensorError.shape("tensor: \(values.count) values do not fill shape \(shapeString(shape))")
        }
        values.withUnsafeBufferPointer { src in
            if let b = src.baseAddress { f32.update(from: b, count: values.count) }
        }
    }

    /// A view sharing this tensor's storage.
    public func view(shape: [Int], strides: [Int], offset: Int) -> Tensor {
        Tensor(storage: storage, dtype: dtype, shape: shape, strides: strides, offset: offset)
    }

    /// The same view over a read-only alias of the storage (no autograd state): in-place ops on it and on
    /// its views fail, while it reads the same memory. How tensors cross to another Lua state.
    public func readOnlyShare() -> Tensor {
        Tensor(storage: storage.readOnlyAlias(), dtype: dtype, shape: shape, strides: strides, offset: offset)
    }
    /// A contiguous read-only tensor over memory owned by `keeping` (a file mapping; see
    /// ``Storage/init(mapped:byteCount:keeping:)``): nothing is copied, in-place ops fail.
    public static func mapped(_ p: UnsafeRawPointer, shape: [Int], dtype: DType, keeping: AnyObject) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(
            storage: Storage(mapped: p, byteCount: n * dtype.itemSize, keeping: keeping), dtype: dtype, shape: shape,
            strides: Shape.contiguousStrides(shape), offset: 0)
    }
    /// True when in-place ops are refused (a view of a read-only storage alias).
    public var isReadOnly: Bool { storage.isReadOnly }

    /// Why a read-only tensor cannot be written, and the way out — the one wording every refusal uses.
    public static let readOnlyReason =
        "read-only (shared with another Lua state by parallel.pool, or memory-mapped from a checkpoint); clone() it for a writable copy"

    /// Rank.
    public var rank: Int { shape.count }
    /// True when the elements are laid out row-major without gaps.
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected &*= shape[i]
        }
        return true
    }
    /// Native bytes of the storage (shared by views).
    public var storageBytes: Int { storage.byteCount }

    /// Typed pointer to the first element of an f32 tensor (callers check dtype and layout).
    @inlinable public var f32: UnsafeMutablePointer<Float> {
        storage.bytes.assumingMemoryBound(to: Float.self) + offset
    }
    /// Raw pointer to the first element.
    @inlinable public var rawPointer: UnsafeMutableRawPointer { storage.bytes + offset * dtype.itemSize }

    /// True when autograd tracks this tensor.
    public var requiresGrad: Bool { requiresGradFlag }
    /// True when no op produced it (user-created or detached).
    public var isLeaf: Bool { gradNode == nil }

    /// Marks a leaf as requiring (or not) a gradient.
    /// - Throws: on non-float tensors and on non-leaf tensors.
    public func setRequiresGrad(_ flag: Bool) throws {
        guard isLeaf else {
            throw TensorError.autograd("requiresGrad can only be changed on leaf tensors (this one was produced by \(gradNode!.op.kind.rawValue)); use detach()")
        }
        if flag && dtype != .float32 {
            throw TensorError.autograd("only float32 tensors can require gradients, this one is \(dtype.rawValue)")
        }
        requiresGradFlag = flag
    }

    /// Calls `body` with the storage offset of every element, in row-major order.
    @inlinable public func forEachOffset(_ body: (Int) -> Void) {
        forEachStridedOffset(shape: shape, strides: strides, base: offset, body)
    }

    /// The value of element at storage offset `o`, converted to Double.
    @inlinable public func load(at o: Int) -> Double {
        let p = storage.bytes
        switch dtype {
        case .float32: return Double(p.load(fromByteOffset: o * 4, as: Float.self))
        case .int32: return Double(p.load(fromByteOffset: o * 4, as: Int32.self))
        case .int64: return Double(p.load(fromByteOffset: o * 8, as: Int64.self))
        case .uint8: return Double(p.load(fromByteOffset: o, as: UInt8.self))
        case .int8: return Double(p.load(fromByteOffset: o, as: Int8.self))
        case .float16: return Double(Float(Float16(bitPattern: p.load(fromByteOffset: o * 2, as: UInt16.self))))
        case .bfloat16: return Double(Float(bitPattern: UInt32(p.load(fromByteOffset: o * 2, as: UInt16.self)) << 16))
        }
    }

    /// The exact integer value at storage offset `o` (integer dtypes; floats are truncated and saturated).
    @inlinable public func loadInteger(at o: Int) -> Int64 {
        let p = storage.bytes
        switch dtype {
        case .int64: return p.load(fromByteOffset: o * 8, as: Int64.self)
        case .int32: return Int64(p.load(fromByteOffset: o * 4, as: Int32.self))
        case .uint8: return Int64(p.load(fromByteOffset: o, as: UInt8.self))
        case .int8: return Int64(p.load(fromByteOffset: o, as: Int8.self))
        case .float32, .float16, .bfloat16:
            let v = load(at: o)
            if v.isNaN { return 0 }
            return v >= 0x1p63 ? .max : (v <= -0x1p63 ? .min : Int64(v.rounded(.towardZero)))
        }
    }

    /// Stores `v` at storage offset `o`, converting (saturating for integer types, NaN -> 0).
    @inlinable public func store(_ v: Double, at o: Int) {
        let p = storage.bytes
        func sat<I: FixedWidthInteger>(_ t: I.Type) -> I {
            if v.isNaN { return 0 }
            if v >= Double(I.max) { return I.max }
            if v <= Double(I.min) { return I.min }
            return I(v.rounded(.towardZero))
        }
        switch dtype {
        case .float32: p.storeBytes(of: Float(v), toByteOffset: o * 4, as: Float.self)
        case .int32: p.storeBytes(of: sat(Int32.self), toByteOffset: o * 4, as: Int32.self)
        case .int64: p.storeBytes(of: sat(Int64.self), toByteOffset: o * 8, as: Int64.self)
        case .uint8: p.storeBytes(of: sat(UInt8.self), toByteOffset: o, as: UInt8.self)
        case .int8: p.storeBytes(of: sat(Int8.self), toByteOffset: o, as: Int8.self)
        case .float16: p.storeBytes(of: Float16(Float(v)).bitPattern, toByteOffset: o * 2, as: UInt16.self)
        case .bfloat16:
            // round-to-nearest-even on the upper 16 bits (NaN kept quiet)
            let bits = Float(v).bitPattern
            let rounded: UInt32 = Float(v).isNaN ? (bits | 0x0040_0000) : bits &+ 0x7FFF &+ ((bits >> 16) & 1)
            p.storeBytes(of: UInt16(truncatingIfNeeded: rounded >> 16), toByteOffset: o * 2, as: UInt16.self)
        }
    }

    /// All elements in row-major order, as Doubles.
    public func toDoubles() -> [Double] {
        var out = [Double]()
        out.reserveCapacity(count)
        forEachOffset { out.append(load(at: $0)) }
        return out
    }

    /// All elements in row-major order as Floats (any dtype).
    public func toFloats() -> [Float] {
        if dtype == .float32 {
            var out = [Float]()
            out.reserveCapacity(count)
            let p = storage.bytes.assumingMemoryBound(to: Float.self)
            forEachOffset { out.append(p[$0]) }
            return out
        }
        return toDoubles().map { Float($0) }
    }

    /// The single value of a one-element tensor.
    /// - Throws: when the tensor has more than one element.
    public func item() throws -> Double {
        guard count == 1 else {
            throw TensorError.invalid("item: only one-element tensors can be converted to a number, this one has shape \(shapeString(shape))")
        }
        return load(at: offset)
    }
}

/// Row-major traversal of a strided layout, calling `body` with each element's storage offset.
@inlinable public func forEachStridedOffset(shape: [Int], strides: [Int], base: Int, _ body: (Int) -> Void) {
    let rank = shape.count
    if rank == 0 { body(base); return }
    if shape.contains(0) { return }
    let inner = shape[rank - 1], innerStride = strides[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var o = base
    while true {
        var p = o
        for _ in 0..<inner { body(p); p += innerStride }
        // advance the odometer over the outer dims
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            o += strides[d]
            if index[d] < shape[d] { break }
            o -= strides[d] * shape[d]
            index[d] = 0
            d -= 1
        }
        if d < 0 { return }
    }
}

/// Row-major traversal of two strided layouts of the same (broadcast) shape.
@inlinable public func forEachStridedOffset2(
    shape: [Int], _ sa: [Int], _ baseA: Int, _ sb: [Int], _ baseB: Int,
    _ body: (Int, Int) -> Void
) {
    let rank = shape.count
    if rank == 0 { body(baseA, baseB); return }
    if shape.contains(0) { return }
    let inner = shape[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var oa = baseA, ob = baseB
    while true {
        var pa = oa, pb = ob
        for _ in 0..<inner { body(pa, pb); pa += ia; pb += ib }
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            oa += sa[d]; ob += sb[d]
            if index[d] < shape[d] { break }
            oa -= sa[d] * shape[d]; ob -= sb[d] * shape[d]
            index[d] = 0
            d -= 1
        }
        if d < 0 { return }
    }
}
