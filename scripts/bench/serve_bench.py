#!/usr/bin/env python3
"""serve_bench.py: `llmscript serve` throughput (Python standard library only).

For each server setting (batched: --max-concurrency 16; serial: --max-concurrency 1, so requests wait in
the queue and decode one after another) it measures, with streamed /v1/completions of TOKENS tokens each
(temperature 0; the byte-level model has no end-of-text token, so every request makes TOKENS tokens):
  single stream: time to first token (TTFT) and decode tokens/s;
  aggregate tokens/s at 1, 4 and 16 concurrent streams (all tokens / wall time).
Usage: serve_bench.py LLMSCRIPT_BIN CHECKPOINT [--tokens 64] [--threads 1] [--repeat 3]
Prints a Markdown table (for BENCHMARKS.md) and the raw numbers as JSON."""
import argparse, http.client, json, os, socket, subprocess, sys, threading, time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(binary, checkpoint, concurrency, threads):
    port = free_port()
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
    p = subprocess.Popen([binary, "serve", checkpoint, "--port", str(port), "--max-concurrency", str(concurrency), "--max-queue", "256",
                          "--threads", str(threads)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    line = p.stdout.readline()
    if "listening on" not in line:
        raise SystemExit(line + p.stdout.read())
    threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
    return p, port


def stream(port, model, prompt, tokens):
    """One streamed completion: (seconds to the first text, seconds to the end, events with text)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = json.dumps({"model": model, "prompt": prompt, "max_tokens": tokens, "temperature": 0, "stream": True})
    t0 = time.perf_counter()
    c.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    first, n, buf = None, 0, b""
    while True:
        chunk = r.read1(65536)
        if not chunk:
            break
        buf += chunk
        while b"\n\n" in buf:
            ev, buf = buf.split(b"\n\n", 1)
            data = ev[len(b"data: "):]
            if data == b"[DONE]":
                continue
            if json.loads(data)["choices"][0]["text"]:
                n += 1
                if first is None:
                    first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    c.close()
    return first, total, n


def aggregate(port, model, concurrency, tokens):
    out = [None] * concurrency

    def run(i):
        out[i] = stream(port, model, f"Stream {i} says: ", tokens)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return concurrency * tokens / wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("checkpoint")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    model = os.path.basename(a.checkpoint.rstrip("/"))
    raw = {}
    for name, conc in (("batched", 16), ("serial", 1)):
        p, port = start(a.binary, a.checkpoint, conc, a.threads)
        try:
            stream(port, model, "warm up", 8)
            singles = [stream(port, model, "Hello, ", a.tokens) for _ in range(a.repeat)]
            best = min(singles, key=lambda s: s[1])
            raw[name] = {"ttft_ms": round(1000 * min(s[0] for s in singles), 1),
                         "single_tokens_per_s": round((a.tokens - 1) / (best[1] - best[0]), 1)}
            for c in (1, 4, 16):
                raw[name][f"aggregate_{c}"] = round(max(aggregate(port, model, c, a.tokens) for _ in range(a.repeat)), 1)
        finally:
            p.terminate()
            p.wait(timeout=60)
    b, s = raw["batched"], raw["serial"]
    print(f"| setting | TTFT (ms) | single-stream tokens/s | aggregate tokens/s, 1 stream | 4 streams | 16 streams |")
    print(f"|---|---|---|---|---|---|")
    for name, r in (("batched (--max-concurrency 16)", b), ("serial (--max-concurrency 1)", s)):
        print(f"| {name} | {r['ttft_ms']} | {r['single_tokens_per_s']} | {r['aggregate_1']} | {r['aggregate_4']} | {r['aggregate_16']} |")
    print(json.dumps({"tokens": a.tokens, "threads": a.threads, **raw}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
