# scripts/bench/common.sh: shared set-up of the benchmark scripts (sourced, not run).
# bench_binary SCRATCH BUILD: builds llmscript release into SCRATCH when BUILD=1; sets LLMS to the binary.
# bench_fortunes REPEAT SEPARATE OUT: the fortunes corpus (/usr/share/games/fortunes, data files skipped)
#   repeated REPEAT times into OUT; with SEPARATE=1 each file ends with a `%` line, so no document spans two.
# bench_identity [BIN]: one line naming what ran, for every result: CPU model, SIMD level, and with an
#   llmscript binary BIN also its kernel version, OpenBLAS core and threads (BIN --version).

bench_binary() {
  if [ "$2" = 1 ]; then swift build -c release --product llmscript --scratch-path "$1" >&2; fi
  LLMS="$1/release/llmscript"
}

bench_fortunes() {
  local _ f
  for _ in $(seq "$1"); do
    for f in /usr/share/games/fortunes/*; do
      case "$f" in *.dat|*.u8) ;; *) [ -f "$f" ] && cat "$f" && { [ "$2" = 1 ] && printf '\n%%\n' || true; } ;; esac
    done
  done > "$3"
}

bench_identity() {
  if [ -n "${1:-}" ] && [ -x "$1" ]; then "$1" --version | tail -n 2 | paste -sd ';' | sed 's/;/; /'; return; fi
  local flags simd=baseline
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  case "$flags" in *" avx2 "*) case "$flags" in *" fma "*) simd=avx2 ;; esac ;; esac
  if [ "$simd" = avx2 ]; then
    case "$flags" in *" avx512f "*" avx512dq "*" avx512bw "*" avx512vl "*) simd=avx512 ;; esac
  fi
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), simd $simd"
}
