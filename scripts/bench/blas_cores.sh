#!/usr/bin/env bash
# scripts/bench/blas_cores.sh: GEMM GFLOP/s per OpenBLAS core on this CPU (issue 12): the core llmscript
# runs with (its automatic choice, read from `llmscript --version`), then forced cores — on an AVX2 CPU the
# older ones emulate the CPUs whose model OpenBLAS does not know (Prescott is 0.3.21's fallback) — and
# oneDNN's plain dnnl_sgemm when libdnnl-dev is installed. Shapes and method: scripts/bench/gemm_probe.c
# (row-major A·Bᵀ, best of 5 batches). ROUNDS alternating rounds; the best of them is printed.
# Usage: scripts/bench/blas_cores.sh [--threads=2] [--rounds=2] [--cores="Haswell Sandybridge Prescott"]
# Env: LLMS_BIN (an llmscript binary; default .build/debug/llmscript, else .build/release/llmscript).
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=2; ROUNDS=2; CORES="Zen Haswell SkylakeX Sandybridge Nehalem Prescott"
for a in "$@"; do
  case "$a" in
    --threads=*) THREADS="${a#*=}" ;;
    --rounds=*) ROUNDS="${a#*=}" ;;
    --cores=*) CORES="${a#*=}" ;;
    *) echo "unknown option $a (choices: --threads=N --rounds=N --cores=\"A B\")" >&2; exit 2 ;;
  esac
done
source scripts/bench/common.sh
export OPENBLAS_THREAD_TIMEOUT="${OPENBLAS_THREAD_TIMEOUT:-16}"   # as llmscript runs it: idle BLAS workers stop spinning
LLMS="${LLMS_BIN:-}"
for b in .build/debug/llmscript .build/release/llmscript; do [ -z "$LLMS" ] && [ -x "$b" ] && LLMS="$b"; done   # only its identity is used
WORK="$(mktemp -d /tmp/blas-cores.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cc -O2 -o "$WORK/probe" scripts/bench/gemm_probe.c -lopenblas
DNNL=0
if [ -f /usr/include/dnnl.h ] && cc -O2 -DWITH_DNNL -fopenmp -o "$WORK/probe_dnnl" scripts/bench/gemm_probe.c -lopenblas -ldnnl 2>/dev/null; then DNNL=1; fi

AUTO=$("$LLMS" -e "io.write(llm.system().blasCore)")
# the columns: llmscript's core, then each forced core the CPU can run (SkylakeX/Cooperlake need AVX-512)
SIMD=$("$LLMS" -e "io.write(llm.system().simd)")
cols=("$AUTO")
for c in $CORES; do
  case "$c" in SkylakeX|Cooperlake|SapphireRapids) [ "$SIMD" = avx512 ] || continue ;; esac
  [ "$c" = "$AUTO" ] || cols+=("$c")
done
for r in $(seq "$ROUNDS"); do
  for c in "${cols[@]}"; do
    echo "[round $r] $c" >&2
    OPENBLAS_CORETYPE="$c" OMP_NUM_THREADS="$THREADS" "$WORK/probe" "$THREADS" | tail -n +2 > "$WORK/$c.$r"
  done
  [ "$DNNL" = 1 ] && OMP_NUM_THREADS="$THREADS" "$WORK/probe_dnnl" "$THREADS" | tail -n +2 | cut -d, -f1,3 > "$WORK/oneDNN.$r"
done
[ "$DNNL" = 1 ] && cols+=("oneDNN")

echo "Machine: $(bench_identity "$LLMS"). $THREADS threads, best of $ROUNDS rounds, GFLOP/s of row-major A·Bᵀ (M×N×K)."
echo
header="| shape M×N×K | ${AUTO} (llmscript's choice) |"; sep="|---|---|"
for c in "${cols[@]:1}"; do case "$c" in oneDNN) header+=" oneDNN dnnl_sgemm |" ;; *) header+=" $c (forced) |" ;; esac; sep+="---|"; done
echo "$header"; echo "$sep"
while IFS= read -r shape; do
  row="| $shape |"
  for c in "${cols[@]}"; do
    best=$(cat "$WORK/$c".* | awk -F', ' -v s="$shape" '$1 == s && $2 > b { b = $2 } END { printf "%.0f", b }')
    row+=" $best |"
  done
  echo "$row"
done < <(cut -d, -f1 "$WORK/$AUTO.1")
