#!/usr/bin/env bash
# prune_bench.sh: the numbers of BENCHMARKS.md "Compression: pruning" — the shrink speed-up
# (scripts/bench/prune_shrink.lua, configs char and medium), then recipes/prune.lua (GMP) at its defaults
# for sparsity 0 (dense), 0.5, 0.75 and 0.9, and recipes/distill.lua at its defaults, each in a fresh
# temporary folder. Release build. Usage: [STEPS=N] scripts/bench/prune_bench.sh [OUTDIR]   (logs land in
# OUTDIR; STEPS overrides the recipes' step counts)
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
BIN="${LLMSCRIPT:-$root/.build/release/llmscript}"
steps=()
[ -n "${STEPS:-}" ] && steps=("--steps=$STEPS")
[ -x "$BIN" ] || swift build -c release --product llmscript
for cfg in char medium; do
  "$BIN" scripts/bench/prune_shrink.lua --config="$cfg" --repeats=7 | tee "$out/shrink-$cfg.log"
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for s in 0 0.5 0.75 0.9; do
  (cd "$work" && "$BIN" "$root/recipes/prune.lua" --sparsity="$s" --out="runs/prune-$s" "${steps[@]}") > "$out/prune-$s.log" 2>&1
  grep -E '^(done|sparsity):' "$out/prune-$s.log"
done
(cd "$work" && "$BIN" "$root/recipes/distill.lua" "${steps[@]}") > "$out/distill.log" 2>&1
tail -4 "$out/distill.log"
