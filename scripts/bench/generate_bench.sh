#!/usr/bin/env bash
# generate_bench.sh: `llmscript generate` on one thread — start-up time, tokens/s and peak RSS (--stats),
# for a checkpoint (default: a 4.9M-parameter byte-level GPT written by make_serve_model.lua) in float32
# and with each quantized format. BIN: the binary (default .build/release/llmscript).
# Usage: scripts/bench/generate_bench.sh [CHECKPOINT] [TOKENS]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.build/release/llmscript}
CK=${1:-}
TOKENS=${2:-200}
if [ -z "$CK" ]; then
  CK=$(mktemp -d)/bench-model
  trap 'rm -rf "$(dirname "$CK")"' EXIT
  "$BIN" scripts/bench/make_serve_model.lua --out="$CK" --dim=256 --layers=6 --heads=8 --blockSize=256 >/dev/null
fi
for q in none q8_0 q4_0; do
  extra=()
  [ "$q" != none ] && extra=(--quantize "$q")
  for _ in 1 2 3; do
    printf '%-5s ' "$q"
    OPENBLAS_NUM_THREADS=1 "$BIN" generate "$CK" --prompt 'Once upon a time' --max-tokens "$TOKENS" --temperature 0 --threads 1 --stats "${extra[@]}" 2>&1 >/dev/null | tail -1
  done
done
