#!/usr/bin/env bash
# scripts/bench/tune_vs_optuna.sh: the tuning samplers against Optuna (issue 17; a script, not CI).
# For Branin (2-D), Hartmann-6 and a noisy 4-D sphere (sd 0.5), runs tune.sampler.tpe / gp through
# scripts/bench/tune_vs_optuna.lua and Optuna's TPESampler / GPSampler (defaults, same seeds) through
# tune_vs_optuna.py, one JSON line per (function, sampler, seed) into $OUT_DIR/{llms,optuna}_SAMPLER_FUNC.jsonl,
# then prints the Markdown table of tune_summarize.py: median simple regret after 20/50/100 trials for both and
# their ratio, and the sampler overhead per trial (CPU ms).
# Usage: scripts/bench/tune_vs_optuna.sh [--seeds=20] [--gp-seeds=10] [--trials=100] [--samplers="tpe gp random"] [--no-build]
# Env: LLMS_BIN (prebuilt release binary), OPTUNA_VENV (default /tmp/torchvenv: optuna and scipy are installed
# there from PyPI next to torch, which GPSampler needs), OUT_DIR (default /tmp/tunebench).
set -euo pipefail
cd "$(dirname "$0")/../.."

SEEDS=20; GP_SEEDS=10; TRIALS=100; SAMPLERS="tpe gp"; BUILD=1
for a in "$@"; do
  case "$a" in
    --seeds=*) SEEDS="${a#*=}" ;;
    --gp-seeds=*) GP_SEEDS="${a#*=}" ;;
    --trials=*) TRIALS="${a#*=}" ;;
    --samplers=*) SAMPLERS="${a#*=}" ;;
    --no-build) BUILD=0 ;;
    *) echo "unknown option $a (choices: --seeds=N --gp-seeds=N --trials=N --samplers=LIST --no-build)" >&2; exit 2 ;;
  esac
done
SCRATCH="${BENCH_SCRATCH:-.build-bench}"
OUT_DIR="${OUT_DIR:-/tmp/tunebench}"
mkdir -p "$OUT_DIR"
if [ -n "${LLMS_BIN:-}" ]; then LLMS="$LLMS_BIN"
else
  if [ "$BUILD" = 1 ]; then swift build -c release --product llmscript --scratch-path "$SCRATCH" >&2; fi
  LLMS="$SCRATCH/release/llmscript"
fi
PY=$(PEER_VENV="${OPTUNA_VENV:-/tmp/torchvenv}" scripts/reference/venv.sh optuna scipy)
source scripts/bench/common.sh
bench_identity "$LLMS" >&2

for f in branin hartmann6 noisy; do
  for s in $SAMPLERS; do
    n=$SEEDS; [ "$s" = gp ] && n=$GP_SEEDS
    echo "== $f $s: $n seeds x $TRIALS trials" >&2
    "$LLMS" scripts/bench/tune_vs_optuna.lua "$s" "$f" "$n" "$TRIALS" > "$OUT_DIR/llms_${s}_$f.jsonl"
    "$PY" scripts/bench/tune_vs_optuna.py --sampler "$s" --func "$f" --seeds "$n" --trials "$TRIALS" \
      > "$OUT_DIR/optuna_${s}_$f.jsonl" 2>/dev/null
  done
done
"$PY" -c 'import optuna; print("optuna", optuna.__version__)' >&2
"$PY" scripts/bench/tune_summarize.py "$OUT_DIR"
