// ViewTests: the strided-view layer of Tensor. Views (reshape of contiguous data, permute/transpose,
// narrow, expand, unsqueeze) share storage and only change shape/strides/offset; reshape of a
// non-contiguous tensor copies; `Tensor.viewStrides` follows PyTorch's computeStride; matmul hands
// transposed operands to BLAS as transposes instead of copying them.
import Testing
@testable import LLMCore

/// 0, 1, 2, ... as a float32 tensor of `shape`.
func iota(_ shape: [Int]) throws -> Tensor {
    let n = shape.reduce(1, *)
    return try Tensor((0..<n).map(Float.init), shape: shape)
}

@Suite("Views and strides")
struct ViewTests {
    @Test func reshapeOfContiguousIsAView() throws {
        let x = try iota([2, 3, 4])
        let y = try x.reshape([6, 4])
        #expect(y.storage === x.storage)
        #expect(y.strides == [4, 1])
        #expect(y.offset == 0)
        let z = try x.reshape([-1])
        #expect(z.shape == [24])
        #expect(z.storage === x.storage)
    }

    @Test func writesThroughAViewReachTheBase() throws {
        let x = try iota([3, 4])
        try x.narrow(1, 1, 2).fillInPlace(-1)
        #expect(x.toFloats() == [0, -1, -1, 3, 4, -1, -1, 7, 8, -1, -1, 11])
        try x.transpose(0, 1).select(0, 0).fillInPlace(9)  // column 0 of x
        #expect(x.toFloats() == [9, -1, -1, 3, 9, -1, -1, 7, 9, -1, -1, 11])
    }

    @Test func transposeAndPermuteShareStorage() throws {
        let x = try iota([2, 3, 4])
        let t = try x.transpose(0, 2)
        #expect(t.storage === x.storage)
        #expect(t.shape == [4, 3, 2])
        #expect(t.strides == [1, 4, 12])
        #expect(!t.isContiguous)
        let p = try x.permute([1, 2, 0])
        #expect(p.shape == [3, 4, 2])
        #expect(p.strides == [4, 1, 12])
        #expect(try p.contiguous().toFloats()[0..<4] == [0, 12, 1, 13])
    }

    @Test func reshapeOfNonContiguousCopies() throws {
        let x = try iota([2, 3])
        let t = try x.transpose(0, 1)  // [[0,3],[1,4],[2,5]]
        let r = try t.reshape([6])
        #expect(r.storage !== x.storage)
        #expect(r.isContiguous)
        #expect(r.toFloats() == [0, 3, 1, 4, 2, 5])
        // a copy: writing to it leaves x alone
        try r.fillInPlace(7)
        #expect(x.toFloats() == [0, 1, 2, 3, 4, 5])
        // but a reshape that only splits a transposed dim stays a view
        let s = try iota([4, 3]).transpose(0, 1).reshape([3, 2, 2])
        #expect(s.strides == [1, 6, 3])
        #expect(!s.isContiguous)
    }

    @Test func viewAsRefusesNonContiguous() throws {
        let x = try iota([2, 3])
        #expect(throws: TensorError.self) { try x.transpose(0, 1).viewAs([6]) }
        #expect(try x.viewAs([3, 2]).storage === x.storage)
    }

    @Test("viewStrides matches PyTorch's computeStride")
    func viewStridesCases() {
        // contiguous: any regrouping works
        #expect(Tensor.viewStrides([2, 3, 4], [12, 4, 1], [6, 4]) == [4, 1])
        #expect(Tensor.viewStrides([2, 3, 4], [12, 4, 1], [24]) == [1])
        #expect(Tensor.viewStrides([6], [1], [2, 1, 3]) == [3, 3, 1])
        // transposed (2,3) -> strides (1,2): flattening is impossible, splitting a dim is fine
        #expect(Tensor.viewStrides([3, 2], [1, 3], [6]) == nil)
        #expect(Tensor.viewStrides([4, 3], [1, 4], [2, 2, 3]) == [2, 1, 4])
        // narrowed columns of a (4,6): rows are not adjacent, but each row can be split
        #expect(Tensor.viewStrides([4, 2], [6, 1], [8]) == nil)
        #expect(Tensor.viewStrides([4, 6], [12, 1], [4, 2, 3]) == [12, 3, 1])
        // size-1 dims are free
        #expect(Tensor.viewStrides([3], [1], [1, 3]) == [3, 1])
        #expect(Tensor.viewStrides([3, 1], [2, 1], [3]) == [2])
        // broadcast (stride 0) dims stay 0
        #expect(Tensor.viewStrides([2, 3], [0, 1], [2, 3, 1]) == [0, 1, 1])
        #expect(Tensor.viewStrides([2, 3], [0, 1], [6]) == nil)
    }

    @Test func expandHasZeroStrides() throws {
        let x = try Tensor([1, 2, 3], shape: [3, 1])
        let e = try x.expand([2, 3, 4])
        #expect(e.storage === x.storage)
        #expect(e.strides == [0, 1, 0])
        #expect(e.count == 24)
        #expect(try e.sum().item() == 2 * 4 * 6)
        let k = try x.expand([-1, 5])
        #expect(k.shape == [3, 5])
        #expect(k.strides == [1, 0])
    }

    @Test func narrowOffsets() throws {
        let x = try iota([4, 5])
        let a = try x.narrow(1, 2, 2)
        #expect(a.offset == 2)
        #expect(a.strides == [5, 1])
        #expect(a.toFloats() == [2, 3, 7, 8, 12, 13, 17, 18])
        let b = try x.narrow(0, 1, 2)
        #expect(b.offset == 5)
        #expect(b.isContiguous)
        let c = try b.narrow(1, 3, 2)  // narrow of a narrow adds offsets
        #expect(c.offset == 8)
        #expect(c.toFloats() == [8, 9, 13, 14])
        #expect(try x.narrow(1, 0, 5) === x)  // full range is self
        let s = try x.select(0, 2)
        #expect(s.shape == [5])
        #expect(s.offset == 10)
        #expect(s.storage === x.storage)
    }

    @Test func unsqueezeSqueezeFlatten() throws {
        let x = try iota([2, 3])
        let u = try x.unsqueeze(1)
        #expect(u.shape == [2, 1, 3])
        #expect(u.storage === x.storage)
        #expect(try u.squeeze().shape == [2, 3])
        #expect(try u.squeeze(0).shape == [2, 1, 3])  // size 2: unchanged
        #expect(try iota([2, 3, 4]).flatten(1).shape == [2, 12])
        #expect(try x.unsqueeze(-1).shape == [2, 3, 1])
    }

    @Test func splitAndChunkAreViews() throws {
        let x = try iota([5, 2])
        let parts = try x.split(2, dim: 0)
        #expect(parts.map(\.shape) == [[2, 2], [2, 2], [1, 2]])
        #expect(parts.allSatisfy { $0.storage === x.storage })
        #expect(parts.map(\.offset) == [0, 4, 8])
        #expect(try x.chunk(2, dim: 1).map { $0.toFloats() } == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]])
    }

    @Test("transposed operands go to BLAS as transposes, without a copy")
    func transposeToBLAS() throws {
        let a = try Tensor((0..<12).map { Float($0) * 0.25 - 1 }, shape: [4, 3])
        let b = try Tensor((0..<20).map { Float($0 % 7) - 3 }, shape: [4, 5])
        let at = try a.transpose(0, 1)  // (3, 4) view, strides (1, 3)
        #expect(!at.isContiguous)
        #expect(at.storage === a.storage)
        // the layout BLAS sees: transposed, leading dimension 3, so `prepared` keeps the view
        let layout = try #require(Tensor.blasLayout(rows: 3, cols: 4, rowStride: at.strides[0], colStride: at.strides[1]))
        #expect(layout.trans)
        #expect(layout.ld == 3)
        let viaView = try at.matmul(b)
        let viaCopy = try at.contiguous().matmul(b)
        #expect(viaView.shape == [3, 5])
        #expect(viaView.toFloats() == viaCopy.toFloats())
        // and on the right: b (5,4) transposed
        let bt = try Tensor((0..<20).map { Float($0 % 5) * 0.5 }, shape: [5, 4])
        #expect(try at.matmul(bt.transpose(0, 1)).toFloats() == at.contiguous().matmul(bt.transpose(0, 1).contiguous()).toFloats())
        // a layout that is neither row- nor column-major (every other column) is not passed through
        #expect(Tensor.blasLayout(rows: 4, cols: 3, rowStride: 6, colStride: 2) == nil)
    }

    @Test func batchedMatmulBroadcastsWithoutCopyingTheSharedOperand() throws {
        let a = try iota([2, 3, 4])
        let b = try Tensor((0..<20).map { Float($0 % 3) - 1 }, shape: [4, 5])
        let y = try a.matmul(b)
        #expect(y.shape == [2, 3, 5])
        for i in 0..<2 {
            #expect(try y.select(0, i).toFloats() == a.select(0, i).contiguous().matmul(b).toFloats())
        }
    }

    @Test func contiguousIsSelfWhenAlreadyContiguous() throws {
        let x = try iota([2, 3])
        #expect(try x.contiguous() === x)
        #expect(try x.clone() !== x)
        #expect(try x.clone().storage !== x.storage)
    }
}
