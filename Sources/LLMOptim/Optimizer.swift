// Optimizer: the shared base of SGD, Adam, AdamW, RMSprop and Adagrad. Holds parameter groups (each with
// resolved hyper-parameters), lazily created per-parameter state (step count + named buffers), and the
// step loop: for every parameter with a grad, the subclass runs ONE fused loop over its contiguous float32
// buffer. Parameters without a grad are skipped. Hyper-parameters stay mutable (schedules set `lr`).
// A parameter may carry a sparsity mask (Masks.swift): after its update, it and its state are zeroed where
// the mask is 0.
import LLMCore

/// Per-parameter optimizer state: the number of updates applied and named buffers (`exp_avg` ...).
public struct ParamState {
    /// Updates applied to this parameter so far.
    public var step: Int = 0
    /// Buffers, each shaped like the parameter (contiguous float32).
    public var buffers: [String: Tensor] = [:]

    /// The buffer `name`, created filled with `fill` (shape of `p`) when missing; `created` tells which.
    mutating func buffer(_ name: String, like p: Tensor, fill: Double = 0) throws -> (tensor: Tensor, created: Bool) {
        if let b = buffers[name] { return (b, false) }
        let b = try Tensor.full(p.shape, fill)
        buffers[name] = b
        return (b, true)
    }
}

/// Base class of the optimizers. Create a concrete one (``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``).
///
/// In Lua:
/// ```lua
/// local opt = optim.AdamW(model:parameters(), {lr=3e-4, weightDecay=0.1})
/// loss:backward(); opt:step(); opt:zeroGrad()
/// ```
public class Optimizer: CustomStringConvertible {
    /// Type name (`AdamW`).
    public let name: String
    /// Hyper-parameters this optimizer understands, in display order.
    public let schema: [HyperParameter]
    /// Optimizer-wide defaults (schema defaults overridden by the constructor options).
    public private(set) var defaults: [String: Double]
    /// Parameter groups with resolved hyper-parameters.
    public private(set) var groups: [ParamGroup]
    /// State per group and parameter; nil until the parameter's first update.
    var states: [[ParamState?]]
    /// Names of the buffers a state of this optimizer may hold (for loadStateDict).
    let bufferNames: [String]
    /// Sparsity masks by parameter (Masks.swift): empty unless a mask was set, so unmasked steps pay nothing.
    var masks: [ObjectIdentifier: Tensor] = [:]

    init(
        name: String, schema: [HyperParameter], bufferNames: [String], groups specs: [ParamGroup],
        options: [String: Double]
    ) throws {
        self.name = name
        self.schema = schema
        self.bufferNames = bufferNames
        var defaults = Dictionary(uniqueKeysWithValues: schema.map { ($0.name, $0.defaultValue) })
        try Optimizer.merge(options, into: &defaults, schema: schema, where: name)
        self.defaults = defaults
        guard !specs.isEmpty else { throw TensorError.invalid("\(name): expected at least one parameter group") }
        var seen = Set<ObjectIdentifier>()
        var groups: [ParamGroup] = []
        for (gi, spec) in specs.enumerated() {
            var resolved = defaults
            try Optimizer.merge(spec.options, into: &resolved, schema: schema, where: "\(name) group \(gi + 1)")
            for (pi, p) in spec.params.enumerated() {
                guard p.dtype == .float32, p.isContiguous else {
                    throw TensorError.invalid(
                        "\(name): parameter \(pi + 1) of group \(gi + 1) must be a contiguous float32 tensor (got \(p.dtype.rawValue)\(p.isContiguous ? "" : ", non-contiguous"))")
                }
                guard seen.insert(ObjectIdentifier(p)).inserted else {
                    throw TensorError.invalid("\(name): parameter \(pi + 1) of group \(gi + 1) appears more than once")
                }
            }
            groups.append(ParamGroup(params: spec.params, options: resolved))
        }
        guard !seen.isEmpty else { throw TensorError.invalid("\(name): got an empty parameter list") }
        self.groups = groups
        self.states = groups.map { [ParamState?](repeating: nil, count: $0.params.count) }
        for g in groups { try checkGroup(g) }
    }

    static func merge(
        _ options: [String: Double], into target: inout [String: Double], schema: [HyperParameter],
        where context: String
    ) throws {
        for (k, v) in options.sorted(by: { $0.key < $1.key }) {
            guard let h = schema.first(where: { $0.name == k }) else {
                let choices = schema.map { "'\($0.name)'" }.joined(separator: ", ")
                throw TensorError.invalid("\(context): unknown option '\(k)'; expected one of: \(choices)")
            }
            try h.validate(v)
            target[k] = v
        }
    }

    /// Cross-key checks of one group (nesterov needs momentum ...). Subclasses override.
    func checkGroup(_ group: ParamGroup) throws {}

    /// Applies one update to `p` (contiguous f32) from `grad` (contiguous f32, same shape). `state.step`
    /// has already been incremented. Subclasses implement it as one loop over the elements.
    func update(_ p: Tensor, grad: Tensor, state: inout ParamState, group: ParamGroup) throws {
        throw TensorError.invalid("\(name): update is not implemented")  // only subclasses are constructed
    }

    /// Updates every parameter that has a gradient (one fused loop per parameter).
    ///
    /// In Lua: `opt:step()`.
    public func step() throws {
        for group in groups {  // checked first: a refused step changes no parameter
            for p in group.params where p.grad != nil && p.isReadOnly {
                throw TensorError.invalid("\(name).step: a parameter is \(Tensor.readOnlyReason)")
            }
        }
        for gi in groups.indices {
            let group = groups[gi]
            for (pi, p) in group.params.enumerated() {
                guard let grad = p.grad else { continue }
                guard grad.shape == p.shape else {
                    throw TensorError.shape("\(name).step: gradient of shape \(shapeString(grad.shape)) for a parameter of shape \(shapeString(p.shape))")
                }
                let g = try GradMode.withoutGrad { try grad.toDType(.float32).contiguous() }
                var st = states[gi][pi] ?? ParamState()
                st.step += 1
                try update(p, grad: g, state: &st, group: group)
                if !masks.isEmpty, let mask = masks[ObjectIdentifier(p)] { try applyMask(mask, to: p, state: st) }
                p.storage.bumpVersion()
                states[gi][pi] = st
            }
        }
    }

    /// Clears (sets to nil) the gradient of every parameter.
    ///
    /// In Lua: `opt:zeroGrad()`.
    public func zeroGrad() {
        for g in groups { for p in g.params { p.grad = nil } }
    }

    /// All parameters, group by group (their 0-based position is the state-dict index).
    public var parameters: [Tensor] { groups.flatMap(\.params) }

    /// The state of parameter `index` (0-based over all groups), nil before its first update.
    public func state(ofParameter index: Int) -> ParamState? {
        var k = index
        for (gi, g) in groups.enumerated() {
            if k < g.params.count { return k >= 0 ? states[gi][k] : nil }
            k -= g.params.count
        }
        return nil
    }

    /// Sets hyper-parameter `key` of group `group` (0-based), or of every group and the defaults when nil.
    ///
    /// In Lua: `opt:setLR(1e-4)`, `opt:set('weightDecay', 0, 2)`.
    public func set(_ key: String, _ value: Double, group: Int? = nil) throws {
        guard let h = schema.first(where: { $0.name == key }) else {
            throw TensorError.invalid("\(name): unknown hyper-parameter '\(key)'; expected one of: \(schema.map { "'\($0.name)'" }.joined(separator: ", "))")
        }
        try h.validate(value)
        let targets = try group.map { [try checkedGroup($0)] } ?? Array(groups.indices)
        for gi in targets {
            var g = groups[gi]
            g.options[key] = value
            try checkGroup(g)
            groups[gi] = g
        }
        if group == nil { defaults[key] = value }
    }

    /// Hyper-parameter `key` of group `group` (0-based; default the first).
    public func get(_ key: String, group: Int = 0) throws -> Double {
        let gi = try checkedGroup(group)
        guard let v = groups[gi].options[key] else {
            throw TensorError.invalid("\(name): unknown hyper-parameter '\(key)'; expected one of: \(schema.map { "'\($0.name)'" }.joined(separator: ", "))")
        }
        return v
    }

    /// The learning rate of the first group.
    public var lr: Double { groups.first?.lr ?? 0 }

    /// Sets the learning rate of group `group` (0-based), or of every group when nil (what schedules do).
    ///
    /// In Lua: `opt:setLR(sched(step))`.
    public func setLR(_ lr: Double, group: Int? = nil) throws { try set("lr", lr, group: group) }

    func checkedGroup(_ g: Int) throws -> Int {
        guard g >= 0 && g < groups.count else {
            throw TensorError.invalid("\(name): group \(g + 1) out of range (this optimizer has \(groups.count) group\(groups.count == 1 ? "" : "s"))")
        }
        return g
    }

    func replaceState(groups newOptions: [[String: Double]], states newStates: [[ParamState?]]) {
        for (gi, o) in newOptions.enumerated() { groups[gi].options = o }
        states = newStates
    }

    func describe(_ options: [String: Double]) -> String {
        schema.options.map { o in
            let values = o.keys.map { key in options[key] ?? schema.first { $0.name == key }?.defaultValue ?? 0 }
            switch o.form {
            case .bool: return "\(o.name)=\(values[0] != 0 ? "true" : "false")"
            case .number: return "\(o.name)=\(formatNumber(values[0]))"
            case .pair: return "\(o.name)=(\(values.map(formatNumber).joined(separator: ", ")))"
            }
        }.joined(separator: ", ")
    }

    /// `AdamW(lr=0.001, beta1=0.9, ...; 2 params)`, one line per group when there are several.
    public var description: String {
        let n = groups.reduce(0) { $0 + $1.params.count }
        if groups.count == 1 { return "\(name)(\(describe(groups[0].options)); \(n) param\(n == 1 ? "" : "s"))" }
        var s = "\(name)(\(groups.count) groups, \(n) params)"
        for (gi, g) in groups.enumerated() {
            s += "\n  group \(gi + 1) (\(g.params.count) param\(g.params.count == 1 ? "" : "s")): \(describe(g.options))"
        }
        return s
    }
}
