# scripts/bench/common.sh: shared set-up of the benchmark scripts (sourced, not run).
# bench_binary SCRATCH BUILD: builds llmscript release into SCRATCH when BUILD=1; sets LLMS to the binary.
# bench_fortunes REPEAT SEPARATE OUT: the fortunes corpus (/usr/share/games/fortunes, data files skipped)
#   repeated REPEAT times into OUT; with SEPARATE=1 each file ends with a `%` line, so no document spans two.

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
