# scripts/bench/ddp_step.py: the PyTorch peer of dp_step.lua — PyTorch DDP (gloo backend, CPU) on the same
# GPT (gpt_step.py's model) and the same global batch, in the two layouts of the issue:
#   1 process x 2 threads:   python ddp_step.py --config tinydp --layout 1x2
#   2 ranks x 1 thread:      python ddp_step.py --config tinydp --layout 2x1   (spawns 2 processes, DDP)
# Prints one JSON line: the median step time (ms) over the timed steps after the warm-up steps, on rank 0.
import argparse, json, os, statistics, sys, time
import torch
import torch.distributed as tdist
import torch.multiprocessing as mp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt_step import GPT  # noqa: E402

CFGS = {
    # dp_step.lua's configs: the tiny one of the first DP measurement and the char recipe's model
    "tinydp": dict(vocab=29, block=64, layers=2, heads=4, dim=128, batch=16, seq=64),
    "char": dict(vocab=65, block=256, layers=6, heads=6, dim=384, batch=16, seq=256),
}


def run(rank, world, cfg, steps, warmup, port, out):
    torch.set_num_threads(1 if world > 1 else 2)
    torch.manual_seed(1)
    model = GPT(cfg["vocab"], cfg["block"], cfg["layers"], cfg["heads"], cfg["dim"])
    if world > 1:
        os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
        tdist.init_process_group("gloo", rank=rank, world_size=world)
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(3)
    b = cfg["batch"] // world
    times = []
    for step in range(steps + warmup):
        x = torch.randint(0, cfg["vocab"], (cfg["batch"], cfg["seq"]), generator=g)[rank * b:(rank + 1) * b]
        y = torch.roll(x, -1, 1)
        t0 = time.perf_counter()
        _, loss = model(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step >= warmup:
            times.append(time.perf_counter() - t0)
    if rank == 0:
        out.put(statistics.median(times) * 1e3)
    if world > 1:
        tdist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="tinydp", choices=sorted(CFGS))
    ap.add_argument("--layout", default="2x1", choices=["1x2", "2x1"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--port", type=int, default=29517)
    a = ap.parse_args()
    cfg = CFGS[a.config]
    world = 2 if a.layout == "2x1" else 1
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=run, args=(r, world, cfg, a.steps, a.warmup, a.port, q)) for r in range(world)]
    for p in procs:
        p.start()
    ms = q.get()
    for p in procs:
        p.join()
    print(json.dumps({"peer": "pytorch-ddp-gloo" if world > 1 else "pytorch", "config": a.config, "layout": a.layout,
                      "median_step_ms": round(ms, 2), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
