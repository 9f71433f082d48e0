#!/usr/bin/env python3
"""Reference fixtures for the model-structure choices (nn.Llama, nn.GPT options, nn.lora), from PyTorch.

Writes Tests/Fixtures/arch_llama.lua and arch_variants.lua (Lua-source fixtures, `return { ... }`), read
by Tests/lua/arch_spec.lua. Rerun (PyTorch from PyPI, in a venv outside the repository):
    PY=$(scripts/reference/venv.sh) && "$PY" scripts/reference/make_arch_fixtures.py     # from the repository root

Tensors and tolerances follow scripts/reference/make_nn_fixtures.py (whose writers this script uses):
float32 parameters, a float64 reference run, and `f32` = how far PyTorch's own float32 run lies from it.

Contract: each file has models[name] = {kind = 'llama' | 'gpt', config = <the nn.Llama / nn.GPT table>, params =
{our path -> tensor} (tied head.weight omitted), idx, targets (B=2, T=8), logits, loss, grads = {path ->
d loss / d param}, [adamw = {lr, betas, eps, weightDecay, losses}: the loss before each of 10
AdamW steps on the same batch, decay on dim >= 2 parameters only (the Llama case)]}, and arch_variants.lua lora = {config, x, weight, bias, A, B, upstream, out, grads = {x, A, B}, merged}.

The references are plain torch written from the published math (not from our code):
  Llama (HF LlamaModel): x = embed(idx); per layer h = x + o_proj(attn(rmsnorm(x))), x = h + down(silu(gate)
  * up) of rmsnorm(h); final rmsnorm; lm_head. RMSNorm x / sqrt(mean(x^2) + eps) * w. RoPE rotate-half
  with inv_freq = base^(-2i/d), cos/sin of cat(freqs, freqs); linear scaling divides positions by factor,
  NTK scaling multiplies base by factor^(d/(d-2)). GQA: each k/v head serves heads/kvHeads query heads
  (repeat_kv). Sliding window W: query i sees keys j with i - W < j <= i. qkNorm: RMSNorm (weight of size
  headDim) on each head of q and k before RoPE.
  Our parameter layout: attn.qkv = [q_proj; k_proj; v_proj] rows, mlp.fc = [gate_proj; up_proj] rows.
  GPT variant: ALiBi (Press et al. 2022; slopes 2^(-8h/H), h = 1..H for H a power of two; bias
  slope * (j - i)), post-norm blocks (x = ln1(x + attn(x)); x = ln2(x + mlp(x)), no final norm), GeGLU MLP
  (gelu(gate) * up, exact erf GELU), tied head, no position embedding.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_nn_fixtures import write  # noqa: E402  (the Lua writers)

REF = torch.float64

LLAMA = {"vocab": 13, "dim": 16, "layers": 2, "heads": 4, "kvHeads": 2, "hidden": 24, "ropeBase": 10000,
         "rmsEps": 1e-6, "maxSeq": 16, "tied": False}
LLAMA_VARIANT = {"vocab": 13, "dim": 16, "layers": 2, "heads": 4, "kvHeads": 1, "hidden": 20, "ropeBase": 500,
                 "ropeScaling": {"type": "ntk", "factor": 2.0}, "window": 3, "qkNorm": True, "rmsEps": 1e-5,
                 "maxSeq": 16, "tied": True}
LLAMA_LINEAR = {"vocab": 13, "dim": 16, "layers": 1, "heads": 2, "kvHeads": 2, "hidden": 16, "ropeBase": 10000,
                "ropeScaling": {"type": "linear", "factor": 4.0}, "maxSeq": 16}
GPT_ALIBI = {"vocab": 13, "blockSize": 8, "layers": 2, "heads": 4, "dim": 16, "positions": "alibi",
             "postNorm": True, "activation": "geglu", "hidden": 24, "bias": True, "tieWeights": True}


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def rope(x, base, scaling, dtype):
    d = x.shape[-1]
    t = x.shape[-2]
    pos = torch.arange(t, dtype=dtype)
    if scaling and scaling["type"] == "linear":
        pos = pos / scaling["factor"]
    if scaling and scaling["type"] == "ntk":
        base = base * scaling["factor"] ** (d / (d - 2))
    inv_freq = 1.0 / (base ** (torch.arange(0, d, 2, dtype=dtype) / d))
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return x * emb.cos() + rotate_half(x) * emb.sin()


def alibi_slopes(h):
    assert h & (h - 1) == 0
    return torch.tensor([2.0 ** (-8.0 * (i + 1) / h) for i in range(h)], dtype=REF)


def attention(q, k, v, window=None, alibi=None):
    """q (B,H,T,D), k/v (B,Hkv,T,D): causal softmax attention with GQA, window, ALiBi."""
    h, hkv, t = q.shape[1], k.shape[1], q.shape[2]
    k = k.repeat_interleave(h // hkv, dim=1)
    v = v.repeat_interleave(h // hkv, dim=1)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    i = torch.arange(t).view(t, 1)
    j = torch.arange(t).view(1, t)
    allowed = j <= i
    if window is not None:
        allowed = allowed & (j > i - window)
    if alibi is not None:
        scores = scores + alibi.to(scores.dtype).view(1, h, 1, 1) * (j - i).to(scores.dtype)
    scores = scores.masked_fill(~allowed, float("-inf"))
    return scores.softmax(-1) @ v


def llama_forward(c, p, idx, dtype):
    dim, h = c["dim"], c["heads"]
    hkv = c.get("kvHeads", h)
    d = dim // h
    eps = c.get("rmsEps", 1e-6)
    b, t = idx.shape
    x = F.embedding(idx, p["tokEmb.weight"])
    for li in range(c["layers"]):
        pre = "blocks.%d." % li
        a = rms_norm(x, p[pre + "ln1.weight"], eps)
        qkv = F.linear(a, p[pre + "attn.qkv.weight"])
        q, k, v = qkv.split([h * d, hkv * d, hkv * d], dim=-1)
        q = q.view(b, t, h, d).transpose(1, 2)
        k = k.view(b, t, hkv, d).transpose(1, 2)
        v = v.view(b, t, hkv, d).transpose(1, 2)
        if c.get("qkNorm"):
            q = rms_norm(q, p[pre + "attn.qNorm.weight"], eps)
            k = rms_norm(k, p[pre + "attn.kNorm.weight"], eps)
        q = rope(q, c["ropeBase"], c.get("ropeScaling"), dtype)
        k = rope(k, c["ropeBase"], c.get("ropeScaling"), dtype)
        y = attention(q, k, v, window=c.get("window"))
        y = y.transpose(1, 2).reshape(b, t, dim)
        hdn = x + F.linear(y, p[pre + "attn.proj.weight"])
        m = rms_norm(hdn, p[pre + "ln2.weight"], eps)
        gate, up = F.linear(m, p[pre + "mlp.fc.weight"]).chunk(2, dim=-1)
        x = hdn + F.linear(F.silu(gate) * up, p[pre + "mlp.proj.weight"])
    x = rms_norm(x, p["lnF.weight"], eps)
    head = p["tokEmb.weight"] if c.get("tied") else p["head.weight"]
    return F.linear(x, head)


def gpt_alibi_forward(c, p, idx, dtype):
    dim, h = c["dim"], c["heads"]
    d = dim // h
    b, t = idx.shape
    slopes = alibi_slopes(h)
    x = F.embedding(idx, p["tokEmb.weight"])
    for li in range(c["layers"]):
        pre = "blocks.%d." % li
        qkv = F.linear(x, p[pre + "attn.qkv.weight"], p[pre + "attn.qkv.bias"])
        q, k, v = [z.view(b, t, h, d).transpose(1, 2) for z in qkv.chunk(3, dim=-1)]
        y = attention(q, k, v, alibi=slopes).transpose(1, 2).reshape(b, t, dim)
        x = x + F.linear(y, p[pre + "attn.proj.weight"], p[pre + "attn.proj.bias"])
        x = F.layer_norm(x, (dim,), p[pre + "ln1.weight"], p[pre + "ln1.bias"], 1e-5)
        gate, up = F.linear(x, p[pre + "mlp.fc.weight"], p[pre + "mlp.fc.bias"]).chunk(2, dim=-1)
        x = x + F.linear(F.gelu(gate) * up, p[pre + "mlp.proj.weight"], p[pre + "mlp.proj.bias"])
        x = F.layer_norm(x, (dim,), p[pre + "ln2.weight"], p[pre + "ln2.bias"], 1e-5)
    return F.linear(x, p["tokEmb.weight"])


def drawer(seed):
    """w(*shape, std=0.2): float32 N(0, std^2) draws from a generator seeded with seed."""
    g = torch.Generator().manual_seed(seed)

    def w(*shape, std=0.2):
        return torch.randn(*shape, generator=g, dtype=torch.float32) * std
    return w


def llama_params(c, seed):
    w = drawer(seed)
    dim, h = c["dim"], c["heads"]
    hkv = c.get("kvHeads", h)
    d = dim // h
    p = {}

    def norm(n):
        return 1 + w(n, std=0.1)

    p["tokEmb.weight"] = w(c["vocab"], dim, std=1.0)
    for li in range(c["layers"]):
        pre = "blocks.%d." % li
        p[pre + "ln1.weight"] = norm(dim)
        p[pre + "attn.qkv.weight"] = w((h + 2 * hkv) * d, dim)
        p[pre + "attn.proj.weight"] = w(dim, dim)
        if c.get("qkNorm"):
            p[pre + "attn.qNorm.weight"] = norm(d)
            p[pre + "attn.kNorm.weight"] = norm(d)
        p[pre + "ln2.weight"] = norm(dim)
        p[pre + "mlp.fc.weight"] = w(2 * c["hidden"], dim)
        p[pre + "mlp.proj.weight"] = w(dim, c["hidden"])
    p["lnF.weight"] = norm(dim)
    if not c.get("tied"):
        p["head.weight"] = w(c["vocab"], dim)
    return p


def gpt_alibi_params(c, seed):
    w = drawer(seed)
    dim, hid = c["dim"], c["hidden"]
    p = {}

    p["tokEmb.weight"] = w(c["vocab"], dim, std=1.0)
    for li in range(c["layers"]):
        pre = "blocks.%d." % li
        p[pre + "ln1.weight"] = 1 + w(dim, std=0.1)
        p[pre + "ln1.bias"] = w(dim, std=0.1)
        p[pre + "attn.qkv.weight"] = w(3 * dim, dim)
        p[pre + "attn.qkv.bias"] = w(3 * dim, std=0.1)
        p[pre + "attn.proj.weight"] = w(dim, dim)
        p[pre + "attn.proj.bias"] = w(dim, std=0.1)
        p[pre + "ln2.weight"] = 1 + w(dim, std=0.1)
        p[pre + "ln2.bias"] = w(dim, std=0.1)
        p[pre + "mlp.fc.weight"] = w(2 * hid, dim)
        p[pre + "mlp.fc.bias"] = w(2 * hid, std=0.1)
        p[pre + "mlp.proj.weight"] = w(dim, hid)
        p[pre + "mlp.proj.bias"] = w(dim, std=0.1)
    return p


def adamw_losses(c, forward, p32, idx, targets, dtype, steps=10):
    """Losses before each of `steps` AdamW steps on one batch (decay 0.1 on dim >= 2 parameters only)."""
    params = {k: v.to(dtype).clone().requires_grad_(True) for k, v in p32.items()}
    opt = torch.optim.AdamW([{"params": [v for v in params.values() if v.dim() >= 2], "weight_decay": 0.1},
                             {"params": [v for v in params.values() if v.dim() < 2], "weight_decay": 0.0}],
                            lr=1e-2, betas=(0.9, 0.95), eps=1e-8)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(forward(c, params, idx, dtype).reshape(-1, c["vocab"]), targets.reshape(-1))
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return losses


def model_case(kind, c, forward, p32, seed, adamw=False):
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, c["vocab"], (2, 8), generator=g)
    targets = torch.randint(0, c["vocab"], (2, 8), generator=g)

    def run(dtype):
        params = {k: v.to(dtype).clone().requires_grad_(True) for k, v in p32.items()}
        logits = forward(c, params, idx, dtype)
        loss = F.cross_entropy(logits.reshape(-1, c["vocab"]), targets.reshape(-1))
        grads = dict(zip(params.keys(), torch.autograd.grad(loss, list(params.values()))))
        return logits.detach(), loss.detach(), grads

    logits, loss, grads = run(REF)
    l32, loss32, g32 = run(torch.float32)
    dev = {"logits": (l32.to(REF) - logits).abs().max().item(), "loss": abs(loss32.item() - loss.item()),
           "grads": max((g32[k].to(REF) - grads[k]).abs().max().item() for k in grads)}
    extra = {}
    if adamw:
        losses = adamw_losses(c, forward, p32, idx, targets, REF)
        dev["adamwLosses"] = max(abs(a - b) for a, b in zip(adamw_losses(c, forward, p32, idx, targets, torch.float32), losses))
        extra["adamw"] = {"lr": 1e-2, "betas": [0.9, 0.95], "eps": 1e-8, "weightDecay": 0.1, "losses": losses}
    print("%s: float32 torch vs float64 max abs deviation: %s" % (kind, dev))
    return {**extra, "kind": kind, "config": c, "f32": dev, "params": {k: v.to(REF) for k, v in p32.items()},
            "idx": idx, "targets": targets, "logits": logits, "loss": torch.tensor(loss.item(), dtype=REF),
            "grads": grads}


def lora_case():
    g = torch.Generator().manual_seed(11)
    n_in, n_out, rank, alpha = 6, 5, 3, 6.0

    def r(*shape, std=1.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float32) * std).to(REF)

    x, w, b = r(2, 4, n_in), r(n_out, n_in, std=0.4), r(n_out, std=0.1)
    a, bb, up = r(rank, n_in, std=0.4), r(n_out, rank, std=0.4), r(2, 4, n_out)
    xs, as_, bs = x.clone().requires_grad_(True), a.clone().requires_grad_(True), bb.clone().requires_grad_(True)
    out = F.linear(xs, w, b) + (alpha / rank) * F.linear(F.linear(xs, as_), bs)
    gx, ga, gb = torch.autograd.grad((out * up).sum(), [xs, as_, bs])
    merged = w + (alpha / rank) * bb @ a
    return {"config": {"rank": rank, "alpha": alpha, "inFeatures": n_in, "outFeatures": n_out},
            "x": x, "weight": w, "bias": b, "A": a, "B": bb, "upstream": up, "out": out.detach(),
            "grads": {"x": gx, "A": ga, "B": gb}, "merged": merged}


def main():
    meta = {"torch": torch.__version__, "reference": "float64"}

    def header(name, what):
        return ["%s: PyTorch %s reference (float64 on float32 parameters) for %s." % (name, torch.__version__, what),
                "Generated by scripts/reference/make_arch_fixtures.py; do not edit. Read by Tests/lua/arch_spec.lua."]

    write("arch_llama.lua", {"meta": meta, "models": {
        "llama": model_case("llama", LLAMA, llama_forward, llama_params(LLAMA, 1), 2, adamw=True),
        "llamaVariant": model_case("llama", LLAMA_VARIANT, llama_forward, llama_params(LLAMA_VARIANT, 3), 4),
    }}, header("arch_llama.lua", "nn.Llama (GQA, MQA, NTK RoPE, window, qkNorm, tied)"))
    write("arch_variants.lua", {"meta": meta, "models": {
        "llamaLinear": model_case("llama", LLAMA_LINEAR, llama_forward, llama_params(LLAMA_LINEAR, 5), 6),
        "gptAlibi": model_case("gpt", GPT_ALIBI, gpt_alibi_forward, gpt_alibi_params(GPT_ALIBI, 7), 8),
    }, "lora": lora_case()}, header("arch_variants.lua", "linear RoPE scaling, nn.GPT ALiBi + post-norm + GeGLU, nn.lora"))


if __name__ == "__main__":
    main()
