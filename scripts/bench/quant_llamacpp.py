#!/usr/bin/env python3
"""Decoding speed of llama.cpp (llama-cpp-python) on the GGUF files of scripts/bench/quant_gguf.lua.

For each DIR/gpt2_<dtype>.gguf: a 1-token prompt, then --tokens greedy decoding steps of one token each through
the KV cache (Llama.eval on one token, argmax of the last logits), timed; the median tokens/s of --repeats runs
after one warm-up run, on --threads threads. Prints a markdown table and one JSON line per file.
Usage: /tmp/torchvenv/bin/python scripts/bench/quant_llamacpp.py DIR [--tokens 32] [--repeats 3] [--threads 2]
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
from llama_cpp import Llama


def decode_rate(llm, tokens):
    llm.reset()
    llm.eval([1])
    t0 = time.perf_counter()
    for _ in range(tokens):
        nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        llm.eval([nxt])
    return tokens / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    rows = []
    for dtype in ("f32", "q8_0", "q4_0", "q4_k"):
        path = os.path.join(a.dir, f"gpt2_{dtype}.gguf")
        if not os.path.exists(path):
            continue
        llm = Llama(model_path=path, n_ctx=a.tokens + 8, n_threads=a.threads, n_threads_batch=a.threads,
                    logits_all=True, verbose=False)
        decode_rate(llm, 4)
        rate = statistics.median(decode_rate(llm, a.tokens) for _ in range(a.repeats))
        rows.append((dtype, rate))
        del llm
    print(f"| llama.cpp format ({a.threads} threads) | decode tok/s |")
    print("|---|---:|")
    for dtype, rate in rows:
        print(f"| {dtype} | {rate:.1f} |")
    for dtype, rate in rows:
        print(json.dumps({"bench": "quant_llamacpp", "format": dtype, "threads": a.threads, "tokensPerSecond": rate}))


if __name__ == "__main__":
    main()
