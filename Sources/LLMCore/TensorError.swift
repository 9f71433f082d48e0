// TensorError: every failure of the tensor core is thrown, never trapped, so that the Lua bridge can turn
// it into a Lua error. Messages follow DESIGN.md §2: shapes name the op and both shapes.

/// An error raised by a tensor operation. `description` is the user-facing message.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    /// A bad value or option: `Invalid 'dim': ...`.
    case invalid(String)
    /// Incompatible shapes: `matmul: cannot multiply [4, 3] by [5, 2]`.
    case shape(String)
    /// An autograd misuse (in-place on a leaf, backward twice, ...).
    case autograd(String)
    /// Allocation refused (too large, out of memory).
    case memory(String)

    public var description: String {
        switch self {
        case .invalid(let m), .shape(let m), .autograd(let m), .memory(let m): return m
        }
    }
}

/// Formats a shape the way errors and printing show it: `[2, 3]`.
@inlinable public func shapeString(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }
