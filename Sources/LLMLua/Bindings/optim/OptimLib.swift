// OptimLib: the global `optim` namespace (preloaded, also `require 'llm.optim'`): optimizer constructors
// (SGD, Adam, AdamW, RMSprop, Adagrad) returning optim.Optimizer userdata with methods, clipGradNorm,
// l1/l2 penalties, and optim.schedule (ScheduleBindings.swift). Check -> call -> push; all numerics in LLMOptim.
// Lua option keys are the schema names of LLMOptim, except that Adam's beta1/beta2 are given as `betas`.
import CLua
import CLuaShim
import LLMCore
import LLMOptim

extension Optimizer: LuaBridged {
    public static var luaTypeName: String { "optim.Optimizer" }
}

enum OptimLib: LuaLibrary {
    static let namespace = "optim"

    /// The optimizer argument at `i` (`optim.Optimizer expected, got number` otherwise).
    static func optimizer(_ a: LuaArgs, _ i: Int32) throws -> Optimizer { try a.object(i, Optimizer.self) }

    /// Optional 1-based group argument at `i`, as a 0-based index.
    static func group(_ a: LuaArgs, _ i: Int32) throws -> Int? {
        if a.isNoneOrNil(i) { return nil }
        let g = try a.integer(i)
        guard g >= 1 && g <= 1 << 20 else { throw LuaError.argument(i, "group must be a positive integer, got \(g)") }
        return g - 1
    }

    /// Reads the typed hyper-parameters of an options table (keys already checked) and resolves them
    /// through the schema, which checks each value once.
    static func hyper(_ o: LuaOptions, schema: [HyperParameter], context: String) throws -> [String: Double] {
        var values: [String: HyperValue] = [:]
        for option in schema.options {
            switch option.form {
            case .number: if let v = try o.number(option.name) { values[option.name] = .number(v) }
            case .bool: if let b = try o.bool(option.name) { values[option.name] = .bool(b) }
            case .pair: if let (x, y) = try o.pair(option.name) { values[option.name] = .pair(x, y) }
            }
        }
        return try schema.resolve(values, where: context)
    }

    /// `optim.X(params, options)`: params is a list of tensors or a list of group tables `{params=..., key=value}`.
    static func construct(
        _ a: LuaArgs, schema: [HyperParameter],
        _ make: ([ParamGroup], [String: Double]) throws -> Optimizer
    ) throws -> Int32 {
        try a.table(1)
        let keys = schema.options.map(\.name)
        let n = lua_rawlen(a.L, 1)
        guard n > 0 else { throw LuaError.argument(1, "expected a non-empty list of tensors or of parameter groups") }
        lua_rawgeti(a.L, 1, 1)
        let isGroups = lua_type(a.L, -1) == LUA_TTABLE
        llms_pop(a.L, 1)
        var groups: [ParamGroup] = []
        if isGroups {
            for k in 1...n {
                lua_rawgeti(a.L, 1, lua_Integer(k))
                defer { llms_pop(a.L, 1) }
                let top = lua_gettop(a.L)
                guard lua_type(a.L, top) == LUA_TTABLE else {
                    throw LuaError.argument(1, "element \(k) is a \(a.typeName(top)), expected a parameter group table")
                }
                do {
                    let o = try a.options(top, allowed: ["params"] + keys)
                    guard let params = try o.withTable("params", { try a.tensorList($0) }) else {
                        throw LuaError.runtime("'params' must be a list of tensors, got nil")
                    }
                    groups.append(ParamGroup(params: params, options: try hyper(o, schema: schema, context: "group")))
                } catch LuaError.argument(_, let m) {
                    throw LuaError.argument(1, "group \(k): \(m)")
                } catch LuaError.runtime(let m) {
                    throw LuaError.argument(1, "group \(k): \(m)")
                } catch let e as TensorError {
                    throw LuaError.argument(1, "group \(k): \(e.description)")
                }
            }
        } else {
            groups = [ParamGroup(params: try a.tensorList(1))]
        }
        let o = try a.options(2, allowed: keys)
        let opt = try make(groups, try hyper(o, schema: schema, context: "options"))
        Userdata.push(a.L, opt, typeName: Optimizer.luaTypeName)
        return 1
    }

    static func constructor(
        _ name: String, _ schema: [HyperParameter], _ doc: String,
        _ make: @escaping @Sendable ([ParamGroup], [String: Double]) throws -> Optimizer
    ) -> LuaBinding {
        let keys = schema.options.map(\.name).joined(separator: ", ")
        return LuaBinding(name, "optim.\(name)(params: {Tensor} | {{params={Tensor}, ...}}, [{\(keys)}]) -> optim.Optimizer", doc) { a in
            try construct(a, schema: schema, make)
        }
    }

    static let functions: [LuaBinding] = [
        constructor("SGD", SGD.schema, "SGD with momentum, dampening, Nesterov and weight decay (PyTorch semantics).") {
            try SGD(groups: $0, options: $1)
        },
        constructor("Adam", Adam.adamSchema, "Adam with L2 weight decay added to the gradient, optional AMSGrad.") {
            try Adam(groups: $0, options: $1)
        },
        constructor("AdamW", AdamW.adamWSchema, "Adam with decoupled weight decay (default 0.01), optional AMSGrad.") {
            try AdamW(groups: $0, options: $1)
        },
        constructor("RMSprop", RMSprop.schema, "RMSprop, optionally centered and with momentum.") {
            try RMSprop(groups: $0, options: $1)
        },
        constructor("Adagrad", Adagrad.schema, "Adagrad with learning-rate decay.") {
            try Adagrad(groups: $0, options: $1)
        },
        LuaBinding(
            "clipGradNorm", "optim.clipGradNorm(params: {Tensor}, maxNorm: number, [{normType=2}]) -> number",
            "Scales the grads so their joint norm is at most maxNorm (normType 2, 1, ... or math.huge); returns the norm before clipping."
        ) { a in
            let params = try a.tensorList(1)
            let maxNorm = try a.number(2)
            let normType = try a.options(3, allowed: ["normType"]).number("normType") ?? 2
            a.push(try clipGradNorm(params, maxNorm: maxNorm, normType: normType)); return 1
        },
        LuaBinding(
            "l1Penalty", "optim.l1Penalty(params: {Tensor}, lambda: number) -> Tensor",
            "lambda * sum of |p| over all params: a differentiable scalar to add to the loss."
        ) { a in
            a.push(try l1Penalty(a.tensorList(1), lambda: a.number(2))); return 1
        },
        LuaBinding(
            "l2Penalty", "optim.l2Penalty(params: {Tensor}, lambda: number) -> Tensor",
            "lambda * sum of p^2 over all params (gradient 2*lambda*p): a differentiable scalar to add to the loss."
        ) { a in
            a.push(try l2Penalty(a.tensorList(1), lambda: a.number(2))); return 1
        }
    ]

    static let classes = [
        LuaClass(
            Optimizer.luaTypeName, methods: OptimizerBindings.methods,
            metamethods: OptimizerBindings.metamethods, methodsPath: "optim.Optimizer")
    ]

    /// package.loaded['llm.optim'] = optim.
    static func open(_ vm: LuaVM) throws {
        let L = vm.L
        Registry.pushNamespace(vm, namespace)
        lua_getglobal(L, "package")
        lua_getfield(L, -1, "loaded")
        lua_pushvalue(L, -3)
        lua_setfield(L, -2, "llm.optim")  // require 'llm.optim' returns the same table
        llms_pop(L, 3)
    }
}
