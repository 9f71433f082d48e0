// StateDict: saving and restoring an optimizer's state as a flat dictionary of named tensors and numbers,
// so checkpoints can store it next to the weights. Keys (indices 0-based, parameters numbered over all
// groups in order): `group.<g>.<hyper>` and `group.<g>.numParams` (numbers), `state.<k>.step` (number),
// `state.<k>.<buffer>` (tensor, shaped like parameter k). Loading validates everything before changing anything.
import LLMCore

/// A value of an optimizer state dict.
public enum StateValue {
    case tensor(Tensor)
    case number(Double)
}

extension Optimizer {
    /// A snapshot of the state: buffers are copied, so later steps do not change it.
    ///
    /// In Lua: `local sd = opt:stateDict(); ...; opt:loadStateDict(sd)`.
    public func stateDict() throws -> [String: StateValue] {
        var out: [String: StateValue] = [:]
        var k = 0
        for (gi, g) in groups.enumerated() {
            for h in schema { out["group.\(gi).\(h.name)"] = .number(g[h.name]) }
            out["group.\(gi).numParams"] = .number(Double(g.params.count))
            for pi in g.params.indices {
                if let st = states[gi][pi] {
                    out["state.\(k).step"] = .number(Double(st.step))
                    for (name, b) in st.buffers { out["state.\(k).\(name)"] = .tensor(try b.clone()) }
                }
                k += 1
            }
        }
        return out
    }

    /// Restores a state produced by ``stateDict()`` of an optimizer of the same type over parameters of the
    /// same shapes. Throws (changing nothing) on a missing, unknown or mistyped key, a count or a shape mismatch.
    public func loadStateDict(_ dict: [String: StateValue]) throws {
        let params = parameters
        var newOptions = groups.map(\.options)
        var steps: [Int: Int] = [:]
        var buffers: [Int: [String: Tensor]] = [:]
        func fail(_ m: String) -> TensorError { TensorError.invalid("\(name).loadStateDict: \(m)") }
        for (key, value) in dict.sorted(by: { $0.key < $1.key }) {  // sorted: the same error every run
            let parts = key.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, let idx = Int(parts[1]), idx >= 0 else { throw fail("unexpected key '\(key)'") }
            switch (parts[0], value) {
            case ("group", .number(let v)):
                guard idx < groups.count else {
                    throw fail("key '\(key)' names group \(idx + 1) but this optimizer has \(groups.count) group\(groups.count == 1 ? "" : "s")")
                }
                if parts[2] == "numParams" {
                    guard Int(exactly: v) == groups[idx].params.count else {
                        throw fail("group \(idx + 1) has \(groups[idx].params.count) parameters but the state dict has \(formatNumber(v))")
                    }
                } else if let h = schema.first(where: { $0.name == parts[2] }) {
                    try h.validate(v)
                    newOptions[idx][h.name] = v
                } else {
                    throw fail("unknown hyper-parameter in key '\(key)'")
                }
            case ("state", let v):
                guard idx < params.count else {
                    throw fail("key '\(key)' names parameter \(idx) but this optimizer has \(params.count) parameters (numbered from 0)")
                }
                if parts[2] == "step" {
                    guard case .number(let s) = v, let n = Int(exactly: s), n >= 0, n <= 1 << 53 else { throw fail("'\(key)' must be a non-negative integer") }
                    steps[idx] = n
                } else if bufferNames.contains(parts[2]) {
                    guard case .tensor(let t) = v else { throw fail("'\(key)' must be a tensor") }
                    guard t.shape == params[idx].shape else {
                        throw fail("'\(key)' has shape \(shapeString(t.shape)) but parameter \(idx) has shape \(shapeString(params[idx].shape))")
                    }
                    buffers[idx, default: [:]][parts[2]] = t
                } else {
                    throw fail("unknown buffer in key '\(key)' (\(name) keeps: \(bufferNames.joined(separator: ", ")))")
                }
            default: throw fail("unexpected key '\(key)' (or wrong value type)")
            }
        }
        for gi in groups.indices {
            for h in schema where dict["group.\(gi).\(h.name)"] == nil { throw fail("missing key 'group.\(gi).\(h.name)'") }
            if dict["group.\(gi).numParams"] == nil { throw fail("missing key 'group.\(gi).numParams'") }
            try checkGroup(ParamGroup(params: groups[gi].params, options: newOptions[gi]))
        }
        for k in buffers.keys where steps[k] == nil { throw fail("missing key 'state.\(k).step'") }
        // build the new state (buffers copied so the dict stays independent of the optimizer)
        var newStates = groups.map { [ParamState?](repeating: nil, count: $0.params.count) }
        var k = 0
        for gi in groups.indices {
            for pi in groups[gi].params.indices {
                if let s = steps[k] {
                    var st = ParamState(step: s)
                    for (n, t) in buffers[k] ?? [:] {
                        st.buffers[n] = try GradMode.withoutGrad { try t.detach().toDType(.float32).clone() }
                    }
                    newStates[gi][pi] = st
                }
                k += 1
            }
        }
        replaceState(groups: newOptions, states: newStates)
    }
}
