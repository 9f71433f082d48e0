// ErrorBody: OpenAI-shaped error bodies, {"error": {"message", "type", "param", "code"}}, and the JSON
// string quoting they need; the server's own answers (auth, limits, routing) use it.
import Synchronization

enum ErrorBody {
    /// The JSON error object (param is always null for transport-level errors).
    static func json(_ message: String, type: String = "invalid_request_error", code: String) -> String {
        #"{"error":{"message":\#(quote(message)),"type":\#(quote(type)),"param":null,"code":\#(quote(code))}}"#
    }

    /// A JSON string literal for `s`.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += "\\u" + String(u.value, radix: 16).leftPad(4)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func leftPad(_ n: Int) -> String { String(repeating: "0", count: Swift.max(0, n - count)) + self }
}

/// A flag that a signal handler may set (a lock-free atomic).
final class AtomicFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
