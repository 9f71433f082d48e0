// TokenSource: a 1-D sequence of token ids held as one contiguous int64 tensor (copied once when the
// input is another integer dtype or strided), and the gather that cuts windows of blockSize+1 tokens
// into a batch: x = window[0..<T], y = window[1...T], both (B, T) int64.
import LLMCore

/// One batch of next-token-prediction windows.
public struct Batch: @unchecked Sendable {
    /// Inputs, (B, T) int64.
    public let x: Tensor
    /// Targets, (B, T) int64: `y[b][t] == x[b][t + 1]` within the window.
    public let y: Tensor
}

/// Validated token ids for windowing.
struct TokenSource: @unchecked Sendable {
    let tokens: Tensor  // (N,) int64, contiguous
    var count: Int { tokens.count }

    /// Checks that `t` is a 1-D integer tensor (`what` names the caller in messages).
    init(_ t: Tensor, what: String) throws {
        guard t.rank == 1 else {
            throw DataError.batch("\(what): expected a 1-D tensor of token ids, got shape \(shapeString(t.shape))")
        }
        guard !t.dtype.isFloatingPoint else {
            throw DataError.batch("\(what): expected integer token ids, got a \(t.dtype.rawValue) tensor")
        }
        if t.dtype == .int64 && t.isContiguous {
            tokens = t
        } else {
            let out = try Tensor(shape: [t.count], dtype: .int64, zeroed: false)
            let p = out.rawPointer.assumingMemoryBound(to: Int64.self)
            var i = 0
            t.forEachOffset {
                p[i] = t.loadInteger(at: $0); i += 1
            }
            tokens = out
        }
    }

    /// Checks batch and block sizes against the data (a window needs blockSize + 1 tokens).
    func check(batchSize: Int, blockSize: Int, what: String, available: Int? = nil) throws {
        guard batchSize > 0 else { throw DataError.batch("Invalid 'batchSize': expected a positive integer, got \(batchSize)") }
        guard blockSize > 0 else { throw DataError.batch("Invalid 'blockSize': expected a positive integer, got \(blockSize)") }
        let n = available ?? count
        guard blockSize < n else {
            throw DataError.batch(
                "\(what): the data has \(n) tokens, fewer than blockSize + 1 = \(blockSize &+ 1); "
                    + "use a smaller blockSize or more text")
        }
        let (cells, o) = batchSize.multipliedReportingOverflow(by: blockSize)
        guard !o, cells <= 1 << 31 else {
            throw DataError.batch("\(what): batchSize \(batchSize) x blockSize \(blockSize) is too large")
        }
    }

    /// Gathers the windows starting at `starts` (each must satisfy start + T + 1 <= count).
    func gather(_ starts: [Int], blockSize T: Int) throws -> Batch {
        let x = try Tensor(shape: [starts.count, T], dtype: .int64, zeroed: false)
        let y = try Tensor(shape: [starts.count, T], dtype: .int64, zeroed: false)
        let src = tokens.rawPointer.assumingMemoryBound(to: Int64.self)
        let px = x.rawPointer.assumingMemoryBound(to: Int64.self)
        let py = y.rawPointer.assumingMemoryBound(to: Int64.self)
        for (b, s) in starts.enumerated() {
            guard s >= 0, s + T < count else { throw DataError.batch("window start \(s) is out of range") }
            (px + b * T).update(from: src + s, count: T)
            (py + b * T).update(from: src + s + 1, count: T)
        }
        return Batch(x: x, y: y)
    }
}
