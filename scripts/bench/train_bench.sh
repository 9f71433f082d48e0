#!/usr/bin/env bash
# scripts/bench/train_bench.sh: side-by-side training-speed benchmark of llmscript against PyTorch CPU
# (issue 6). Builds release, ensures PyTorch in a venv outside the repo, runs gpt_step.lua and
# gpt_step.py alternately (A/B/A/B) per config, prints a Markdown table (also saved under $OUT_DIR) and
# what ran (CPU model, SIMD level, kernel version, BLAS core: recorded in every result line).
# Usage: scripts/bench/train_bench.sh [--gpt2] [--rounds=2] [--steps=5] [--no-build] [--no-perf]
# Env: LLMS_BIN (prebuilt binary), TORCH_VENV (default /tmp/torchvenv), OUT_DIR (default /tmp/llmscript-bench).
set -euo pipefail
cd "$(dirname "$0")/../.."

GPT2=0; ROUNDS=2; STEPS=5; BUILD=1; PERF=1
for a in "$@"; do
  case "$a" in
    --gpt2) GPT2=1 ;;
    --rounds=*) ROUNDS="${a#*=}" ;;
    --steps=*) STEPS="${a#*=}" ;;
    --no-build) BUILD=0 ;;
    --no-perf) PERF=0 ;;
    *) echo "unknown option $a (choices: --gpt2 --rounds=N --steps=N --no-build --no-perf)" >&2; exit 2 ;;
  esac
done
SCRATCH="${BENCH_SCRATCH:-.build-bench}"
VENV="${TORCH_VENV:-/tmp/torchvenv}"
OUT_DIR="${OUT_DIR:-/tmp/llmscript-bench}"
mkdir -p "$OUT_DIR"

if [ -n "${LLMS_BIN:-}" ]; then LLMS="$LLMS_BIN"   # a prebuilt release binary (set LLMSCRIPT_HOME too if it lives elsewhere)
else
  if [ "$BUILD" = 1 ]; then swift build -c release --product llmscript --scratch-path "$SCRATCH" >&2; fi
  LLMS="$SCRATCH/release/llmscript"
fi
PY=$(PEER_VENV="$VENV" scripts/reference/venv.sh)   # the peers' venv, shared by every benchmark and fixture generator
export OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2

configs=(tiny char); [ "$GPT2" = 1 ] && configs+=(gpt2)
RAW="$OUT_DIR/raw.jsonl"; : > "$RAW"
for cfg in "${configs[@]}" gen; do
  steps=$STEPS; warm=2
  [ "$cfg" = gpt2 ] && { steps=$(( STEPS > 3 ? 3 : STEPS )); warm=1; }
  [ "$cfg" = gen ] && { steps=2; warm=0; }
  for r in $(seq "$ROUNDS"); do
    echo "[$cfg round $r] llmscript" >&2
    "$LLMS" scripts/bench/gpt_step.lua --config="$cfg" --steps="$steps" --warmup="$warm" | tail -1 >> "$RAW"
    echo "[$cfg round $r] pytorch" >&2
    "$PY" scripts/bench/gpt_step.py --config "$cfg" --steps "$steps" --warmup "$warm" 2>/dev/null | tail -1 >> "$RAW"
  done
done

# Lua-layer overhead on tiny: share of CPU samples in the Lua VM, the bridge and the Lua GC (perf, timed steps only)
LUASHARE="n/a"
if [ "$PERF" = 1 ] && command -v perf >/dev/null; then
  CTL="$OUT_DIR/perf.ctl"; rm -f "$CTL"; mkfifo "$CTL"   # the script enables sampling for its timed steps only
  PERF_CTL="$CTL" perf record -q -F 999 -g -D -1 --control "fifo:$CTL" -o "$OUT_DIR/perf.data" -- \
    "$LLMS" scripts/bench/gpt_step.lua --config=tiny --steps=20 --warmup=2 --floor=0 >/dev/null 2>&1 || true
  rm -f "$CTL"
  perf report -i "$OUT_DIR/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null > "$OUT_DIR/perf.txt" || true
  LUASHARE=$("$PY" scripts/bench/lua_share.py "$OUT_DIR/perf.txt" 2>/dev/null || echo n/a)
fi

"$PY" scripts/bench/summarize.py "$RAW" "$LUASHARE" | tee "$OUT_DIR/table.md"
