#!/usr/bin/env python3
"""Reference fixtures for the optimizers, gradient clipping and LR schedules (LLMOptim), from PyTorch.

Writes Tests/Fixtures/optim.json, read by Tests/LLMOptimTests/OptimFixtureTests.swift.

Contract of the JSON (arrays row-major and flat; option keys are the Swift/Lua names, booleans as 0/1):
  meta:       generator, torch version, reference dtype, gradient definition.
  problem:    shapes [[3,4],[4]], init, coef, target (one flat list per parameter).
              The gradient at every step is g = coef * (p - target) (the gradient of
              L = sum(0.5 * coef * (p - target)^2)), so it depends on the current parameters.
  optimizers: [{name, type ("SGD" | "Adam" | "AdamW" | "RMSprop" | "Adagrad"), options,
                groups: [{params: [parameter indices], options}],  # per-group overrides
                steps: [[flat p0, flat p1] after step 1 .. 10]}]
  clip:       [{name, grads: [flat per parameter], maxNorm, normType ("2" | "1" | "inf"), total, clipped}]
  schedules:  [{name, type, args, metrics (plateau only), lrs: [lr for steps 0..29]}]
              lrs[k] is the optimizer's lr after k scheduler steps (PyTorch's usual loop order); for
              reduceOnPlateau, lrs[k] is the lr after observing metrics[0..k].
The warmup-cosine values are nanoGPT's get_lr(it) (train.py), evaluated in Python doubles.

Inputs are multiples of 1/1024 (exact in float32); the reference runs in float64, so it is the (nearly)
exact answer and LLMOptim's float32 updates should match it to ~1e-5 relative.

Rerun (PyTorch from PyPI, in a venv outside the repository):
    PY=$(scripts/reference/venv.sh) && "$PY" scripts/reference/make_optim_fixtures.py     # from the repository root
"""
import json
import math
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "optim.json")
REF = torch.float64
SHAPES = [(3, 4), (4,)]
STEPS = 10


def q(t):
    return torch.round(t * 1024.0) / 1024.0


def gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


INIT = [q(torch.randn(s, generator=gen(1 + i), dtype=REF)) for i, s in enumerate(SHAPES)]
COEF = [q(torch.rand(s, generator=gen(11 + i), dtype=REF) * 2 + 0.25) for i, s in enumerate(SHAPES)]
TARGET = [q(torch.randn(s, generator=gen(21 + i), dtype=REF) * 0.5) for i, s in enumerate(SHAPES)]

# Swift/Lua key -> torch key
TORCH_KEYS = {"lr": "lr", "momentum": "momentum", "dampening": "dampening", "weightDecay": "weight_decay",
              "nesterov": "nesterov", "eps": "eps", "amsgrad": "amsgrad", "alpha": "alpha", "centered": "centered",
              "lrDecay": "lr_decay", "initialAccumulatorValue": "initial_accumulator_value"}
BOOL_KEYS = {"nesterov", "amsgrad", "centered"}


def torch_options(opts):
    out = {}
    if "beta1" in opts or "beta2" in opts:
        out["betas"] = (opts.get("beta1", 0.9), opts.get("beta2", 0.999))
    for k, v in opts.items():
        if k in ("beta1", "beta2"):
            continue
        out[TORCH_KEYS[k]] = bool(v) if k in BOOL_KEYS else v
    return out


def run_optimizer(name, kind, options, groups=None):
    params = [p.clone().requires_grad_(True) for p in INIT]
    groups = groups or [{"params": [0, 1], "options": {}}]
    tgroups = [dict(params=[params[i] for i in g["params"]], **torch_options(g["options"])) for g in groups]
    opt = getattr(torch.optim, kind)(tgroups, **torch_options(options))
    steps = []
    for _ in range(STEPS):
        for p, c, t in zip(params, COEF, TARGET):
            p.grad = (c * (p.detach() - t)).clone()
        opt.step()
        steps.append([flat(p) for p in params])
    return {"name": name, "type": kind, "options": {k: float(v) for k, v in options.items()},
            "groups": [{"params": g["params"], "options": {k: float(v) for k, v in g["options"].items()}} for g in groups],
            "steps": steps}


OPTIMIZERS = [
    run_optimizer("sgd_nesterov", "SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0, "nesterov": 1, "weightDecay": 0.01}),
    run_optimizer("sgd_plain", "SGD", {"lr": 0.1}),
    run_optimizer("sgd_dampening", "SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.25, "weightDecay": 0.05}),
    run_optimizer("adam_wd", "Adam", {"lr": 0.01, "weightDecay": 0.01}),
    run_optimizer("adam_amsgrad", "Adam", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "amsgrad": 1}),
    run_optimizer("adamw", "AdamW", {"lr": 0.01, "weightDecay": 0.1}),
    run_optimizer("adamw_amsgrad", "AdamW", {"lr": 0.01, "weightDecay": 0.1, "amsgrad": 1}),
    run_optimizer("adamw_groups", "AdamW", {"lr": 0.01, "weightDecay": 0.1},
                  [{"params": [0], "options": {}}, {"params": [1], "options": {"weightDecay": 0, "lr": 0.02}}]),
    run_optimizer("rmsprop_centered_momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": 1}),
    run_optimizer("rmsprop_wd", "RMSprop", {"lr": 0.01, "alpha": 0.9, "weightDecay": 0.01}),
    run_optimizer("adagrad_lrdecay", "Adagrad", {"lr": 0.1, "lrDecay": 0.01}),
    run_optimizer("adagrad_init_wd", "Adagrad", {"lr": 0.1, "initialAccumulatorValue": 0.1, "weightDecay": 0.01}),
]


def clip_case(name, max_norm, norm_type, scale):
    grads = [q(torch.randn(s, generator=gen(31 + i), dtype=REF) * scale) for i, s in enumerate(SHAPES)]
    params = [torch.zeros(s, dtype=REF, requires_grad=True) for s in SHAPES]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    nt = float("inf") if norm_type == "inf" else float(norm_type)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=nt)
    return {"name": name, "grads": [flat(g) for g in grads], "maxNorm": max_norm, "normType": norm_type,
            "total": float(total), "clipped": [flat(p.grad) for p in params]}


CLIP = [
    clip_case("l2_clipped", 1.0, "2", 1.0),
    clip_case("l2_unclipped", 100.0, "2", 1.0),
    clip_case("inf_clipped", 0.5, "inf", 2.0),
    clip_case("l1_clipped", 2.0, "1", 1.0),
]

N = 30


def lr_sequence(make):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make(opt)
    out = []
    for _ in range(N):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def plateau_sequence(args, metrics):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=args["lr"])
    kw = {"mode": args["mode"], "factor": args["factor"], "patience": args["patience"], "threshold": args["threshold"],
          "threshold_mode": args["thresholdMode"], "cooldown": args["cooldown"], "min_lr": args["minLR"]}
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    out = []
    for m in metrics:
        opt.step()
        sched.step(m)
        out.append(opt.param_groups[0]["lr"])
    return out


def nanogpt_get_lr(it, learning_rate, warmup_iters, lr_decay_iters, min_lr):
    # nanoGPT train.py, verbatim logic
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    assert 0 <= decay_ratio <= 1
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


LS = torch.optim.lr_scheduler


def one_cycle_sequence(total, **kw):
    # OneCycleLR allows exactly total_steps scheduler positions (0..total-1): record those.
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = LS.OneCycleLR(opt, total_steps=total, cycle_momentum=False, **kw)
    out = []
    for k in range(total):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if k < total - 1:
            sched.step()
    return out


METRICS_MIN = [1.0, 0.9, 0.8, 0.8, 0.81, 0.8, 0.79995, 0.7, 0.71, 0.72, 0.73, 0.69, 0.69, 0.69, 0.69,
               0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]
METRICS_MAX = [0.1, 0.2, 0.2, 0.21, 0.2, 0.2, 0.3, 0.3, 0.3, 0.3, 0.305, 0.3, 0.3, 0.3, 0.3,
               0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]
PLATEAU_MIN = {"lr": 0.1, "mode": "min", "factor": 0.5, "patience": 2, "threshold": 1e-4, "thresholdMode": "rel",
               "cooldown": 1, "minLR": 0.01}
PLATEAU_MAX = {"lr": 0.1, "mode": "max", "factor": 0.3, "patience": 1, "threshold": 0.01, "thresholdMode": "abs",
               "cooldown": 0, "minLR": 0.0}
WC = {"maxLR": 6e-4, "warmupSteps": 5, "totalSteps": 25, "minLR": 6e-5}

SCHEDULES = [
    {"name": "step", "type": "step", "args": {"lr": 0.1, "stepSize": 7, "gamma": 0.5},
     "lrs": lr_sequence(lambda o: LS.StepLR(o, step_size=7, gamma=0.5))},
    {"name": "multistep", "type": "multiStep", "args": {"lr": 0.1, "milestones": [5, 12, 20], "gamma": 0.3},
     "lrs": lr_sequence(lambda o: LS.MultiStepLR(o, milestones=[5, 12, 20], gamma=0.3))},
    {"name": "exponential", "type": "exponential", "args": {"lr": 0.1, "gamma": 0.9},
     "lrs": lr_sequence(lambda o: LS.ExponentialLR(o, gamma=0.9))},
    {"name": "onecycle", "type": "oneCycle", "args": {"maxLR": 0.1, "totalSteps": 30},
     "lrs": one_cycle_sequence(30, max_lr=0.1)},
    {"name": "onecycle_linear_three_phase", "type": "oneCycle",
     "args": {"maxLR": 0.1, "totalSteps": 30, "pctStart": 0.25, "anneal": "linear", "threePhase": True},
     "lrs": one_cycle_sequence(30, max_lr=0.1, pct_start=0.25, anneal_strategy="linear", three_phase=True)},
    {"name": "plateau_min_rel", "type": "reduceOnPlateau", "args": PLATEAU_MIN, "metrics": METRICS_MIN,
     "lrs": plateau_sequence(PLATEAU_MIN, METRICS_MIN)},
    {"name": "plateau_max_abs", "type": "reduceOnPlateau", "args": PLATEAU_MAX, "metrics": METRICS_MAX,
     "lrs": plateau_sequence(PLATEAU_MAX, METRICS_MAX)},
    {"name": "warmup_cosine", "type": "warmupCosine", "args": WC,
     "lrs": [nanogpt_get_lr(it, WC["maxLR"], WC["warmupSteps"], WC["totalSteps"], WC["minLR"]) for it in range(N)]},
]



doc = {
    "meta": {"generator": "scripts/reference/make_optim_fixtures.py", "torch": torch.__version__,
             "dtype": "float64 reference from float32-exact inputs",
             "gradient": "g = coef * (p - target), recomputed before every step"},
    "problem": {"shapes": [list(s) for s in SHAPES], "init": [flat(t) for t in INIT],
                "coef": [flat(t) for t in COEF], "target": [flat(t) for t in TARGET]},
    "optimizers": OPTIMIZERS,
    "clip": CLIP,
    "schedules": SCHEDULES,
}
with open(OUT, "w") as f:
    json.dump(doc, f, indent=None, separators=(",", ":"))
    f.write("\n")
print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes")
