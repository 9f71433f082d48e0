// Optimizer methods (the optim.Optimizer metatable's __index): step, zeroGrad, sparsity masks, learning rate and any
// hyper-parameter by name (groups are 1-based; no group = every group), parameters, state dicts as flat
// Lua tables of tensors and numbers (keys documented in LLMOptim/StateDict.swift), and tostring.
import CLua
import CLuaShim
import LLMCore
import LLMOptim

enum OptimizerBindings {
    static let methods: [LuaBinding] = [
        LuaBinding("step", "opt:step()", "Updates every parameter that has a grad (one fused loop per parameter).") { a in
            try OptimLib.optimizer(a, 1).step(); return 0
        },
        LuaBinding("zeroGrad", "opt:zeroGrad()", "Sets the grad of every parameter to nil.") { a in
            try OptimLib.optimizer(a, 1).zeroGrad(); return 0
        },
        LuaBinding("getLR", "opt:getLR([group: int]) -> number", "Learning rate of a group (default group 1).") { a in
            let o = try OptimLib.optimizer(a, 1)
            a.push(try o.get("lr", group: OptimLib.group(a, 2) ?? 0)); return 1
        },
        LuaBinding("setLR", "opt:setLR(lr: number, [group: int])", "Sets the learning rate of one group, or of all groups (what schedules do).") { a in
            let o = try OptimLib.optimizer(a, 1)
            try o.setLR(a.number(2), group: OptimLib.group(a, 3)); return 0
        },
        LuaBinding(
            "get", "opt:get(key: string, [group: int]) -> number | boolean",
            "A hyper-parameter of a group (default group 1): 'lr', 'momentum', 'beta1', 'weightDecay', ..."
        ) { a in
            let o = try OptimLib.optimizer(a, 1)
            let key = try a.string(2)
            let v = try o.get(key, group: OptimLib.group(a, 3) ?? 0)
            if o.schema.first(where: { $0.name == key })?.kind == .bool { a.push(v != 0) } else { a.push(v) }
            return 1
        },
        LuaBinding(
            "set", "opt:set(key: string, value: number | boolean, [group: int])",
            "Sets a hyper-parameter of one group, or of all groups."
        ) { a in
            let o = try OptimLib.optimizer(a, 1)
            let key = try a.string(2)
            let v: Double = a.type(3) == LUA_TBOOLEAN ? (try a.bool(3) ? 1 : 0) : try a.number(3)
            try o.set(key, v, group: OptimLib.group(a, 4)); return 0
        },
        LuaBinding(
            "setMask", "opt:setMask(p: Tensor, mask: Tensor | nil)",
            "Sets (nil: removes) the sparsity mask of parameter p: after each update p and its state (Adam's moments, momentum) are zeroed where mask is 0, so a pruned weight cannot regrow."
        ) { a in
            let o = try OptimLib.optimizer(a, 1)
            try o.setMask(a.isNoneOrNil(3) ? nil : a.tensor(3), for: a.tensor(2)); return 0
        },
        LuaBinding("mask", "opt:mask(p: Tensor) -> Tensor | nil", "A copy of the sparsity mask of parameter p, or nil.") { a in
            let o = try OptimLib.optimizer(a, 1)
            if let m = o.mask(of: try a.tensor(2)) { a.push(try m.clone()) } else { a.pushNil() }
            return 1
        },
        LuaBinding("numGroups", "opt:numGroups() -> int", "Number of parameter groups.") { a in
            a.push(try OptimLib.optimizer(a, 1).groups.count); return 1
        },
        LuaBinding("parameters", "opt:parameters([group: int]) -> {Tensor}", "The parameters of one group, or of all groups in order.") { a in
            let o = try OptimLib.optimizer(a, 1)
            if let g = try OptimLib.group(a, 2) {
                guard g >= 0 && g < o.groups.count else { throw LuaError.argument(2, "group \(g + 1) out of range (1..\(o.groups.count))") }
                a.push(o.groups[g].params)
            } else {
                a.push(o.parameters)
            }
            return 1
        },
        LuaBinding(
            "stateDict", "opt:stateDict() -> {[string]=Tensor|number}",
            "A snapshot of the state: 'group.<g>.<key>', 'group.<g>.numParams', 'state.<k>.step', 'state.<k>.<buffer>' (0-based)."
        ) { a in
            let sd = try OptimLib.optimizer(a, 1).stateDict()
            lua_createtable(a.L, 0, Int32(clamping: sd.count))
            for (k, v) in sd {
                switch v {
                case .tensor(let t): a.push(t)
                case .number(let x): if let i = Int(exactly: x) { a.push(i) } else { a.push(x) }
                }
                lua_setfield(a.L, -2, k)
            }
            return 1
        },
        LuaBinding(
            "loadStateDict", "opt:loadStateDict(sd: table)",
            "Restores a state from stateDict() (same optimizer type, same parameter shapes); errors change nothing."
        ) { a in
            let o = try OptimLib.optimizer(a, 1)
            try a.table(2)
            var sd: [String: StateValue] = [:]
            lua_pushnil(a.L)
            while lua_next(a.L, 2) != 0 {
                defer { llms_pop(a.L, 1) }
                guard lua_type(a.L, -2) == LUA_TSTRING, let ks = llms_tostring(a.L, -2) else {
                    throw LuaError.argument(2, "state dict keys must be strings, got \(a.typeName(-2))")
                }
                let key = String(cString: ks)
                if lua_type(a.L, -1) == LUA_TNUMBER {
                    sd[key] = .number(lua_tonumberx(a.L, -1, nil))
                } else if let t = try Userdata.tensor(a.L, -1) {
                    sd[key] = .tensor(t)
                } else {
                    throw LuaError.argument(2, "value of '\(key)' is a \(a.typeName(-1)), expected llm.Tensor or number")
                }
            }
            try o.loadStateDict(sd)
            return 0
        }
    ]

    static let metamethods: [LuaBinding] = [
        LuaBinding("__tostring", "tostring(opt) -> string", "The optimizer, its hyper-parameters and parameter count.") { a in
            a.push(try OptimLib.optimizer(a, 1).description); return 1
        }
    ]
}
