#!/usr/bin/env python3
"""PyTorch peer of scripts/bench/attention_variants.lua: same shapes, forward + backward, best of 7 (ms).
Run: PY=$(scripts/reference/venv.sh) && "$PY" scripts/bench/attention_variants.py [threads]"""
import math
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads())
torch.manual_seed(0)
B, H, HKV, T, D, FF = 16, 6, 2, 256, 64, 1024
with open("/proc/cpuinfo") as f:   # what ran, printed with every result
    cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "unknown")
print(f"cpu {cpu}, simd {torch.backends.cpu.get_cpu_capability().lower()}, torch {torch.__version__}, "
      f"{torch.get_num_threads()} threads")


def bench(name, shapes, fn):
    xs = [torch.randn(*s, requires_grad=True) for s in shapes]
    best = math.inf
    for r in range(8):
        for x in xs:
            x.grad = None
        t0 = time.perf_counter()
        fn(*xs).sum().backward()
        dt = time.perf_counter() - t0
        if r > 0:
            best = min(best, dt)
    print("%-34s %8.2f ms" % (name, best * 1000))


qkv = [(B, H, T, D), (B, HKV, T, D), (B, HKV, T, D)]
bench("torch sdpa gqa (enable_gqa)", qkv, lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True))
bench("torch sdpa repeat_interleave kv", qkv, lambda q, k, v: F.scaled_dot_product_attention(
    q, k.repeat_interleave(H // HKV, 1), v.repeat_interleave(H // HKV, 1), is_causal=True))
inv = 1.0 / (10000 ** (torch.arange(0, D, 2).float() / D))
ang = torch.arange(T).float()[:, None] * inv
cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
bench("torch rope (rotate_half)", [(B, H, T, D)],
      lambda x: x * cos + torch.cat((-x[..., D // 2:], x[..., :D // 2]), -1) * sin)
bench("torch swiglu (silu(a)*b)", [(B, T, 2 * FF)], lambda x: F.silu(x[..., :FF]) * x[..., FF:])
bench("torch geglu (gelu(a)*b)", [(B, T, 2 * FF)], lambda x: F.gelu(x[..., :FF]) * x[..., FF:])
