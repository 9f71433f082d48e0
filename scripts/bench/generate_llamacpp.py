#!/usr/bin/env python3
"""llama.cpp's side of `llmscript generate`: the GGUF of scripts/bench/generate_gguf.lua decoded by
llama-cpp-python's Llama(...).create_completion (streamed, greedy, temperature 0), on --threads threads.
Prints load time, then per run (--repeats): time to first token (first streamed chunk) and decode
tokens/s (--tokens greedy Llama.eval steps of one token after the prompt, as scripts/bench/quant_llamacpp.py). Usage: /tmp/torchvenv/bin/python scripts/bench/generate_llamacpp.py OUTDIR/model.gguf
  [--prompt 'Once upon a time'] [--tokens 100] [--threads 1] [--repeats 3]
"""
import argparse
import time

import numpy as np

from llama_cpp import Llama


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf")
    ap.add_argument("--prompt", default="Once upon a time")
    ap.add_argument("--tokens", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    t0 = time.perf_counter()
    llm = Llama(model_path=a.gguf, n_ctx=256, n_threads=a.threads, n_threads_batch=a.threads, verbose=False)
    print(f"load {time.perf_counter() - t0:.3f} s")
    for _ in range(a.repeats):
        llm.reset()  # time to first token: the first streamed chunk
        start = time.perf_counter()
        next(iter(llm.create_completion(a.prompt, max_tokens=a.tokens, temperature=0, top_k=1, stream=True)))
        ttft = time.perf_counter() - start
        llm.reset()  # decode rate: greedy steps of one token through the KV cache (create_completion's usage
        llm.eval(llm.tokenize(a.prompt.encode()))  # count is not the number of decoded tokens here)
        start = time.perf_counter()
        for _ in range(a.tokens):
            llm.eval([int(np.argmax(llm.scores[llm.n_tokens - 1]))])
        rate = a.tokens / (time.perf_counter() - start)
        print(f"first token after {1000 * ttft:.1f} ms; {rate:.1f} tokens/s ({a.tokens} greedy steps)")

if __name__ == "__main__":
    main()
