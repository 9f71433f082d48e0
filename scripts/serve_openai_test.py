#!/usr/bin/env python3
"""serve_openai_test.py: `llmscript serve` against the real `openai` Python client (not in CI; run by
scripts/serve_openai_test.sh, which makes the model and a venv outside the repository).

Starts the server on a free loopback port and checks: completion, chat, streaming (with usage), logprobs
(echo + max_tokens 0 prompt scoring, chat top_logprobs, streamed chat logprobs), auth
(401 -> AuthenticationError), errors (400/404/413), concurrent streams (each equal to its single-stream
greedy text), a queue-full 429 (RateLimitError) on a second server with one slot, and a bounded load test
mixing valid and malformed requests: zero 5xx, the server alive, RSS after warm-up flat within a bound.
Usage: serve_openai_test.py LLMSCRIPT_BIN CHECKPOINT [--requests N] [--rss-bound-mib M]
Prints one summary line per check and a JSON summary last; exit status 1 on any failure."""
import argparse, json, os, re, socket, subprocess, sys, threading, time
import concurrent.futures as cf

import http.client

import openai

KEY = "sk-openai-test"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(binary, checkpoint, *extra):
    port = free_port()
    p = subprocess.Popen([binary, "serve", checkpoint, "--port", str(port), "--api-key", KEY, *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline()
    if "listening on" not in line:
        raise SystemExit("server did not start: " + line + p.stdout.read())
    threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()  # drain the log
    return p, port


class Raw:
    """Plain HTTP requests (malformed bodies the openai client would not send); .post/.get return (status, text)."""

    def __init__(self, port):
        self.port = port

    def call(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        h = {"Content-Type": "application/json", **(headers or {})}
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        c.request(method, path, body, h)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        c.close()
        return r.status, text


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("checkpoint")
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--rss-bound-mib", type=float, default=24.0)
    a = ap.parse_args()
    model = os.path.basename(a.checkpoint.rstrip("/"))
    results, failures = {}, []

    def check(name, cond, detail=""):
        print(("PASS " if cond else "FAIL ") + name + (f"  ({detail})" if detail else ""), flush=True)
        results[name] = bool(cond)
        if not cond:
            failures.append(name)

    server, port = start(a.binary, a.checkpoint, "--max-concurrency", "16", "--max-queue", "256", "--max-body", "65536")
    base = f"http://127.0.0.1:{port}/v1"
    client = openai.OpenAI(base_url=base, api_key=KEY, max_retries=0, timeout=120)
    try:
        r = client.completions.create(model=model, prompt="Hello", max_tokens=16, temperature=0)
        check("completion", r.object == "text_completion" and r.usage.completion_tokens == 16 and r.choices[0].finish_reason == "length",
              f"usage {r.usage.prompt_tokens}+{r.usage.completion_tokens}")
        greedy = r.choices[0].text

        c = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi there"}], max_tokens=12, temperature=0)
        check("chat", c.object == "chat.completion" and c.choices[0].message.role == "assistant" and c.usage.completion_tokens <= 12)

        parts, usage, done = [], None, False
        for ev in client.completions.create(model=model, prompt="Hello", max_tokens=16, temperature=0, stream=True,
                                            stream_options={"include_usage": True}):
            if ev.choices:
                parts.append(ev.choices[0].text)
            if ev.usage:
                usage = ev.usage
        check("streaming completion (same text as non-streamed, usage)", "".join(parts) == greedy and usage and usage.completion_tokens == 16)

        chunks = list(client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=8, stream=True, seed=1))
        check("streaming chat", chunks[0].choices[0].delta.role == "assistant" and chunks[-1].choices[0].finish_reason in ("length", "stop"))

        e = client.completions.create(model=model, prompt="Hello world", max_tokens=0, echo=True, logprobs=2)
        t = e.choices[0].logprobs
        check("echo + logprobs with max_tokens 0 (prompt scoring)", e.choices[0].text == "Hello world" and len(t.tokens) == 11
              and t.token_logprobs[0] is None and t.top_logprobs[0] is None and all(x <= 0 for x in t.token_logprobs[1:])
              and all(len(d) in (2, 3) and d[tok] == lp for d, tok, lp in zip(t.top_logprobs[1:], t.tokens[1:], t.token_logprobs[1:])))
        msgs = [{"role": "user", "content": "Hi"}]
        cl = client.chat.completions.create(model=model, messages=msgs, max_tokens=6, temperature=0, logprobs=True, top_logprobs=3)
        content = cl.choices[0].logprobs.content
        check("chat logprobs (top_logprobs sorted, greedy token first)", len(content) == cl.usage.completion_tokens and all(
            len(c.top_logprobs) == 3 and c.top_logprobs[0].logprob == c.logprob and c.bytes
            and [x.logprob for x in c.top_logprobs] == sorted((x.logprob for x in c.top_logprobs), reverse=True) for c in content))
        streamed = [c for ch in client.chat.completions.create(model=model, messages=msgs, max_tokens=6, temperature=0, logprobs=True,
                                                               top_logprobs=3, stream=True)
                    if ch.choices and ch.choices[0].logprobs for c in ch.choices[0].logprobs.content]
        check("streaming chat logprobs", [c.token for c in streamed] == [c.token for c in content]
              and all(abs(a.logprob - b.logprob) < 1e-5 for a, b in zip(streamed, content)))

        try:
            openai.OpenAI(base_url=base, api_key="sk-wrong", max_retries=0).models.list()
            check("auth: wrong key is 401", False)
        except openai.AuthenticationError as e:
            check("auth: wrong key is 401", e.status_code == 401 and e.code == "invalid_api_key")
        check("models list", [m.id for m in client.models.list().data] == [model])

        def expect(name, exc, fn, code=None):
            try:
                fn()
                check(name, False, "no error")
            except exc as e:
                check(name, code is None or e.code == code, f"{e.status_code} {e.code}")

        expect("n=2 is 400", openai.BadRequestError, lambda: client.completions.create(model=model, prompt="a", n=2), "unsupported_value")
        expect("top_logprobs 21 is 400", openai.BadRequestError,
               lambda: client.chat.completions.create(model=model, messages=msgs, logprobs=True, top_logprobs=21), "invalid_value")
        expect("completions logprobs 6 is 400", openai.BadRequestError,
               lambda: client.completions.create(model=model, prompt="a", logprobs=6), "invalid_value")
        expect("unknown model is 404", openai.NotFoundError, lambda: client.completions.create(model="gpt-x", prompt="a"), "model_not_found")
        expect("max_tokens over the context is 400", openai.BadRequestError,
               lambda: client.completions.create(model=model, prompt="a", max_tokens=100000), "invalid_value")

        # concurrent streams: each equals the text of the same request alone
        prompts = [f"Request {i}: " for i in range(8)]
        alone = [client.completions.create(model=model, prompt=p, max_tokens=24, temperature=0).choices[0].text for p in prompts]

        def stream_one(p):
            return "".join(ev.choices[0].text for ev in client.completions.create(model=model, prompt=p, max_tokens=24, temperature=0, stream=True))
        with cf.ThreadPoolExecutor(8) as ex:
            together = list(ex.map(stream_one, prompts))
        check("8 concurrent streams equal their single-stream texts", together == alone)

        # bounded load test: valid and malformed requests mixed
        raw = Raw(port)
        statuses = {}
        lock = threading.Lock()

        def one(i):
            kind = i % 8
            try:
                if kind == 0:
                    r = client.completions.create(model=model, prompt=f"load {i}", max_tokens=8 + i % 24, temperature=0.7, seed=i)
                    code = 200 if r.choices else -1
                elif kind == 1:
                    list(client.chat.completions.create(model=model, messages=[{"role": "user", "content": f"m {i}"}], max_tokens=10, stream=True))
                    code = 200
                elif kind == 2:
                    code = raw.call("POST", "/v1/completions", b'{"model": ', {"Authorization": "Bearer " + KEY})[0]
                elif kind == 3:
                    code = raw.call("POST", "/v1/completions", b"x" * 100000, {"Authorization": "Bearer " + KEY})[0]
                elif kind == 4:
                    code = raw.call("POST", "/v1/chat/completions", {"model": model, "messages": [{"role": "x"}]},
                                    {"Authorization": "Bearer " + KEY})[0]
                elif kind == 5:
                    code = raw.call("POST", "/v1/completions", {"model": model, "prompt": "a"})[0]  # no key
                elif kind == 6:
                    s = list(client.completions.create(model=model, prompt=f"s {i}", max_tokens=16, stream=True))
                    code = 200 if s else -1
                else:
                    code = raw.call("POST", "/v1/completions", {"model": model, "prompt": [1, 2, 99999]},
                                    {"Authorization": "Bearer " + KEY})[0]
            except openai.APIStatusError as e:
                code = e.status_code
            except Exception as e:  # connection errors count as failures
                code = "exc:" + type(e).__name__
            with lock:
                statuses[code] = statuses.get(code, 0) + 1

        warm = max(64, a.requests // 6)
        with cf.ThreadPoolExecutor(16) as ex:
            list(ex.map(one, range(warm)))
        rss0 = rss_kib(server.pid)
        samples = []
        t0 = time.time()
        with cf.ThreadPoolExecutor(16) as ex:
            for k, _ in enumerate(ex.map(one, range(warm, warm + a.requests))):
                if k % 50 == 0:
                    samples.append(rss_kib(server.pid))
        seconds = time.time() - t0
        rss1 = rss_kib(server.pid)
        samples.append(rss1)
        bad = {k: v for k, v in statuses.items() if not isinstance(k, int) or k >= 500 or k < 0}
        growth = (max(samples) - rss0) / 1024
        check("load test: zero 5xx and no connection errors", not bad, json.dumps({str(k): v for k, v in sorted(statuses.items(), key=str)}))
        check("server alive after load", server.poll() is None and raw.call("GET", "/health")[0] == 200)
        check(f"RSS flat after warm-up (growth {growth:.1f} MiB <= {a.rss_bound_mib} MiB)", growth <= a.rss_bound_mib,
              f"after warm-up {rss0 / 1024:.1f} MiB, max {max(samples) / 1024:.1f} MiB, end {rss1 / 1024:.1f} MiB")
        metrics = raw.call("GET", "/metrics")[1]
        check("metrics count the load", "llmscript_completion_tokens_total" in metrics)
        results["load"] = {"requests": a.requests + warm, "seconds_measured": round(seconds, 2), "statuses": {str(k): v for k, v in statuses.items()},
                           "rss_after_warmup_mib": round(rss0 / 1024, 1), "rss_max_mib": round(max(samples) / 1024, 1), "rss_end_mib": round(rss1 / 1024, 1),
                           "rss_samples_mib": [round(x / 1024, 1) for x in samples]}
    finally:
        server.terminate()
        server.wait(timeout=60)
    check("SIGTERM: clean exit", server.returncode == 0, f"exit {server.returncode}")

    # queue full: one decoding slot, one queue place, eight clients at once
    small, sport = start(a.binary, a.checkpoint, "--max-concurrency", "1", "--max-queue", "1")
    sclient = openai.OpenAI(base_url=f"http://127.0.0.1:{sport}/v1", api_key=KEY, max_retries=0, timeout=120)
    codes = []

    def slow(i):
        try:
            sclient.completions.create(model=model, prompt=f"q {i}", max_tokens=60)
            codes.append(200)
        except openai.RateLimitError as e:
            codes.append(e.status_code)
    with cf.ThreadPoolExecutor(8) as ex:
        list(ex.map(slow, range(8)))
    small.terminate()
    small.wait(timeout=60)
    check("queue full is 429 (RateLimitError)", 429 in codes and 200 in codes, f"{sorted(codes)}")

    print(json.dumps({"passed": not failures, "failures": failures, "results": results}, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
