# scripts/bench/gpt_step.py: the PyTorch peer of gpt_step.lua — the same GPT (tied embeddings, pre-LN,
# GELU-tanh, learned positions, GPT-2 init, nanoGPT AdamW groups) timed over full training steps on
# 2 threads, a 1024³ sgemm probe, and KV-cache generation; prints one JSON line with the same keys.
# Usage: python gpt_step.py --config tiny|char|gpt2|gen --steps N --warmup W [--threads 2]
import argparse, json, math, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

CFGS = {
    "tiny": dict(vocab=512, block=128, layers=4, heads=4, dim=128, batch=32, seq=128),
    "char": dict(vocab=65, block=256, layers=6, heads=6, dim=384, batch=16, seq=256),
    "gpt2": dict(vocab=50257, block=1024, layers=12, heads=12, dim=768, batch=1, seq=256),
    "gen": dict(vocab=65, block=320, layers=6, heads=6, dim=384, batch=1, seq=64),
}


class Attn(nn.Module):
    def __init__(self, c, h):
        super().__init__()
        self.h = h
        self.qkv = nn.Linear(c, 3 * c)
        self.proj = nn.Linear(c, c)

    def forward(self, x, cache=None):
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.h, c // self.h).transpose(1, 2) for z in (q, k, v))
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], 2)
                v = torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        if k.shape[2] == t:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # decoding: the new queries see every cached key (t == 1 here)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=False)
        return self.proj(y.transpose(1, 2).reshape(b, t, c))


class Block(nn.Module):
    def __init__(self, c, h):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(c), Attn(c, h), nn.LayerNorm(c)
        self.fc, self.proj = nn.Linear(c, 4 * c), nn.Linear(4 * c, c)

    def forward(self, x, cache=None):
        x = x + self.attn(self.ln1(x), cache)
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab, block, layers, heads, dim):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, dim), nn.Embedding(block, dim)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(layers)])
        self.lnf = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif "ln" in name:
                nn.init.ones_(p)
            elif name.endswith("attn.proj.weight") or name.endswith(".proj.weight"):
                nn.init.normal_(p, 0, 0.02 / math.sqrt(2 * layers))
            else:
                nn.init.normal_(p, 0, 0.02)
        self.head.weight = self.tok.weight  # tied

    def forward(self, idx, targets=None, caches=None, start=0):
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(start, start + t))
        for i, blk in enumerate(self.blocks):
            x = blk(x, None if caches is None else caches[i])
        logits = self.head(self.lnf(x))
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return -1


def cpu_model():
    """The CPU's model name as Linux reports it (recorded in every result)."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "unknown")
    except OSError:
        return "unknown"


def sgemm_probe():
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    a @ b
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * 1024**3 / best / 1e9


def step_flops(c):
    B, T, C, L, V = c["batch"], c["seq"], c["dim"], c["layers"], c["vocab"]
    per_layer = 2 * B * T * C * (3 * C + C + 4 * C + 4 * C) + 2 * 2 * B * T * T * C
    return 3 * (L * per_layer + 2 * B * T * C * V)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1337)
    c = CFGS[a.config]
    model = GPT(c["vocab"], c["block"], c["layers"], c["heads"], c["dim"])
    res = dict(impl="pytorch", config=a.config, threads=torch.get_num_threads(), torch=torch.__version__,
               params=sum(p.numel() for p in model.parameters()), cpu=cpu_model(),
               simd=torch.backends.cpu.get_cpu_capability().lower(), blasCore="mkl" if torch.backends.mkl.is_available() else "torch")
    if a.config == "gen":
        model.eval()
        prompt = torch.randint(0, c["vocab"], (1, 64))

        @torch.no_grad()
        def generate(n):
            caches = [dict() for _ in model.blocks]
            logits, _ = model(prompt, caches=caches)
            ids, pos = prompt, prompt.shape[1]
            for _ in range(n):
                nxt = logits[:, -1].argmax(-1, keepdim=True)
                ids = torch.cat([ids, nxt], 1)
                logits, _ = model(nxt, caches=caches, start=pos)
                pos += 1
            return ids

        generate(8)
        times = []
        for _ in range(max(1, a.steps)):
            t0 = time.perf_counter()
            out = generate(256)
            times.append(time.perf_counter() - t0)
            assert out.shape[1] == 320
        res["genSeconds"] = statistics.median(times)
        res["genTokensPerSec"] = 256 / res["genSeconds"]
        res["peakRSSMiB"] = peak_rss_mib()
        print(json.dumps(res))
        return
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.99))
    x = torch.randint(0, c["vocab"], (c["batch"], c["seq"]))
    y = torch.randint(0, c["vocab"], (c["batch"], c["seq"]))
    fwd, bwd, upd, tot = [], [], [], []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        _, loss = model(x, y)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if i >= a.warmup:
            fwd.append(t1 - t0); bwd.append(t2 - t1); upd.append(t3 - t2); tot.append(t3 - t0)
        res["loss"] = loss.item()
    ms = statistics.median(tot) * 1000
    res.update(msPerStep=ms, forwardMs=statistics.median(fwd) * 1000, backwardMs=statistics.median(bwd) * 1000,
               optimizerMs=statistics.median(upd) * 1000, tokensPerSec=c["batch"] * c["seq"] / (ms / 1000),
               gflops=step_flops(c) / (ms / 1000) / 1e9, peakRSSMiB=peak_rss_mib())
    res["sgemmGflops"] = sgemm_probe()
    res["stepTimes"] = tot
    print(json.dumps(res))


if __name__ == "__main__":
    main()
