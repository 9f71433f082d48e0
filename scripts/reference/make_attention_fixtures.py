#!/usr/bin/env python3
"""Reference fixtures for the attention variants, rotary embeddings and gated units, from PyTorch.

Writes Tests/Fixtures/attention_variants.lua (`return { ... }`, loaded with dofile by
Tests/lua/attention_variants_spec.lua).

Rerun (PyTorch from PyPI, in a venv outside the repository):
    PY=$(scripts/reference/venv.sh) && "$PY" scripts/reference/make_attention_fixtures.py     # from the repository root

Contract: a tensor is {shape = {...}, data = {row-major values}} (dtype = 'int64' for positions and segment
ids); floats have 9 significant digits (round-trips float32). Inputs are float32 values from a seeded
generator; the reference runs in float64 on those exact values. cases[name] = {kind, opts, inputs,
upstream, out, grads}: kind is 'attention', 'rope', 'swiglu' or 'geglu'; opts are the scalar options of
the llm call (tensor options are in inputs under their option names); grads are those of sum(out·upstream)
for every float input (q, k, v or x).

Attention reference: explicit softmax(q·kᵀ/√D + bias)·v, kv head h // (H/Hkv) (repeat_interleave, as HF's
repeat_kv), bias = −∞ for hidden keys and −slope_h·(queryPos − keyPos) with ALiBi (slopes as HF's
build_alibi_tensor); a key is visible iff keyMask ≠ 0, (causal) keyPos ≤ queryPos, (window W)
queryPos − keyPos < W, and the segments match; a query with no visible key outputs 0.
RoPE reference: HF Llama's rotate_half with cos/sin (T, D/2) concatenated twice; linear scaling divides the
positions by the factor, NTK-aware uses base·factor^(D/(D−2)).
SwiGLU/GeGLU: act(x[..., :F])·x[..., F:], SiLU and exact (erf) GELU (F.gelu's default).
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_nn_fixtures import write  # noqa: E402  (the Lua-source writer shared by the fixture scripts)

REF = torch.float64
gen = torch.Generator().manual_seed(1313)


def randn(*shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float32)


def alibi_slopes(heads):
    """HF transformers build_alibi_tensor's slopes."""
    p = 2 ** math.floor(math.log2(heads))
    base = 2 ** (-(2 ** -(math.log2(p) - 3)))
    slopes = [base ** i for i in range(1, 1 + p)]
    if p != heads:
        extra = 2 ** (-(2 ** -(math.log2(2 * p) - 3)))
        rest = min(p, heads - p)
        slopes += [extra ** i for i in range(1, 1 + 2 * rest, 2)]
    return torch.tensor(slopes, dtype=REF)


def attention_ref(q, k, v, causal=False, positions=None, keyPositions=None, window=None, keyMask=None,
                  segments=None, alibi=None):
    B, H, T, D = q.shape
    Hkv, S = k.shape[1], k.shape[2]
    qp = positions if positions is not None else (torch.arange(T) + S - T).expand(B, T)
    kp = keyPositions if keyPositions is not None else torch.arange(S).expand(B, S)
    d = (qp[:, :, None] - kp[:, None, :]).to(REF)                      # (B,T,S)
    vis = torch.ones(B, T, S, dtype=torch.bool)
    if keyMask is not None:
        vis &= (keyMask != 0)[:, None, :]
    if causal:
        vis &= d >= 0
    if window is not None:
        vis &= (d < window) & (-d < window)
    if segments is not None:
        qs = segments[:, S - T:]
        vis &= qs[:, :, None] == segments[:, None, :]
    bias = torch.zeros(B, H, T, S, dtype=REF)
    if alibi is not None:
        bias = bias - alibi.view(1, H, 1, 1) * d[:, None]
    bias = bias.masked_fill(~vis[:, None], float("-inf"))
    kk = k.repeat_interleave(H // Hkv, dim=1)
    vv = v.repeat_interleave(H // Hkv, dim=1)
    logits = q @ kk.transpose(-1, -2) / math.sqrt(D) + bias
    live = vis.any(-1)[:, None, :, None]                                # (B,1,T,1)
    p = torch.softmax(logits.masked_fill(~live, 0), dim=-1)
    return (p @ vv) * live


def rope_ref(x, positions, base=10000.0, scaling=None):
    D = x.shape[-1]
    pos = positions.to(REF)
    if scaling and scaling["type"] == "linear":
        pos = pos / scaling["factor"]
    if scaling and scaling["type"] == "ntk":
        base = base * scaling["factor"] ** (D / (D - 2))
    inv_freq = 1.0 / (base ** (torch.arange(0, D, 2, dtype=REF) / D))
    freqs = pos[..., None] * inv_freq                                   # (B,T,D/2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]                   # (B,1,T,D)

    def rotate_half(t):
        return torch.cat((-t[..., D // 2:], t[..., :D // 2]), dim=-1)
    return x * cos + rotate_half(x) * sin


def make_case(kind, fn, float_inputs, other_inputs, opts):
    ref_inputs = {n: t.to(REF).requires_grad_(True) for n, t in float_inputs.items()}
    out = fn(**ref_inputs)
    upstream = randn(*out.shape)
    (out * upstream.to(REF)).sum().backward()
    inputs = dict(float_inputs)
    inputs.update(other_inputs)
    return {"kind": kind, "opts": opts, "inputs": inputs, "upstream": upstream, "out": out.float(),
            "grads": {n: t.grad.float() for n, t in ref_inputs.items()}}


def attention_case(qshape, kvshape, opts, tensors=None):
    tensors = tensors or {}
    qkv = {"q": randn(*qshape), "k": randn(*kvshape), "v": randn(*kvshape)}
    kw = dict(opts)
    kw.update(tensors)
    if kw.get("alibi") is True:
        kw["alibi"] = alibi_slopes(qshape[1])
    return make_case("attention", lambda q, k, v: attention_ref(q, k, v, **kw), qkv, tensors, opts)


def main():
    cases = {}
    cases["gqa"] = attention_case((2, 4, 5, 8), (2, 2, 5, 8), {"causal": True})
    cases["mqa"] = attention_case((2, 4, 5, 8), (2, 1, 5, 8), {"causal": True})
    cases["window"] = attention_case((1, 2, 9, 4), (1, 2, 9, 4), {"causal": True, "window": 3})
    cases["alibi"] = attention_case((2, 3, 6, 4), (2, 3, 6, 4), {"causal": True, "alibi": True})
    seg = torch.tensor([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 2]])
    pos = torch.tensor([[0, 1, 2, 0, 1, 2], [0, 1, 0, 1, 2, 0]])
    cases["segments"] = attention_case((2, 2, 6, 4), (2, 1, 6, 4), {"causal": True},
                                       {"segments": seg, "positions": pos, "keyPositions": pos})
    # batched decoding over a KV cache: row 0 has 6 real keys, row 1 is left-padded to 4 (positions 0..3)
    cases["positions"] = attention_case((2, 2, 2, 4), (2, 2, 6, 4), {"causal": True}, {
        "positions": torch.tensor([[4, 5], [2, 3]]),
        "keyPositions": torch.tensor([[0, 1, 2, 3, 4, 5], [0, 0, 0, 1, 2, 3]]),
        "keyMask": torch.tensor([[1., 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]])})
    cases["maskedRow"] = attention_case((2, 2, 3, 4), (2, 2, 3, 4), {"causal": True},
                                        {"keyMask": torch.tensor([[1., 1, 1], [0, 0, 0]])})

    x = randn(2, 2, 5, 8)
    rpos = torch.tensor([[0, 1, 2, 3, 4], [7, 8, 9, 10, 11]])
    for name, scaling, base in [("rope", None, 10000.0), ("ropeLinear", {"type": "linear", "factor": 4.0}, 10000.0),
                                ("ropeNtk", {"type": "ntk", "factor": 2.0}, 500.0)]:
        opts = {"base": base}
        if scaling:
            opts["scaling"] = scaling
        cases[name] = make_case("rope", lambda x, s=scaling, b=base: rope_ref(x, rpos, b, s), {"x": x},
                                {"positions": rpos}, opts)
    cases["ropeOffset"] = make_case("rope", lambda x: rope_ref(x, torch.arange(3, 8).expand(2, 5)), {"x": x}, {},
                                    {"offset": 3})
    g = randn(3, 4, 12) * 2
    cases["swiglu"] = make_case("swiglu", lambda x: F.silu(x[..., :6]) * x[..., 6:], {"x": g}, {}, {})
    cases["geglu"] = make_case("geglu", lambda x: F.gelu(x[..., :6]) * x[..., 6:], {"x": g}, {}, {})

    header = ["attention_variants.lua: PyTorch %s reference (float64 on float32 inputs) for GQA/MQA, sliding" % torch.__version__,
              "windows, ALiBi, segments, per-row positions, rope and swiglu/geglu.",
              "Generated by scripts/reference/make_attention_fixtures.py; do not edit. Read by",
              "Tests/lua/attention_variants_spec.lua."]
    write("attention_variants.lua", {"meta": {"torch": torch.__version__}, "cases": cases}, header)


if __name__ == "__main__":
    main()
