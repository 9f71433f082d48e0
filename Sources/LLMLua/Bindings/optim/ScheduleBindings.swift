// Schedule bindings: `optim.schedule.*` constructors returning optim.schedule.Schedule userdata, callable as
// `sched(step) -> lr` (step 0-based: the number of updates already taken), with `sched:values(n)`,
// `sched:step(metric)` (reduceOnPlateau) and tostring. `optim.schedule.values(s, n)` also takes any Lua
// function step -> lr, the other accepted form of a schedule.
import CLua
import CLuaShim
import LLMCore
import LLMOptim

/// A schedule as a Lua object (boxed so reduceOnPlateau can change state).
final class ScheduleBox: LuaBridged {
    static var luaTypeName: String { "optim.schedule.Schedule" }
    var schedule: any LRSchedule
    init(_ s: any LRSchedule) { schedule = s }
}

/// `optim.schedule`: the schedule constructors and the optim.schedule.Schedule class.
enum ScheduleLib: LuaLibrary {
    static let namespace = "optim.schedule"
    static let functions = ScheduleBindings.functions
    static let classes = [
        LuaClass(
            ScheduleBox.luaTypeName, methods: ScheduleBindings.methods,
            metamethods: ScheduleBindings.metamethods, methodsPath: "optim.schedule.Schedule")
    ]
}

enum ScheduleBindings {
    static func box(_ a: LuaArgs, _ i: Int32) throws -> ScheduleBox { try a.object(i, ScheduleBox.self) }

    static let maxSteps = 1 << 40

    static func step(_ a: LuaArgs, _ i: Int32) throws -> Int {
        let s = try a.integer(i)
        guard s >= 0 && s <= maxSteps else { throw LuaError.argument(i, "step must be an integer in 0..2^40, got \(s)") }
        return s
    }

    static func count(_ a: LuaArgs, _ i: Int32) throws -> Int {
        let n = try a.integer(i)
        guard n >= 0 && n <= 1 << 24 else { throw LuaError.argument(i, "count must be an integer in 0..2^24, got \(n)") }
        try a.reserve(lua: LuaSize.total((1, LuaSize.table), (n, LuaSize.arraySlot)), native: LuaSize.total((n, 8)))  // the values, before computing them
        return n
    }

    static func req(_ v: Double?, _ key: String) throws -> Double {
        guard let v else { throw LuaError.runtime("Invalid '\(key)': expected a number, got nil (it is required)") }
        return v
    }
    static func reqInt(_ v: Int?, _ key: String) throws -> Int {
        guard let v else { throw LuaError.runtime("Invalid '\(key)': expected an integer, got nil (it is required)") }
        guard v <= maxSteps else { throw LuaError.runtime("Invalid '\(key)': expected an integer <= 2^40, got \(v)") }
        return v
    }

    static func make(
        _ name: String, _ keys: [String], _ doc: String,
        _ build: @escaping @Sendable (LuaArgs, LuaOptions) throws -> any LRSchedule
    ) -> LuaBinding {
        LuaBinding(name, "optim.schedule.\(name){\(keys.joined(separator: ", "))} -> optim.schedule.Schedule", doc) { a in
            try a.table(1)
            let o = try a.options(1, allowed: keys)
            Userdata.push(a.L, ScheduleBox(try build(a, o)), typeName: ScheduleBox.luaTypeName)
            return 1
        }
    }

    static let functions: [LuaBinding] = [
        make("constant", ["lr"], "A constant learning rate.") { _, o in try ConstantLR(lr: req(o.number("lr"), "lr")) },
        make("step", ["lr", "stepSize", "gamma"], "lr * gamma^floor(step / stepSize) (PyTorch StepLR; gamma default 0.1).") { _, o in
            try StepLR(lr: req(o.number("lr"), "lr"), stepSize: reqInt(o.integer("stepSize"), "stepSize"), gamma: o.number("gamma") ?? 0.1)
        },
        make("multiStep", ["lr", "milestones", "gamma"], "lr * gamma^(milestones passed) (PyTorch MultiStepLR; gamma default 0.1).") { a, o in
            guard let ms = try o.integerList("milestones") else { throw LuaError.runtime("Invalid 'milestones': expected a list of integers, got nil") }
            return try MultiStepLR(lr: req(o.number("lr"), "lr"), milestones: ms, gamma: o.number("gamma") ?? 0.1)
        },
        make("exponential", ["lr", "gamma"], "lr * gamma^step (PyTorch ExponentialLR).") { _, o in
            try ExponentialLR(lr: req(o.number("lr"), "lr"), gamma: req(o.number("gamma"), "gamma"))
        },
        make(
            "warmupCosine", ["maxLR", "warmupSteps", "totalSteps", "minLR"],
            "The GPT default (nanoGPT get_lr): linear warmup, cosine decay to minLR at totalSteps, then constant."
        ) { _, o in
            try WarmupCosine(
                maxLR: req(o.number("maxLR"), "maxLR"), warmupSteps: reqInt(o.integer("warmupSteps") ?? 0, "warmupSteps"),
                totalSteps: reqInt(o.integer("totalSteps"), "totalSteps"), minLR: o.number("minLR") ?? 0)
        },
        make(
            "oneCycle", ["maxLR", "totalSteps", "pctStart", "anneal", "divFactor", "finalDivFactor", "threePhase"],
            "PyTorch OneCycleLR's lr (pctStart 0.3, anneal 'cos', divFactor 25, finalDivFactor 1e4, threePhase false)."
        ) { _, o in
            try OneCycle(
                maxLR: req(o.number("maxLR"), "maxLR"), totalSteps: reqInt(o.integer("totalSteps"), "totalSteps"),
                pctStart: o.number("pctStart") ?? 0.3, anneal: o.string("anneal") ?? "cos", divFactor: o.number("divFactor") ?? 25,
                finalDivFactor: o.number("finalDivFactor") ?? 1e4, threePhase: o.bool("threePhase") ?? false)
        },
        make(
            "reduceOnPlateau", ["lr", "mode", "factor", "patience", "threshold", "thresholdMode", "cooldown", "minLR"],
            "PyTorch ReduceLROnPlateau: call s:step(metric) after each evaluation; s(step) is the current lr."
        ) { _, o in
            try ReduceOnPlateau(
                lr: req(o.number("lr"), "lr"), mode: o.string("mode") ?? "min", factor: o.number("factor") ?? 0.1,
                patience: reqInt(o.integer("patience") ?? 10, "patience"), threshold: o.number("threshold") ?? 1e-4,
                thresholdMode: o.string("thresholdMode") ?? "rel", cooldown: reqInt(o.integer("cooldown") ?? 0, "cooldown"),
                minLR: o.number("minLR") ?? 0)
        },
        LuaBinding(
            "values", "optim.schedule.values(s: optim.schedule.Schedule | function, n: int) -> {number}",
            "The learning rates of steps 0..n-1 of a schedule object or of any Lua function step -> lr."
        ) { a in
            let n = try count(a, 2)
            if a.type(1) == LUA_TFUNCTION {
                lua_createtable(a.L, Int32(n), 0)
                let out = lua_gettop(a.L)
                for s in 0..<n {
                    try a.call(1, nresults: 1) {
                        a.push(s); return 1
                    }
                    guard lua_type(a.L, -1) == LUA_TNUMBER else {
                        throw LuaError.runtime("schedule function returned a \(a.typeName(-1)) for step \(s), expected a number")
                    }
                    lua_rawseti(a.L, out, lua_Integer(s + 1))
                }
                return 1
            }
            pushNumbers(a, try box(a, 1).schedule.values(steps: n)); return 1
        }
    ]

    static func pushNumbers(_ a: LuaArgs, _ xs: [Double]) {
        lua_createtable(a.L, Int32(clamping: xs.count), 0)
        for (k, v) in xs.enumerated() { a.push(v); lua_rawseti(a.L, -2, lua_Integer(k + 1)) }
    }

    static let methods: [LuaBinding] = [
        LuaBinding("lr", "s:lr(step: int) -> number", "The learning rate at step (0-based); same as s(step).") { a in
            let b = try box(a, 1); a.push(b.schedule.lr(at: try step(a, 2))); return 1
        },
        LuaBinding("values", "s:values(n: int) -> {number}", "The learning rates of steps 0..n-1, to print or plot.") { a in
            let b = try box(a, 1); pushNumbers(a, b.schedule.values(steps: try count(a, 2))); return 1
        },
        LuaBinding("step", "s:step(metric: number) -> number", "reduceOnPlateau only: records a metric, returns the current lr.") { a in
            let b = try box(a, 1)
            let m = try a.number(2)
            guard var p = b.schedule as? ReduceOnPlateau else {
                throw LuaError.runtime("step: only reduceOnPlateau schedules observe a metric (this is \(b.schedule))")
            }
            let lr = p.observe(m)
            b.schedule = p
            a.push(lr); return 1
        }
    ]

    static let metamethods: [LuaBinding] = [
        LuaBinding("__call", "s(step: int) -> number", "The learning rate at step (0-based).") { a in
            let b = try box(a, 1); a.push(b.schedule.lr(at: try step(a, 2))); return 1
        },
        LuaBinding("__tostring", "tostring(s) -> string", "The schedule and its parameters.") { a in
            a.push(try box(a, 1).schedule.description); return 1
        }
    ]
}
