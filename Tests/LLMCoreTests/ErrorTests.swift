// ErrorTests: every misuse reachable through the public tensor API throws a TensorError (never traps),
// with the category and wording DESIGN.md §2 asks for: shape errors name the op and both shapes,
// oversized shapes are `.memory`, autograd misuse is `.autograd`.
import Testing
@testable import LLMCore

/// Runs `body`, requires it to throw a TensorError, and returns it.
@discardableResult
func tensorError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) throws -> TensorError {
    do {
        try body()
    } catch let e as TensorError {
        return e
    }
    Issue.record("expected a TensorError, nothing was thrown", sourceLocation: sourceLocation)
    throw TensorError.invalid("no error")
}

func isShape(_ e: TensorError) -> Bool { if case .shape = e { return true }; return false }
func isInvalid(_ e: TensorError) -> Bool { if case .invalid = e { return true }; return false }
func isMemory(_ e: TensorError) -> Bool { if case .memory = e { return true }; return false }
func isAutograd(_ e: TensorError) -> Bool { if case .autograd = e { return true }; return false }

@Suite("Errors are thrown, not trapped")
struct ErrorTests {
    let m23: Tensor
    init() throws { m23 = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]) }

    @Test func badShapes() throws {
        #expect(isShape(try tensorError { _ = try Tensor([1, 2, 3], shape: [2, 2]) }))
        #expect(isShape(try tensorError { _ = try Tensor.from([1, 2, 3], shape: [2, 2]) }))
        #expect(isInvalid(try tensorError { _ = try Tensor(shape: [2, -1]) }))
        let r = try tensorError { _ = try m23.reshape([4, 2]) }
        #expect(isShape(r))
        #expect(r.description.contains("[2, 3]") && r.description.contains("[4, 2]"))
        #expect(isInvalid(try tensorError { _ = try m23.reshape([-1, -1]) }))
        #expect(isShape(try tensorError { _ = try m23.reshape([-1, 4]) }))
        #expect(isShape(try tensorError { _ = try m23.expand([2, 4]) }))
        #expect(isShape(try tensorError { _ = try m23.expand([3]) }))
        #expect(isShape(try tensorError { _ = try Tensor.cat([m23, Tensor.zeros([3, 3])], dim: 1) }))
        #expect(isShape(try tensorError { _ = try Tensor.stack([m23, Tensor.zeros([3, 2])], dim: 0) }))
        #expect(isShape(try tensorError { _ = try Tensor.zeros([3]).triangular(upper: false) }))
        #expect(isShape(try tensorError { _ = try Tensor.embedding(Tensor.zeros([4]), Tensor.zeros([2], dtype: .int64)) }))
        #expect(isShape(try tensorError { _ = try m23.indexSelect(0, Tensor.zeros([1, 1], dtype: .int64)) }))
        #expect(isShape(try tensorError { _ = try m23.gather(1, index: Tensor.zeros([2], dtype: .int64)) }))
    }

    @Test func badDims() throws {
        let e = try tensorError { _ = try m23.sum(dims: [2]) }
        #expect(isInvalid(e))
        #expect(e.description.contains("sum"))
        #expect(isInvalid(try tensorError { _ = try m23.sum(dims: [1, 1]) }))
        #expect(isInvalid(try tensorError { _ = try m23.transpose(0, 5) }))
        #expect(isInvalid(try tensorError { _ = try m23.softmax(dim: -3) }))
        #expect(isInvalid(try tensorError { _ = try m23.logSoftmax(dim: 2) }))
        #expect(isInvalid(try tensorError { _ = try m23.logsumexp(dim: 2) }))
        #expect(isInvalid(try tensorError { _ = try m23.extremum(dim: 2, max: true) }))
        #expect(isInvalid(try tensorError { _ = try m23.permute([0, 0]) }))
        #expect(isInvalid(try tensorError { _ = try m23.permute([0]) }))
        #expect(isInvalid(try tensorError { _ = try m23.narrow(1, 2, 2) }))
        #expect(isInvalid(try tensorError { _ = try m23.narrow(1, -1, 1) }))
        #expect(isInvalid(try tensorError { _ = try m23.select(0, 2) }))
        #expect(isInvalid(try tensorError { _ = try m23.unsqueeze(4) }))
        #expect(isInvalid(try tensorError { _ = try m23.flatten(1, 0) }))
        #expect(isInvalid(try tensorError { _ = try m23.split(0, dim: 0) }))
        #expect(isInvalid(try tensorError { _ = try m23.split(sizes: [1, 1], dim: 1) }))
        #expect(isInvalid(try tensorError { _ = try m23.chunk(0, dim: 0) }))
        #expect(isInvalid(try tensorError { _ = try Tensor.cat([], dim: 0) }))
        #expect(isInvalid(try tensorError { _ = try m23.variance(dims: [0], correction: 2) }))
        #expect(isInvalid(try tensorError { _ = try m23.norm(p: -1) }))
        #expect(isInvalid(try tensorError { _ = try m23.clamp(min: 1, max: 0) }))
        #expect(isInvalid(try tensorError { _ = try m23.item() }))
        #expect(isInvalid(try tensorError { _ = try m23.compare(m23, "approx") }))
        #expect(isInvalid(try tensorError { _ = try DType.parse("float128") }))
    }

    @Test func badIndices() throws {
        let e = try tensorError { _ = try m23.indexSelect(0, Tensor.from([0, 2], shape: [2], dtype: .int64)) }
        #expect(isInvalid(e))
        #expect(e.description.contains("out of range"))
        #expect(isInvalid(try tensorError { _ = try m23.indexSelect(0, Tensor.from([-1], shape: [1], dtype: .int64)) }))
        #expect(isInvalid(try tensorError { _ = try m23.indexSelect(0, Tensor([0.5], shape: [1])) }))
        #expect(isInvalid(try tensorError { _ = try m23.gather(1, index: Tensor.from([3, 0], shape: [2, 1], dtype: .int64)) }))
        #expect(
            isInvalid(
                try tensorError {
                    _ = try m23.scatterAdd(1, index: Tensor.from([5, 0], shape: [2, 1], dtype: .int64), source: Tensor.ones([2, 1]))
                }))
        #expect(isInvalid(try tensorError { _ = try Tensor.embedding(m23, Tensor.from([2], shape: [1], dtype: .int64)) }))
        #expect(isInvalid(try tensorError { _ = try Tensor.oneHot(Tensor.from([3], shape: [1], dtype: .int64), classes: 3) }))
        // nothing was written before the bad index was found
        let target = try Tensor.zeros([2, 3])
        _ = try? target.scatterAdd(1, index: Tensor.from([0, 9], shape: [2, 1], dtype: .int64), source: Tensor.ones([2, 1]))
        #expect(target.toFloats() == [0, 0, 0, 0, 0, 0])
    }

    @Test("broadcast mismatch names both shapes")
    func broadcastMismatch() throws {
        let b = try Tensor([1, 2, 3, 4], shape: [4])
        let ops: [(Tensor) throws -> Tensor] = [m23.add, m23.sub, m23.mul, m23.div, m23.pow]
        for op in ops {
            let e = try tensorError { _ = try op(b) }
            #expect(isShape(e))
            #expect(e.description.contains("[2, 3]") && e.description.contains("[4]"), "\(e.description)")
        }
        #expect(try tensorError { _ = try m23.add(b) }.description.hasPrefix("add:"))
        #expect(isShape(try tensorError { _ = try Tensor.where(m23, m23, b) }))
        #expect(isShape(try tensorError { _ = try m23.compare(b, "lt") }))
    }

    @Test("matmul mismatch message")
    func matmulMismatch() throws {
        let e = try tensorError { _ = try m23.matmul(m23) }
        #expect(isShape(e))
        #expect(e.description.hasPrefix("matmul: cannot multiply [2, 3] by [2, 3]"), "\(e.description)")
        let batch = try tensorError { _ = try Tensor.zeros([2, 3, 4]).matmul(Tensor.zeros([3, 4, 5])) }
        #expect(isShape(batch))
        #expect(batch.description.contains("[2, 3, 4]") && batch.description.contains("[3, 4, 5]"), "\(batch.description)")
        #expect(isShape(try tensorError { _ = try Tensor.scalar(1).matmul(m23) }))
        #expect(isShape(try tensorError { _ = try Tensor.zeros([4]).matmul(m23) }))
    }

    @Test("huge shapes are a memory error, not a crash")
    func hugeShape() throws {
        let huge = [1 << 31, 1 << 31, 4]
        #expect(isMemory(try tensorError { _ = try Tensor(shape: huge) }))
        #expect(isMemory(try tensorError { _ = try Tensor.zeros(huge) }))
        #expect(isMemory(try tensorError { _ = try Tensor.randn(huge, generator: Generator(seed: 1)) }))
        #expect(isMemory(try tensorError { _ = try Tensor(shape: [Int.max, 2]) }))
        #expect(isMemory(try tensorError { _ = try Tensor(shape: [1 << 37]) }))
        #expect(isMemory(try tensorError { _ = try Tensor.scalar(1).reshape([1]).expand(huge) }))
        #expect(isMemory(try tensorError { _ = try Tensor.arange(0, 1e12) }))
        // within the element cap but above this machine's physical memory (512 GiB)
        if Storage.maxBytes < 1 << 39 {
            #expect(isMemory(try tensorError { _ = try Tensor(shape: [1 << 36], dtype: .int64) }))
        }
    }

    @Test func inPlaceOnRequiresGradThrows() throws {
        let x = try Tensor([1, 2, 3], shape: [3])
        try x.setRequiresGrad(true)
        let one = try Tensor.ones([3])
        let bodies: [() throws -> Void] = [
            { _ = try x.addInPlace(one) }, { _ = try x.mulInPlace(one) }, { _ = try x.fillInPlace(0) },
            { _ = try x.zeroInPlace() }, { _ = try x.copyInPlace(one) },
            { _ = try x.clampInPlace(min: 0, max: 1) }
        ]
        for body in bodies {
            #expect(isAutograd(try tensorError(body)))
        }
        #expect(x.toFloats() == [1, 2, 3])
        // a non-leaf is refused even without grad recording
        let y = try x.mul(2)
        #expect(isAutograd(try tensorError { try GradMode.withoutGrad { _ = try y.addInPlace(one) } }))
        // a leaf may be updated inside noGrad (how optimizers step)
        try GradMode.withoutGrad { _ = try x.subInPlace(one) }
        #expect(x.toFloats() == [0, 1, 2])
        // requiresGrad can't be set on non-leaves or integer tensors
        #expect(isAutograd(try tensorError { try y.setRequiresGrad(false) }))
        #expect(isAutograd(try tensorError { try Tensor.zeros([2], dtype: .int64).setRequiresGrad(true) }))
    }

    @Test func backwardTwiceWithoutRetainGraphThrows() throws {
        let x = try Tensor([1, 2, 3], shape: [3])
        try x.setRequiresGrad(true)
        let loss = try x.mul(x).sum()
        try loss.backward()
        #expect(x.grad?.toFloats() == [2, 4, 6])
        let e = try tensorError { try loss.backward() }
        #expect(isAutograd(e))
        #expect(e.description.contains("retainGraph"))
        // with retainGraph the second backward accumulates
        let x2 = try Tensor([1, 2, 3], shape: [3])
        try x2.setRequiresGrad(true)
        let l2 = try x2.mul(x2).sum()
        try l2.backward(retainGraph: true)
        try l2.backward()
        #expect(x2.grad?.toFloats() == [4, 8, 12])
    }

    @Test func backwardMisuse() throws {
        #expect(isAutograd(try tensorError { try Tensor.ones([2]).sum().backward() }))
        let x = try Tensor([1, 2], shape: [2])
        try x.setRequiresGrad(true)
        let y = try x.mul(3)
        #expect(isAutograd(try tensorError { try y.backward() }))  // implicit gradient needs one element
        #expect(isShape(try tensorError { try y.backward(Tensor.ones([3])) }))
    }

    @Test("a saved tensor modified in place makes backward throw")
    func modifiedSavedTensor() throws {
        let x = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        try x.setRequiresGrad(true)
        let index = try Tensor.from([2, 0], shape: [2, 1], dtype: .int64)
        let y = try x.gather(1, index: index)  // saves `index`
        try index.fillInPlace(1)
        let e = try tensorError { try y.sum().backward() }
        #expect(isAutograd(e))
        #expect(e.description.contains("gather"))
        // same for the condition of where
        let cond = try Tensor([1, 0, 1], shape: [3])
        let a = try Tensor([1, 2, 3], shape: [3])
        try a.setRequiresGrad(true)
        let w = try Tensor.where(cond, a, Tensor.zeros([3]))
        try cond.fillInPlace(0)
        #expect(isAutograd(try tensorError { try w.sum().backward() }))
    }

    @Test("a modified input read by the backward of mul makes backward throw")
    func modifiedInputOfMul() throws {
        let a = try Tensor([1, 2, 3], shape: [3])
        try a.setRequiresGrad(true)
        let b = try Tensor([10, 20, 30], shape: [3])
        let y = try a.mul(b)  // da = g·b reads b
        try b.fillInPlace(0)
        let e = try tensorError { try y.sum().backward() }
        #expect(isAutograd(e))
        #expect(a.grad == nil)
    }

    @Test("a modified output read by the backward of softmax makes backward throw")
    func modifiedOutputOfSoftmax() throws {
        let x = try Tensor([1, 2, 3], shape: [3])
        try x.setRequiresGrad(true)
        let y = try x.softmax(dim: 0)  // dx = y·(g − Σ g·y) reads y
        try y.detach().fillInPlace(0)  // detach shares storage
        #expect(isAutograd(try tensorError { try y.backward(Tensor.ones([3])) }))
    }

    @Test("ops whose backward reads only the output allow their input to change (like PyTorch's exp)")
    func expAllowsModifiedInput() throws {
        let x = try Tensor([0, 1], shape: [2])
        try x.setRequiresGrad(true)
        let y = try x.exp()
        try GradMode.withoutGrad { _ = try x.addInPlace(Tensor.ones([2])) }
        try y.sum().backward()
        let g = try #require(x.grad).toFloats()
        #expect(Swift.abs(g[0] - 1) < 1e-6 && Swift.abs(g[1] - 2.7182817) < 1e-5)
    }
}
