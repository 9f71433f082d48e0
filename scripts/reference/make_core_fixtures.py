#!/usr/bin/env python3
"""Reference fixtures for the tensor core (LLMCore), generated with PyTorch on the CPU.

Writes Tests/Fixtures/core_ops.json, read by Tests/LLMCoreTests/ReferenceFixtureTests.swift.

Contract of the JSON (all indices 0-based, all arrays row-major and flat):
  meta:  generator, torch version, dtype of the reference computation, loss definition.
  cases: [{ name, op, args,
            inputs:  [{name, shape, dtype ("float32" | "int64"), requires_grad, data}],
            weight:  {shape, data}            # fixed weight for the first output
            outputs: [{shape, dtype, data}],  # forward results (max: values, then indices)
            grads:   [{shape, data} | null]   # d/d input of L = sum(outputs[0] * weight)
          }]
The Swift test has one closure per case name that rebuilds the op through the public LLMCore API.

Inputs are deterministic (torch.Generator seeded per case) and rounded to multiples of 1/1024, so
they are exact in float32 and print short. They are chosen away from kinks (|x| > 0.05 for abs and
relu, away from the clamp bounds, no ties for max) and inside each op's domain (log, sqrt, pow).
The reference is computed in float64 from those float32 inputs, so it is the (nearly) exact answer
and LLMCore's float32 results should match it to ~1e-5 relative.

Rerun (PyTorch from PyPI; the CPU wheel index is not needed):
    PY=$(scripts/reference/venv.sh) && "$PY" scripts/reference/make_core_fixtures.py     # from the repository root
The committed fixture was produced with the torch version recorded in its meta.torch field
(torch 2.15.0+cu132, the default PyPI wheel, run on the CPU; Python 3.11); regenerate and commit together with test changes.
"""
import json
import math
import os
import sys

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "core_ops.json")
REF = torch.float64
Q = 1024.0  # input quantum


def q(t):
    """Round to multiples of 1/1024 (exact in float32)."""
    return torch.round(t * Q) / Q


def gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def randn(shape, seed, scale=1.0):
    return q(torch.randn(tuple(shape), generator=gen(seed), dtype=torch.float32) * scale).to(REF)


def uniform(shape, seed, lo, hi):
    return q(torch.rand(tuple(shape), generator=gen(seed), dtype=torch.float32) * (hi - lo) + lo).to(REF)


def away_from(x, points, margin=0.05):
    """Pushes values within `margin` of any point outward (keeps inputs off kinks)."""
    x = x.clone()
    for p in points:
        d = x - p
        near = d.abs() < margin
        x[near] = p + torch.where(d[near] >= 0, torch.full_like(d[near], margin), torch.full_like(d[near], -margin)) * 2
    return q(x)


def flat(t):
    if t.dtype in (torch.int64, torch.int32, torch.bool):
        return [int(v) for v in t.reshape(-1).tolist()]
    # 12 significant digits: far below float32 resolution, and the inputs (multiples of 1/1024) stay exact
    return [float(f"{v:.12g}") for v in t.reshape(-1).to(torch.float64).tolist()]


def enc(t, name=None, requires_grad=None):
    d = {"shape": list(t.shape), "dtype": "float32" if t.is_floating_point() else "int64", "data": flat(t)}
    if name is not None:
        d = {"name": name, **d}
    if requires_grad is not None:
        d["requires_grad"] = requires_grad
    return d


CASES = []


def case(name, op, args, inputs, fn, seed=0):
    """inputs: list of (name, tensor, requires_grad). fn(*tensors) -> tensor or tuple of tensors."""
    leaves = []
    for _, t, rg in inputs:
        t = t.detach().clone()
        if t.is_floating_point():
            t = t.to(REF)
            t.requires_grad_(rg)
        leaves.append(t)
    out = fn(*leaves)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    w = randn(list(outs[0].shape), 10_000 + seed)
    loss = (outs[0] * w).sum()
    diff = [t for t in leaves if t.requires_grad]
    grads = torch.autograd.grad(loss, diff, allow_unused=True) if diff else []
    gi = iter(grads)
    grad_list = []
    for t in leaves:
        if t.requires_grad:
            g = next(gi)
            grad_list.append(enc(g if g is not None else torch.zeros_like(t)))
        else:
            grad_list.append(None)
    CASES.append({
        "name": name, "op": op, "args": args,
        "inputs": [enc(t.detach(), n, rg) for (n, _, rg), t in zip(inputs, leaves)],
        "weight": enc(w),
        "outputs": [enc(o.detach()) for o in outs],
        "grads": grad_list,
    })


def build():
    a = randn([2, 3], 1)
    row = randn([3], 2)
    col = randn([2, 1], 3)
    # broadcasting binaries: (2,3) op (3,) and (2,3) op (2,1)
    for i, (op, f) in enumerate([("add", torch.add), ("sub", torch.sub), ("mul", torch.mul)]):
        case(f"{op}_row", op, {"broadcast": "(2,3) with (3,)"}, [("a", a, True), ("b", row, True)], f, 20 + 2 * i)
        case(f"{op}_col", op, {"broadcast": "(2,3) with (2,1)"}, [("a", a, True), ("b", col, True)], f, 21 + 2 * i)
    drow = away_from(row, [0.0], 0.25)
    dcol = away_from(col, [0.0], 0.25)
    case("div_row", "div", {"broadcast": "(2,3) with (3,)"}, [("a", a, True), ("b", drow, True)], torch.div, 30)
    case("div_col", "div", {"broadcast": "(2,3) with (2,1)"}, [("a", a, True), ("b", dcol, True)], torch.div, 31)
    pa = uniform([2, 3], 4, 0.5, 2.0)
    case("pow_row", "pow", {"broadcast": "(2,3) with (3,)"}, [("a", pa, True), ("b", row, True)], torch.pow, 32)
    case("pow_col", "pow", {"broadcast": "(2,3) with (2,1)"}, [("a", pa, True), ("b", col, True)], torch.pow, 33)

    # unary
    x = randn([3, 4], 5)
    pos = uniform([3, 4], 6, 0.2, 3.0)
    nz = away_from(x, [0.0])
    unary = [
        ("neg", x, torch.neg), ("exp", x, torch.exp), ("log", pos, torch.log), ("sqrt", pos, torch.sqrt),
        ("rsqrt", pos, torch.rsqrt), ("abs", nz, torch.abs), ("tanh", x, torch.tanh),
        ("sigmoid", x, torch.sigmoid), ("relu", nz, torch.relu),
        ("gelu_exact", x, lambda t: torch.nn.functional.gelu(t)),
        ("gelu_tanh", x, lambda t: torch.nn.functional.gelu(t, approximate="tanh")),
        ("silu", x, torch.nn.functional.silu),
    ]
    for i, (name, inp, f) in enumerate(unary):
        case(name, name, {}, [("x", inp, True)], f, 40 + i)
    case("pow_scalar3", "pow", {"exponent": 3}, [("x", x, True)], lambda t: t ** 3, 60)
    cx = away_from(x * 0.8, [-0.5, 0.5])
    case("clamp", "clamp", {"min": -0.5, "max": 0.5}, [("x", cx, True)], lambda t: t.clamp(-0.5, 0.5), 61)
    cond = (randn([2, 3], 7) > 0).to(torch.float32)
    case("where", "where", {"broadcast": "cond (2,3), a (2,3), b (3,)"},
         [("cond", cond, False), ("a", a, True), ("b", row, True)], lambda c, p, r: torch.where(c != 0, p, r), 62)

    # reductions
    r = randn([3, 4], 8)
    case("sum_dim1_keepdim", "sum", {"dim": 1, "keepdim": True}, [("x", r, True)], lambda t: t.sum(1, keepdim=True), 70)
    case("mean_all", "mean", {}, [("x", r, True)], lambda t: t.mean(), 71)
    case("var_dim1", "var", {"dim": 1, "correction": 1}, [("x", r, True)], lambda t: t.var(1, correction=1), 72)
    assert all(len(set(row_.tolist())) == len(row_) for row_ in r), "ties in max input"
    case("max_dim1", "max", {"dim": 1, "keepdim": False}, [("x", r, True)], lambda t: tuple(t.max(1)), 73)
    case("logsumexp_dim1", "logsumexp", {"dim": 1}, [("x", r, True)], lambda t: t.logsumexp(1), 74)
    case("softmax_dim1", "softmax", {"dim": 1}, [("x", r, True)], lambda t: t.softmax(1), 75)
    case("log_softmax_dim0", "log_softmax", {"dim": 0}, [("x", r, True)], lambda t: t.log_softmax(0), 76)
    case("norm_p2", "norm", {"p": 2}, [("x", r, True)], lambda t: torch.linalg.vector_norm(t, 2), 77)
    case("norm_p3_dim1", "norm", {"p": 3, "dim": 1}, [("x", r, True)], lambda t: torch.linalg.vector_norm(t, 3, dim=1), 78)

    # matmul
    m1, m2 = randn([3, 4], 9), randn([4, 5], 10)
    case("matmul_2d", "matmul", {}, [("a", m1, True), ("b", m2, True)], torch.matmul, 80)
    b3 = randn([2, 3, 4], 11)
    case("matmul_batched_bcast", "matmul", {"shapes": "(2,3,4) @ (4,5)"}, [("a", b3, True), ("b", m2, True)], torch.matmul, 81)
    at = randn([4, 3], 12)
    case("matmul_transposed_a", "matmul", {"expr": "a.T @ b", "shapes": "(4,3).T @ (4,5)"},
         [("a", at, True), ("b", m2, True)], lambda p, s: p.t() @ s, 82)
    bt = randn([5, 4], 13)
    case("matmul_transposed_b", "matmul", {"expr": "a @ b.T", "shapes": "(3,4) @ (5,4).T"},
         [("a", m1, True), ("b", bt, True)], lambda p, s: p @ s.t(), 83)

    # movement
    mv = randn([2, 3, 4], 14)
    case("reshape", "reshape", {"shape": [4, 6]}, [("x", mv, True)], lambda t: t.reshape(4, 6), 90)
    case("permute", "permute", {"order": [2, 0, 1]}, [("x", mv, True)], lambda t: t.permute(2, 0, 1), 91)
    case("permute_reshape", "permute+reshape", {"order": [2, 0, 1], "shape": [4, 6]}, [("x", mv, True)],
         lambda t: t.permute(2, 0, 1).reshape(4, 6), 92)
    case("narrow", "narrow", {"dim": 2, "start": 1, "length": 2}, [("x", mv, True)], lambda t: t.narrow(2, 1, 2), 93)
    ex = randn([3, 1], 15)
    case("expand", "expand", {"shape": [2, 3, 4]}, [("x", ex, True)], lambda t: t.expand(2, 3, 4), 94)

    # joining and indexing
    c1, c2 = randn([2, 3], 16), randn([2, 2], 17)
    case("cat_dim1", "cat", {"dim": 1}, [("a", c1, True), ("b", c2, True)], lambda p, s: torch.cat([p, s], 1), 100)
    s2 = randn([2, 3], 18)
    case("stack_dim0", "stack", {"dim": 0}, [("a", c1, True), ("b", s2, True)], lambda p, s: torch.stack([p, s], 0), 101)
    src = randn([4, 3], 19)
    isel = torch.tensor([2, 0, 2], dtype=torch.int64)
    case("index_select_dim0", "index_select", {"dim": 0}, [("x", src, True), ("index", isel, False)],
         lambda t, i: t.index_select(0, i), 102)
    gidx = torch.tensor([[3, 0], [1, 1], [2, 0]], dtype=torch.int64)
    case("gather_dim1", "gather", {"dim": 1}, [("x", r, True), ("index", gidx, False)], lambda t, i: t.gather(1, i), 103)
    sself, ssrc = randn([3, 4], 20), randn([3, 2], 21)
    case("scatter_add_dim1", "scatter_add", {"dim": 1},
         [("self", sself, True), ("index", gidx, False), ("source", ssrc, True)],
         lambda t, i, s: t.scatter_add(1, i, s), 104)
    emb = randn([5, 3], 22)
    ids = torch.tensor([[4, 0, 4], [1, 2, 0]], dtype=torch.int64)
    case("embedding", "embedding", {}, [("weight", emb, True), ("ids", ids, False)],
         lambda w_, i: torch.nn.functional.embedding(i, w_), 105)
    case("tril", "tril", {"diagonal": 0}, [("x", r, True)], lambda t: t.tril(), 106)
    case("triu", "triu", {"diagonal": 0}, [("x", r, True)], lambda t: t.triu(), 107)
    case("triu_diag1", "triu", {"diagonal": 1}, [("x", r, True)], lambda t: t.triu(1), 108)
    case("tril_diag_neg1", "tril", {"diagonal": -1}, [("x", r, True)], lambda t: t.tril(-1), 109)


def main():
    torch.manual_seed(0)
    build()
    doc = {
        "meta": {
            "generator": "scripts/reference/make_core_fixtures.py",
            "torch": torch.__version__,
            "python": sys.version.split()[0],
            "reference_dtype": "float64 (inputs are exact float32 values)",
            "loss": "L = sum(outputs[0] * weight); grads[i] = dL/d inputs[i] (null when not differentiated)",
            "indices": "0-based",
        },
        "cases": CASES,
    }
    text = json.dumps(doc, separators=(",", ":"))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(text + "\n")
    print(f"wrote {os.path.normpath(OUT)}: {len(CASES)} cases, {len(text) // 1024} KB")


if __name__ == "__main__":
    main()
