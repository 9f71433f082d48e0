#!/usr/bin/env bash
# ddp_compare.sh: llmscript data parallel (dp_step.lua) against PyTorch DDP with the gloo backend
# (ddp_step.py), same GPT and global batch, in the issue's two layouts: 2 ranks x 1 thread and
# 1 process x 2 threads. Rounds alternate the four runs so that load drifts hit all alike; prints one
# line per run (median step ms) — compare medians across rounds.
# Usage: scripts/bench/ddp_compare.sh [config: tinydp|char] [rounds] [steps]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cfg="${1:-tinydp}" rounds="${2:-3}" steps="${3:-20}"
bin="${LLMS_BIN:-$root/.build/release/llmscript}"
py="${PEERS_PY:-/tmp/torchvenv/bin/python}"
M="mpirun -np 2 --oversubscribe --allow-run-as-root --mca btl self,vader --mca mpi_yield_when_idle 1 --bind-to none"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 LLMS_DP_STEPS=$((steps + 3))
for r in $(seq "$rounds"); do
  echo "round $r"
  "$bin" "$root/scripts/bench/dp_step.lua" 2 single "$cfg"
  $M -x OPENBLAS_NUM_THREADS=1 -x LLMS_DP_STEPS "$bin" "$root/scripts/bench/dp_step.lua" 1 dp "$cfg"
  "$py" "$root/scripts/bench/ddp_step.py" --config "$cfg" --layout 1x2 --steps "$steps"
  "$py" "$root/scripts/bench/ddp_step.py" --config "$cfg" --layout 2x1 --steps "$steps"
done
