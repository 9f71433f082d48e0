// FormatTests: PyTorch-style printing of tensors (`description`). Small tensors print every value in one
// shared format (integers as "1.", else 4 decimals or scientific); tensors over 1000 elements print the
// first and last 3 entries per dim around "..." with their shape, so output stays bounded.
import Foundation
import Testing
@testable import LLMCore

@Suite("Printing")
struct FormatTests {
    @Test func integerValuedMatrix() throws {
        let t = try Tensor([1, 2, 3, 4], shape: [2, 2])
        #expect(t.description == "tensor([[1., 2.],\n        [3., 4.]])")
    }

    @Test func floatVector() throws {
        #expect(try Tensor([1.5, -0.25, 3], shape: [3]).description == "tensor([ 1.5000, -0.2500,  3.0000])")
        #expect(try Tensor([0.1, 2], shape: [2]).description == "tensor([0.1000, 2.0000])")
    }

    @Test func scientific() throws {
        #expect(try Tensor([1e-5, 1], shape: [2]).description == "tensor([1.0000e-05, 1.0000e+00])")
    }

    @Test func scalarsAndEmpty() throws {
        #expect(try Tensor.scalar(2.5).description == "tensor(2.5000)")
        #expect(try Tensor.scalar(7).description == "tensor(7.)")
        #expect(try Tensor.zeros([0, 3]).description == "tensor([], shape=[0, 3])")
    }

    @Test func threeDims() throws {
        let t = try Tensor((0..<8).map(Float.init), shape: [2, 2, 2])
        #expect(t.description == "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])")
    }

    @Test func nonFloatAndNonFinite() throws {
        #expect(try Tensor.from([1, -2, 3], shape: [3], dtype: .int64).description == "tensor([ 1, -2,  3], dtype=int64)")
        #expect(try Tensor([.nan, .infinity, -1], shape: [3]).description == "tensor([nan, inf, -1.])")
    }

    @Test func autogradNotes() throws {
        let x = try Tensor([1, 2], shape: [2])
        try x.setRequiresGrad(true)
        #expect(x.description == "tensor([1., 2.], requiresGrad=true)")
        #expect(try x.mul(2).description == "tensor([2., 4.], gradFn=mul)")
    }

    @Test func viewsPrintTheirOwnElements() throws {
        let t = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(try t.transpose(0, 1).description == "tensor([[1., 4.],\n        [2., 5.],\n        [3., 6.]])")
        #expect(try t.narrow(1, 1, 2).description == "tensor([[2., 3.],\n        [5., 6.]])")
    }

    @Test("large tensors print a bounded summary")
    func largeIsBounded() throws {
        let t = try Tensor((0..<10_000).map { Float($0) }, shape: [100, 100])
        let s = t.description
        #expect(s.count < 600)
        #expect(s.contains("..."))
        #expect(s.hasSuffix(", shape=[100, 100])"))
        #expect(
            s == """
                tensor([[   0.,    1.,    2., ...,   97.,   98.,   99.],
                        [ 100.,  101.,  102., ...,  197.,  198.,  199.],
                        [ 200.,  201.,  202., ...,  297.,  298.,  299.],
                        ...,
                        [9700., 9701., 9702., ..., 9797., 9798., 9799.],
                        [9800., 9801., 9802., ..., 9897., 9898., 9899.],
                        [9900., 9901., 9902., ..., 9997., 9998., 9999.]], shape=[100, 100])
                """)
        #expect(!s.contains("5000."))
        let v = try Tensor.zeros([1001])
        #expect(v.description == "tensor([0., 0., 0., ..., 0., 0., 0.], shape=[1001])")
        // 3-D: 6×6×6 shown values at most, whatever the size
        let big = try Tensor.zeros([20, 20, 20])
        #expect(big.description.count < 2500)
        #expect(big.description == (try Tensor.zeros([200, 30, 7]).description.replacingOccurrences(of: "[200, 30, 7]", with: "[20, 20, 20]")))
    }
}
