# scripts/bench/summarize.py: turns the JSON lines of gpt_step.lua / gpt_step.py (raw.jsonl) into the
# Markdown table of BENCHMARKS.md: medians over all rounds per config and implementation, ratios.
# Usage: python summarize.py raw.jsonl [lua-share-string]
import json, statistics, sys
from collections import defaultdict

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
lua_share = sys.argv[2] if len(sys.argv) > 2 else "n/a"
by = defaultdict(list)
for r in rows:
    by[(r["config"], r["impl"])].append(r)


def med(rs, key):
    vals = [v for r in rs for v in (r["stepTimes"] if key == "stepTimes" else [r[key]])]
    return statistics.median(vals)


print("| config | impl | ms/step (median) | tokens/s | ratio (tok/s vs PyTorch) | GFLOP/s | share of sgemm probe | fwd / bwd / opt ms | peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|---|")
for cfg in ["tiny", "char", "gpt2"]:
    if (cfg, "pytorch") not in by or (cfg, "llmscript") not in by:
        continue
    pt_ms = med(by[(cfg, "pytorch")], "stepTimes") * 1000
    for impl in ["llmscript", "pytorch"]:
        rs = by[(cfg, impl)]
        ms = med(rs, "stepTimes") * 1000
        scale = rs[0]["msPerStep"] / ms  # tokens/s and GFLOP/s rescaled to the pooled median
        tok = rs[0]["tokensPerSec"] * scale
        gf = rs[0]["gflops"] * scale
        probe = statistics.median([r["sgemmGflops"] for r in by[(cfg, "llmscript")] + by[(cfg, "pytorch")]])
        ratio = pt_ms / ms
        print(f"| {cfg} | {impl} | {ms:.0f} | {tok:,.0f} | {ratio:.2f}× | {gf:.0f} | {100 * gf / probe:.0f}% of {probe:.0f} | "
              f"{med(rs, 'forwardMs'):.0f} / {med(rs, 'backwardMs'):.0f} / {med(rs, 'optimizerMs'):.0f} | "
              f"{max(r['peakRSSMiB'] for r in rs):.0f} |")
floors = [(cfg, statistics.median([r["projectionFloorMs"] for r in by[(cfg, "llmscript")]]),
           med(by[(cfg, "pytorch")], "stepTimes") * 1000, med(by[(cfg, "llmscript")], "stepTimes") * 1000)
          for cfg in ["tiny", "char", "gpt2"]
          if (cfg, "pytorch") in by and (cfg, "llmscript") in by and "projectionFloorMs" in by[(cfg, "llmscript")][0]]
if floors:
    print()
    print("| config | projection-GEMM floor ms (isolated Linear GEMMs of one step, same BLAS) | llmscript ms/step | "
          "PyTorch ms/step | ratio if a step cost only that floor |")
    print("|---|---|---|---|---|")
    for cfg, floor, pt, ours in floors:
        print(f"| {cfg} | {floor:.0f} | {ours:.0f} | {pt:.0f} | {pt / floor:.2f}× |")
if ("gen", "llmscript") in by and ("gen", "pytorch") in by:
    a = statistics.median([r["genTokensPerSec"] for r in by[("gen", "llmscript")]])
    b = statistics.median([r["genTokensPerSec"] for r in by[("gen", "pytorch")]])
    ra = max(r["peakRSSMiB"] for r in by[("gen", "llmscript")])
    rb = max(r["peakRSSMiB"] for r in by[("gen", "pytorch")])
    print()
    print("| generation (char model, batch 1, 64-token prompt + 256 greedy tokens, KV cache) | tokens/s | ratio | peak RSS MiB |")
    print("|---|---|---|---|")
    print(f"| llmscript | {a:.0f} | {a / b:.2f}× | {ra:.0f} |")
    print(f"| pytorch | {b:.0f} | 1.00× | {rb:.0f} |")
print()
print(f"Lua-layer share of CPU samples on tiny (perf: Lua VM + bridge + Lua GC): {lua_share}")
# what ran, from every result line: CPU model, SIMD level, kernel version, BLAS core and GEMM route per implementation
for impl in ["llmscript", "pytorch"]:
    ids = sorted({(r.get("cpu", "?"), r.get("simd", "?"), r.get("kernels", "-"), r.get("blasCore", "?"), r.get("gemm", "-"))
                  for r in rows if r["impl"] == impl})
    for cpu, simd, kernels, core, gemm in ids:
        print(f"{impl}: CPU {cpu}, SIMD {simd}, kernels {kernels}, BLAS core {core}, GEMM {gemm}")
