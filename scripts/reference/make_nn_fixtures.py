#!/usr/bin/env python3
"""Reference fixtures for the nn layers, the losses and one tiny GPT training step, from PyTorch.

Writes two Lua-source fixtures (each `return { ... }`, loaded by the specs with dofile, no JSON parser):
  Tests/Fixtures/nn_layers.lua  read by Tests/lua/nn_spec.lua
  Tests/Fixtures/gpt_step.lua   read by Tests/lua/gpt_reference_spec.lua

Generated with torch 2.15.0 (CPU). Rerun (PyTorch from PyPI, in a venv outside the repository):
    PY=$(scripts/reference/venv.sh) && "$PY" scripts/reference/make_nn_fixtures.py      # from the repository root

Contract of the fixtures:
  A tensor is {shape = {d1, ...}, data = {row-major flat values}} (plus dtype = 'int64' for ids); an
  empty shape {} is a scalar. Floats are written with 9 significant digits, which round-trips float32.
  Every input and parameter is a float32 value (drawn in float32 by a seeded generator); the reference
  itself runs in float64 on those exact values, so it is the (nearly) exact answer and the float32
  engine should match it to float32 accuracy. Each fixture also records `f32` deviations: how far
  PyTorch's own float32 run lies from the float64 reference (an honest floor for our tolerance).

  nn_layers.lua: cases[name] = {kind, config, inputs = {name -> tensor}, params = {path -> tensor},
      upstream = tensor, out = tensor, grads = {name or path -> tensor}}
    out is the forward output; grads are those of sum(out * upstream) w.r.t. every float input and every
    parameter (upstream is omitted for scalar losses: the gradient is that of the loss itself).
    Parameter paths are our module's (and PyTorch's) names: 'weight', 'qkv.bias', 'mlp.fc.weight', ...
  gpt_step.lua: config, params (state dict without the tied head.weight, which equals tokEmb.weight),
      idx, targets (B=2, T=8), logits, loss, grads (every named parameter; tokEmb.weight includes
      the tied head's contribution), adamw = {lr, betas, eps, weightDecay, losses = {10 losses}}:
      loss[k] is the loss *before* AdamW step k (k = 1..10) on the same batch.

The GPT mirrors stdlib-lua/llm/nn/GPT.lua: token + position embeddings, pre-norm blocks
(x + attn(ln1(x)); x + mlp(ln2(x))), fused qkv Linear(dim, 3dim) split q,k,v in that order, heads via
view(B,T,H,D).transpose(1,2), causal softmax attention, output proj, MLP with tanh-GELU, final
LayerNorm, head tied to tokEmb. Its parameters are PyTorch's default module init (Linear
U(-1/sqrt(in), 1/sqrt(in)), Embedding N(0,1)) with the LayerNorm weights/biases perturbed
(1 + 0.1 N(0,1), 0.1 N(0,1)) so that a swapped or ignored affine parameter shows; seeded.
"""
import math
import os
import warnings

import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT_DIR = os.path.join(ROOT, "Tests", "Fixtures")
REF = torch.float64
warnings.filterwarnings("ignore", message="reduction: 'mean' divides")   # kl_div 'mean' is tested on purpose

# ---------------------------------------------------------------------------------------------------
# Writing Lua source


def fmt(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise ValueError("non-finite value in a fixture")
        s = "%.9g" % v
        return s
    if isinstance(v, str):
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
    raise TypeError(type(v))


def lua_tensor(t):
    t = t.detach()
    shape = "{" + ", ".join(str(d) for d in t.shape) + "}"
    flat = t.reshape(-1).tolist()
    if t.dtype in (torch.int64, torch.int32):
        data = ", ".join(str(int(x)) for x in flat)
        return "{shape = %s, dtype = 'int64', data = {%s}}" % (shape, data)
    chunks = []
    for i in range(0, len(flat), 10):
        chunks.append(", ".join(fmt(float(x)) for x in flat[i:i + 10]))
    return "{shape = %s, data = {\n%s}}" % (shape, ",\n".join(chunks))


def to_lua(v, indent=""):
    if isinstance(v, torch.Tensor):
        return lua_tensor(v)
    if isinstance(v, dict):
        inner = indent + "  "
        parts = []
        for k in v:
            key = k if k.isidentifier() else "['%s']" % k
            parts.append("%s%s = %s" % (inner, key, to_lua(v[k], inner)))
        return "{\n" + ",\n".join(parts) + "\n" + indent + "}"
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(to_lua(x, indent) for x in v) + "}"
    return fmt(v)


def write(name, value, header):
    path = os.path.join(OUT_DIR, name)
    text = "".join("-- " + line + "\n" for line in header) + "return " + to_lua(value) + "\n"
    with open(path, "w") as f:
        f.write(text)
    print("wrote %s (%d bytes)" % (os.path.relpath(path, ROOT), len(text)))
    assert len(text) < 300_000, "fixture too large"


# ---------------------------------------------------------------------------------------------------
# Values: float32 draws, used in float64

GEN = torch.Generator().manual_seed(1234)


def randn(*shape, scale=1.0):
    return (torch.randn(*shape, generator=GEN, dtype=torch.float32) * scale).to(REF)


def rand(*shape, low=0.0, high=1.0):
    return (torch.rand(*shape, generator=GEN, dtype=torch.float32) * (high - low) + low).to(torch.float32).to(REF)


def randint(high, *shape):
    return torch.randint(0, high, shape, generator=GEN, dtype=torch.int64)


def f32(t):
    """A float64 tensor holding float32-representable values."""
    return t.to(torch.float32).to(REF)


def run_case(fn, inputs, params, upstream=None, dtype=REF):
    """Forward fn(inputs, params) in dtype; grads of sum(out * upstream) (or of out when scalar)."""
    ins = {k: (v.to(dtype).requires_grad_(True) if v.is_floating_point() else v) for k, v in inputs.items()}
    ps = {k: v.to(dtype).requires_grad_(True) for k, v in params.items()}
    out = fn(ins, ps)
    target = out if upstream is None else (out * upstream.to(dtype)).sum()
    grad_of = {k: v for k, v in list(ins.items()) + list(ps.items()) if v.requires_grad}
    grads = torch.autograd.grad(target, list(grad_of.values()), allow_unused=True)
    g = {}
    for k, gr in zip(grad_of, grads):
        g[k] = gr if gr is not None else torch.zeros_like(grad_of[k])
    return out.detach(), {k: v.detach() for k, v in g.items()}


F32_DEV = {}


def case(name, kind, fn, inputs, params=None, config=None, upstream=True, grad_inputs=None):
    params = params or {}
    probe_out, _ = run_case(fn, inputs, params, None if not upstream else torch.zeros(1, dtype=REF))
    up = randn(*probe_out.shape) if upstream and probe_out.dim() > 0 else None
    out, grads = run_case(fn, inputs, params, up)
    out32, grads32 = run_case(fn, inputs, params, up, dtype=torch.float32)
    dev = (out32.to(REF) - out).abs().max().item()
    for k in grads:
        dev = max(dev, (grads32[k].to(REF) - grads[k]).abs().max().item())
    F32_DEV[name] = dev
    if grad_inputs is not None:
        grads = {k: v for k, v in grads.items() if k in grad_inputs or k in params}
    entry = {"kind": kind}
    if config:
        entry["config"] = config
    entry["inputs"] = inputs
    if params:
        entry["params"] = params
    if up is not None:
        entry["upstream"] = up
    entry["out"] = out
    entry["grads"] = grads
    return name, entry


# ---------------------------------------------------------------------------------------------------
# PyTorch mirrors of our layers (functional, over a parameter dict with our paths)


def linear(x, p, prefix=""):
    return F.linear(x, p[prefix + "weight"], p.get(prefix + "bias"))


def layer_norm(x, p, prefix, eps=1e-5):
    return F.layer_norm(x, (x.shape[-1],), p[prefix + "weight"], p.get(prefix + "bias"), eps)


def attention(x, p, heads, prefix="", key_mask=None):
    b, t, c = x.shape
    d = c // heads
    qkv = linear(x, p, prefix + "qkv.")
    q, k, v = qkv.split(c, dim=2)
    q, k, v = (z.view(b, t, heads, d).transpose(1, 2) for z in (q, k, v))
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
    mask = torch.ones(t, t, dtype=torch.bool).tril()
    if key_mask is not None:                      # (B, T), 0 = padding key
        mask = mask & (key_mask != 0)[:, None, None, :]
    att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
    y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
    return linear(y, p, prefix + "proj.")


def mlp(x, p, prefix=""):
    return linear(F.gelu(linear(x, p, prefix + "fc."), approximate="tanh"), p, prefix + "proj.")


def block(x, p, heads, prefix=""):
    x = x + attention(layer_norm(x, p, prefix + "ln1."), p, heads, prefix + "attn.")
    return x + mlp(layer_norm(x, p, prefix + "ln2."), p, prefix + "mlp.")


def linear_params(i, o, bias=True, prefix=""):
    bound = 1 / math.sqrt(i)
    p = {prefix + "weight": rand(o, i, low=-bound, high=bound)}
    if bias:
        p[prefix + "bias"] = rand(o, low=-bound, high=bound)
    return p


def norm_params(dim, bias=True, prefix=""):
    p = {prefix + "weight": f32(1 + randn(dim, scale=0.1))}
    if bias:
        p[prefix + "bias"] = randn(dim, scale=0.1)
    return p


def layer_cases():
    cases = {}

    def add(c):
        cases[c[0]] = c[1]

    x = randn(2, 3, 4)
    add(case("linear", "Linear", lambda i, p: linear(i["x"], p), {"x": x}, linear_params(4, 5),
             config={"inFeatures": 4, "outFeatures": 5, "bias": True}))
    add(case("linearNoBias", "Linear", lambda i, p: linear(i["x"], p), {"x": randn(3, 4)},
             linear_params(4, 5, bias=False), config={"inFeatures": 4, "outFeatures": 5, "bias": False}))
    ids = torch.tensor([[0, 3, 6], [3, 3, 1]], dtype=torch.int64)       # repeated ids: grads accumulate
    add(case("embedding", "Embedding", lambda i, p: F.embedding(i["ids"], p["weight"]), {"ids": ids},
             {"weight": randn(7, 4)}, config={"num": 7, "dim": 4}))
    add(case("layerNorm", "LayerNorm", lambda i, p: layer_norm(i["x"], p, ""), {"x": f32(randn(2, 3, 6) * 2 + 0.5)},
             norm_params(6), config={"dim": 6, "eps": 1e-5}))
    add(case("rmsNorm", "RMSNorm",
             lambda i, p: F.rms_norm(i["x"], (i["x"].shape[-1],), p["weight"], 1e-6),
             {"x": f32(randn(2, 3, 6) * 2 + 0.5)}, norm_params(6, bias=False), config={"dim": 6, "eps": 1e-6}))
    xa = rand(2, 3, 5, low=-4, high=4)
    add(case("gelu", "GELU", lambda i, p: F.gelu(i["x"]), {"x": xa}, config={"approximate": "none"}))
    add(case("geluTanh", "GELU", lambda i, p: F.gelu(i["x"], approximate="tanh"), {"x": xa},
             config={"approximate": "tanh"}))
    add(case("relu", "ReLU", lambda i, p: F.relu(i["x"]), {"x": xa}))
    add(case("silu", "SiLU", lambda i, p: F.silu(i["x"]), {"x": xa}))
    add(case("tanh", "Tanh", lambda i, p: torch.tanh(i["x"]), {"x": xa}))

    dim, heads = 8, 2
    ap = {**linear_params(dim, 3 * dim, prefix="qkv."), **linear_params(dim, dim, prefix="proj.")}
    add(case("attention", "CausalSelfAttention", lambda i, p: attention(i["x"], p, heads), {"x": randn(2, 5, dim)},
             ap, config={"dim": dim, "heads": heads}))
    km = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=REF)   # right padding: no fully masked row
    add(case("attentionKeyMask", "CausalSelfAttention",
             lambda i, p: attention(i["x"], p, heads, key_mask=i["keyMask"]),
             {"x": randn(2, 5, dim), "keyMask": km}, ap, config={"dim": dim, "heads": heads}, grad_inputs={"x"}))
    mp = {**linear_params(dim, 4 * dim, prefix="fc."), **linear_params(4 * dim, dim, prefix="proj.")}
    add(case("mlp", "MLP", lambda i, p: mlp(i["x"], p), {"x": randn(2, 3, dim)}, mp,
             config={"dim": dim, "activation": "gelu"}))
    bp = {**norm_params(dim, prefix="ln1."),
          **linear_params(dim, 3 * dim, prefix="attn.qkv."), **linear_params(dim, dim, prefix="attn.proj."),
          **norm_params(dim, prefix="ln2."),
          **linear_params(dim, 4 * dim, prefix="mlp.fc."), **linear_params(4 * dim, dim, prefix="mlp.proj.")}
    add(case("block", "Block", lambda i, p: block(i["x"], p, heads), {"x": randn(2, 5, dim)}, bp,
             config={"dim": dim, "heads": heads}))
    return cases


def loss_cases():
    cases = {}

    def add(c):
        cases[c[0]] = c[1]

    logits = randn(2, 3, 5, scale=2.0)
    targets = randint(5, 2, 3)
    add(case("ceMean", "crossEntropy", lambda i, p: F.cross_entropy(i["logits"].reshape(-1, 5), i["targets"].reshape(-1)),
             {"logits": logits, "targets": targets}, upstream=False, config={}))
    t_ign = targets.clone()
    t_ign[0, 1] = -100
    t_ign[1, 2] = -100
    add(case("ceIgnore", "crossEntropy",
             lambda i, p: F.cross_entropy(i["logits"].reshape(-1, 5), i["targets"].reshape(-1), ignore_index=-100),
             {"logits": logits, "targets": t_ign}, upstream=False, config={"ignoreIndex": -100}))
    t_ign2 = targets.clone()
    t_ign2[0, 0] = 3
    t_ign2[1, 1] = 3
    add(case("ceIgnoreClass", "crossEntropy",
             lambda i, p: F.cross_entropy(i["logits"].reshape(-1, 5), i["targets"].reshape(-1), ignore_index=3),
             {"logits": logits, "targets": t_ign2}, upstream=False, config={"ignoreIndex": 3}))
    add(case("ceSmoothing", "crossEntropy",
             lambda i, p: F.cross_entropy(i["logits"].reshape(-1, 5), i["targets"].reshape(-1), label_smoothing=0.1),
             {"logits": logits, "targets": targets}, upstream=False, config={"labelSmoothing": 0.1}))
    add(case("ceSmoothingIgnore", "crossEntropy",
             lambda i, p: F.cross_entropy(i["logits"].reshape(-1, 5), i["targets"].reshape(-1), label_smoothing=0.1,
                                          ignore_index=-100),
             {"logits": logits, "targets": t_ign}, upstream=False, config={"labelSmoothing": 0.1, "ignoreIndex": -100}))
    add(case("ceNone", "crossEntropy",
             lambda i, p: F.cross_entropy(i["logits"].reshape(-1, 5), i["targets"].reshape(-1), reduction="none").reshape(2, 3),
             {"logits": logits, "targets": t_ign}, config={"reduction": "none", "ignoreIndex": -100}))
    add(case("ceSum", "crossEntropy",
             lambda i, p: F.cross_entropy(i["logits"].reshape(-1, 5), i["targets"].reshape(-1), reduction="sum"),
             {"logits": logits, "targets": targets}, upstream=False, config={"reduction": "sum"}))

    a, b = randn(3, 4), randn(3, 4)
    add(case("mse", "mse", lambda i, p: F.mse_loss(i["input"], i["target"]), {"input": a, "target": b},
             upstream=False, config={}))
    add(case("mseSum", "mse", lambda i, p: F.mse_loss(i["input"], i["target"], reduction="sum"),
             {"input": a, "target": b}, upstream=False, config={"reduction": "sum"}))
    add(case("mseNone", "mse", lambda i, p: F.mse_loss(i["input"], i["target"], reduction="none"),
             {"input": a, "target": b}, config={"reduction": "none"}))

    s, t = randn(4, 5, scale=2.0), randn(4, 5, scale=2.0)

    def kl(temp, reduction):
        def fn(i, p):
            logp = F.log_softmax(i["student"] / temp, dim=-1)
            logq = F.log_softmax(i["teacher"].detach() / temp, dim=-1)
            return F.kl_div(logp, logq, reduction=reduction, log_target=True) * temp * temp
        return fn

    add(case("klDiv", "klDiv", kl(2.0, "batchmean"), {"student": s, "teacher": t}, upstream=False,
             config={"temperature": 2.0}, grad_inputs={"student"}))
    add(case("klDivT1", "klDiv", kl(1.0, "batchmean"), {"student": s, "teacher": t}, upstream=False,
             config={"temperature": 1.0}, grad_inputs={"student"}))
    add(case("klDivSum", "klDiv", kl(3.0, "sum"), {"student": s, "teacher": t}, upstream=False,
             config={"temperature": 3.0, "reduction": "sum"}, grad_inputs={"student"}))
    add(case("klDivMean", "klDiv", kl(2.0, "mean"), {"student": s, "teacher": t}, upstream=False,
             config={"temperature": 2.0, "reduction": "mean"}, grad_inputs={"student"}))

    probs = rand(3, 4, low=0.02, high=0.98)
    soft = rand(3, 4)
    hard = f32((rand(3, 4) > 0.5).to(REF))
    add(case("bce", "bce", lambda i, p: F.binary_cross_entropy(i["input"], i["target"]),
             {"input": probs, "target": soft}, upstream=False, config={}, grad_inputs={"input"}))
    add(case("bceNone", "bce", lambda i, p: F.binary_cross_entropy(i["input"], i["target"], reduction="none"),
             {"input": probs, "target": hard}, config={"reduction": "none"}, grad_inputs={"input"}))
    z = randn(3, 4, scale=3.0)
    add(case("bceWithLogits", "bceWithLogits", lambda i, p: F.binary_cross_entropy_with_logits(i["input"], i["target"]),
             {"input": z, "target": soft}, upstream=False, config={}, grad_inputs={"input"}))
    add(case("bceWithLogitsSum", "bceWithLogits",
             lambda i, p: F.binary_cross_entropy_with_logits(i["input"], i["target"], reduction="sum"),
             {"input": z, "target": hard}, upstream=False, config={"reduction": "sum"}, grad_inputs={"input"}))
    return cases


# ---------------------------------------------------------------------------------------------------
# Tiny GPT

GPT_CONFIG = {"vocab": 13, "blockSize": 8, "layers": 2, "heads": 2, "dim": 16, "dropout": 0, "bias": True,
              "tieWeights": True}


def gpt_params():
    torch.manual_seed(42)
    c = GPT_CONFIG
    dim = c["dim"]
    p = {}
    p["tokEmb.weight"] = torch.nn.Embedding(c["vocab"], dim).weight.detach().clone()
    p["posEmb.weight"] = torch.nn.Embedding(c["blockSize"], dim).weight.detach().clone()

    def lin(prefix, i, o):
        m = torch.nn.Linear(i, o)
        p[prefix + "weight"] = m.weight.detach().clone()
        p[prefix + "bias"] = m.bias.detach().clone()

    def ln(prefix):
        p[prefix + "weight"] = 1 + 0.1 * torch.randn(dim)
        p[prefix + "bias"] = 0.1 * torch.randn(dim)

    for i in range(c["layers"]):
        b = "blocks.%d." % i
        ln(b + "ln1.")
        lin(b + "attn.qkv.", dim, 3 * dim)
        lin(b + "attn.proj.", dim, dim)
        ln(b + "ln2.")
        lin(b + "mlp.fc.", dim, 4 * dim)
        lin(b + "mlp.proj.", 4 * dim, dim)
    ln("lnF.")
    return {k: v.to(torch.float32) for k, v in p.items()}


def gpt_forward(p, idx):
    c = GPT_CONFIG
    t = idx.shape[1]
    x = F.embedding(idx, p["tokEmb.weight"]) + F.embedding(torch.arange(t), p["posEmb.weight"])
    for i in range(c["layers"]):
        x = block(x, p, c["heads"], "blocks.%d." % i)
    x = layer_norm(x, p, "lnF.")
    return F.linear(x, p["tokEmb.weight"])       # head.weight is tokEmb.weight


def gpt_run(p32, idx, targets, dtype):
    params = {k: v.to(dtype).clone().requires_grad_(True) for k, v in p32.items()}
    logits = gpt_forward(params, idx)
    loss = F.cross_entropy(logits.reshape(-1, GPT_CONFIG["vocab"]), targets.reshape(-1))
    grads = torch.autograd.grad(loss, list(params.values()))
    grads = dict(zip(params.keys(), grads))
    # 10 AdamW steps on the same batch (nanoGPT param groups: decay on dim >= 2)
    decay = [v for v in params.values() if v.dim() >= 2]
    no_decay = [v for v in params.values() if v.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-2, betas=(0.9, 0.95), eps=1e-8)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        l = F.cross_entropy(gpt_forward(params, idx).reshape(-1, GPT_CONFIG["vocab"]), targets.reshape(-1))
        losses.append(l.item())
        l.backward()
        opt.step()
    return logits.detach(), loss.detach(), grads, losses


def gpt_fixture():
    p32 = gpt_params()
    g = torch.Generator().manual_seed(7)
    idx = torch.randint(0, GPT_CONFIG["vocab"], (2, 8), generator=g)
    targets = torch.randint(0, GPT_CONFIG["vocab"], (2, 8), generator=g)
    logits, loss, grads, losses = gpt_run(p32, idx, targets, REF)
    l32, loss32, g32, losses32 = gpt_run(p32, idx, targets, torch.float32)
    dev = {
        "logits": (l32.to(REF) - logits).abs().max().item(),
        "loss": abs(loss32.item() - loss.item()),
        "grads": max((g32[k].to(REF) - grads[k]).abs().max().item() for k in grads),
        "adamwLosses": max(abs(a - b) for a, b in zip(losses32, losses)),
    }
    print("gpt: float32 torch vs float64 max abs deviation:", dev)
    return {
        "config": GPT_CONFIG,
        "f32": dev,
        "params": {k: v.to(REF) for k, v in p32.items()},
        "idx": idx,
        "targets": targets,
        "logits": logits,
        "loss": torch.tensor(loss.item(), dtype=REF),
        "grads": grads,
        "adamw": {"lr": 1e-2, "betas": [0.9, 0.95], "eps": 1e-8, "weightDecay": 0.1, "losses": losses},
    }


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    layers = layer_cases()
    layers.update(loss_cases())
    print("layers: float32 torch vs float64 max abs deviation:")
    for k, v in F32_DEV.items():
        print("  %-20s %.3g" % (k, v))
    header = ["nn_layers.lua: PyTorch %s reference (float64 on float32 inputs) for nn layers and losses." % torch.__version__,
              "Generated by scripts/reference/make_nn_fixtures.py; do not edit. Read by Tests/lua/nn_spec.lua."]
    write("nn_layers.lua", {"meta": {"torch": torch.__version__, "reference": "float64"},
                            "f32": dict(F32_DEV), "cases": layers}, header)
    header = ["gpt_step.lua: PyTorch %s reference (float64 on float32 parameters) for one tiny GPT step and" % torch.__version__,
              "10 AdamW steps. Generated by scripts/reference/make_nn_fixtures.py; do not edit.",
              "Read by Tests/lua/gpt_reference_spec.lua."]
    write("gpt_step.lua", {"meta": {"torch": torch.__version__, "reference": "float64"}, **gpt_fixture()}, header)


if __name__ == "__main__":
    main()
