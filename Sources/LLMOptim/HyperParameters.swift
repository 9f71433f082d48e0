// HyperParameters: the named, validated hyper-parameters of an optimizer (lr, momentum, betas ...).
// Each optimizer declares a schema (name, default, kind); a parameter group holds resolved values for
// every key (unspecified keys inherit the optimizer's defaults). Booleans are stored as 0/1.
// Validation throws TensorError.invalid with DESIGN.md wording: `Invalid 'lr': expected ..., got -1`.
import LLMCore

/// What values a hyper-parameter accepts.
public enum HyperKind: Sendable, Equatable {
    /// A finite number ≥ 0 (lr, weight decay, eps ...).
    case nonNegative
    /// A number in [0, 1) (betas).
    case unitInterval
    /// A boolean, stored as 0 or 1 (nesterov, amsgrad, centered).
    case bool
    /// Any finite number (dampening).
    case finite
}

/// One entry of an optimizer's hyper-parameter schema.
public struct HyperParameter: Sendable {
    /// Key as seen from Lua and in state dicts (`weightDecay`).
    public let name: String
    /// Default value (booleans as 0/1).
    public let defaultValue: Double
    /// Accepted values.
    public let kind: HyperKind
    /// The option this key is one half of, given as a pair by users (`betas` = {beta1, beta2}); nil for
    /// a key given on its own.
    public let pairedAs: String?

    public init(_ name: String, _ defaultValue: Double, _ kind: HyperKind, pairedAs: String? = nil) {
        self.name = name; self.defaultValue = defaultValue; self.kind = kind; self.pairedAs = pairedAs
    }

    /// Throws unless `v` is acceptable for this key.
    public func validate(_ v: Double) throws {
        let ok: Bool
        let expected: String
        switch kind {
        case .nonNegative: ok = v.isFinite && v >= 0; expected = "a non-negative number"
        case .unitInterval: ok = v >= 0 && v < 1; expected = "a number in [0, 1)"
        case .bool: ok = v == 0 || v == 1; expected = "a boolean"
        case .finite: ok = v.isFinite; expected = "a finite number"
        }
        guard ok else { throw TensorError.invalid("Invalid '\(name)': expected \(expected), got \(formatNumber(v))") }
    }
}

/// A hyper-parameter value as users give it, typed by the option's form.
public enum HyperValue: Sendable, Equatable {
    case number(Double)
    case bool(Bool)
    case pair(Double, Double)
}

/// One option as users give it: a number, a boolean, or a pair spread over two schema keys (`betas`).
public struct HyperOption: Sendable, Equatable {
    /// What the option's value looks like.
    public enum Form: Sendable, Equatable { case number, bool, pair }
    /// Option name (`lr`, `betas`).
    public let name: String
    /// Its form.
    public let form: Form
    /// The schema keys it sets: one, or two for a pair (`beta1`, `beta2`).
    public let keys: [String]
}

extension Array where Element == HyperParameter {
    /// The options users give, in schema order; the two halves of a pair appear once, as the pair.
    ///
    /// ```swift
    /// Adam.adamSchema.options.map(\.name)   // ["lr", "betas", "eps", "weightDecay", "amsgrad"]
    /// ```
    public var options: [HyperOption] {
        var out: [HyperOption] = []
        for h in self {
            if let pair = h.pairedAs {
                guard !out.contains(where: { $0.name == pair }) else { continue }
                out.append(HyperOption(name: pair, form: .pair, keys: filter { $0.pairedAs == pair }.map(\.name)))
            } else {
                out.append(HyperOption(name: h.name, form: h.kind == .bool ? .bool : .number, keys: [h.name]))
            }
        }
        return out
    }

    /// Turns typed option values into schema keys (booleans as 0/1, pairs spread over their keys),
    /// checking each option's form and each value once. `context` names the optimizer in errors.
    public func resolve(_ values: [String: HyperValue], where context: String) throws -> [String: Double] {
        let options = self.options
        var out: [String: Double] = [:]
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let option = options.first(where: { $0.name == name }) else {
                let choices = options.map { "'\($0.name)'" }.joined(separator: ", ")
                throw TensorError.invalid("\(context): unknown option '\(name)'; expected one of: \(choices)")
            }
            let numbers: [Double]
            switch (option.form, value) {
            case (.number, .number(let v)): numbers = [v]
            case (.bool, .bool(let b)): numbers = [b ? 1 : 0]
            case (.pair, .pair(let x, let y)): numbers = [x, y]
            case (.number, _): throw TensorError.invalid("Invalid '\(name)': expected a number")
            case (.bool, _): throw TensorError.invalid("Invalid '\(name)': expected a boolean")
            case (.pair, _): throw TensorError.invalid("Invalid '\(name)': expected a pair of numbers {\(option.keys.joined(separator: ", "))}")
            }
            for (key, v) in zip(option.keys, numbers) {
                guard let h = first(where: { $0.name == key }) else { continue }
                try h.validate(v)
                out[key] = v
            }
        }
        return out
    }
}

/// Formats a number compactly: `-1`, `0.001`, `6e-4`, `1e-8`, `2.5e+6` (shortest round-trip digits).
public func formatNumber(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    if v == v.rounded(), Swift.abs(v) < 1e6 { return String(Int64(v)) }
    let s = "\(v)"
    if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {  // "6e-05" -> "6e-5"
        let mantissa = s[..<e], rest = s[s.index(after: e)...]
        let sign = rest.first == "-" ? "-" : "+"
        let digits = rest.drop(while: { $0 == "-" || $0 == "+" || $0 == "0" })
        return "\(mantissa)e\(sign)\(digits.isEmpty ? "0" : String(digits))"
    }
    guard Swift.abs(v) < 1e-3, let dot = s.firstIndex(of: ".") else { return s }
    // "0.0006" -> "6e-4", "-0.00025" -> "-2.5e-4"
    let negative = s.hasPrefix("-")
    let frac = s[s.index(after: dot)...]
    let zeros = frac.prefix(while: { $0 == "0" }).count
    let sig = frac.dropFirst(zeros)
    let mantissa = sig.count > 1 ? "\(sig.prefix(1)).\(sig.dropFirst())" : String(sig)
    return (negative ? "-" : "") + mantissa + "e-\(zeros + 1)"
}

/// A set of parameters optimized with the same hyper-parameters.
///
/// In Lua: `optim.AdamW({ {params=decay, weightDecay=0.1}, {params=noDecay, weightDecay=0} }, {lr=3e-4})`.
public struct ParamGroup {
    /// The tensors this group updates (contiguous float32 leaves).
    public var params: [Tensor]
    /// Resolved hyper-parameters: every schema key has a value.
    public internal(set) var options: [String: Double]

    /// A group spec: `options` overrides the optimizer defaults for this group only.
    public init(params: [Tensor], options: [String: Double] = [:]) {
        self.params = params; self.options = options
    }

    /// The value of hyper-parameter `key` (0 when unknown).
    public subscript(_ key: String) -> Double { options[key] ?? 0 }
    /// The learning rate of this group.
    public var lr: Double { self["lr"] }
    /// A boolean hyper-parameter.
    public func flag(_ key: String) -> Bool { self[key] != 0 }
}
