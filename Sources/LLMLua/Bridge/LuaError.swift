// LuaError: the errors a bound Swift function throws to the trampoline, and the error a Lua script
// raises back into Swift. Wording rules: DESIGN.md §2 (type errors via luaL_typeerror, values via
// "Invalid 'key': expected ..., got ...", shapes name the op and both shapes).
import LLMCore
import LLMIO

/// An error crossing the Lua boundary.
public enum LuaError: Error, CustomStringConvertible {
    /// A plain message; Lua prefixes the caller's position.
    case runtime(String)
    /// `bad argument #i to 'f' (msg)` (Lua renumbers for method calls).
    case argument(Int32, String)
    /// `bad argument #i to 'f' (expected expected, got <type>)`.
    case type(Int32, expected: String)
    /// A Lua error (with traceback) raised by a script or callback that Swift called.
    case script(String)

    public var description: String {
        switch self {
        case .runtime(let m), .script(let m): return m
        case .argument(let i, let m): return "bad argument #\(i) (\(m))"
        case .type(let i, let e): return "bad argument #\(i) (\(e) expected)"
        }
    }
}

// The IO layer has no dependency on LLMCore (where the protocol lives), so its error adopts the one
// user-facing error protocol here, where both meet; the dispatcher maps it like every engine error.
extension FileError: UserFacingError {}
