#!/usr/bin/env bash
# sha256_bench.sh: times SHA256 (Sources/LLMFormats/SHA256.swift, compiled alone with swiftc -O, no full
# release build) over an in-memory buffer of SIZE MiB, best of REPEAT, next to `openssl dgst -sha256`
# and `sha256sum` on the same bytes as a file. --rev=REV benchmarks SHA256.swift as of git revision REV
# (e.g. the pure-Swift version before libcrypto) instead of the working tree.
# Usage: scripts/bench/sha256_bench.sh [--size=256] [--repeat=3] [--rev=REV]
set -euo pipefail
cd "$(dirname "$0")/../.."
size=256; repeat=3; rev=""
for a in "$@"; do
  case "$a" in
    --size=*) size="${a#*=}" ;;
    --repeat=*) repeat="${a#*=}" ;;
    --rev=*) rev="${a#*=}" ;;
    *) echo "sha256_bench.sh: unknown option '$a'" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d /tmp/sha256-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ -n "$rev" ]; then git show "$rev:Sources/LLMFormats/SHA256.swift" > "$work/SHA256.swift"; else cp Sources/LLMFormats/SHA256.swift "$work/"; fi
cat > "$work/main.swift" <<'SWIFT'
#if canImport(Glibc)
import Glibc
#endif
let mib = Int(CommandLine.arguments[1])!, repeats = Int(CommandLine.arguments[2])!
var bytes = [UInt8](repeating: 0, count: mib << 20)
var x: UInt64 = 0x9E3779B97F4A7C15
for i in 0..<bytes.count { x ^= x << 13; x ^= x >> 7; x ^= x << 17; bytes[i] = UInt8(truncatingIfNeeded: x) }
let f = fopen(CommandLine.arguments[3], "wb")!; _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }; fclose(f)
func now() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9 }
var best = Double.infinity, digest = ""
for _ in 0..<repeats {
    let t0 = now(); digest = bytes.withUnsafeBytes { SHA256.hex($0) }; best = min(best, now() - t0)
}
print("SHA256.hex \(best) s \(Double(bytes.count) / best / 1e6) MB/s \(digest)")
SWIFT
swiftc -O -I Sources/COpenSSL -o "$work/bench" "$work/SHA256.swift" Sources/LLMFormats/FormatError.swift \
  Sources/LLMFormats/FileIO.swift "$work/main.swift" 2>&1 | grep -v warning || true
"$work/bench" "$size" "$repeat" "$work/blob.bin" | awk '{ printf "%-15s %7.3f s  %7.1f MB/s  %s\n", $1, $2, $4, $6 }'
best_of() {  # best wall time of REPEAT runs of "$@" (output discarded)
  local best="" t0 t1 d
  for _ in $(seq "$repeat"); do
    t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N)
    d=$(echo "$t1 - $t0" | bc); if [ -z "$best" ] || [ "$(echo "$d < $best" | bc)" = 1 ]; then best=$d; fi
  done
  printf '%-15s %7.3f s  %7.1f MB/s\n' "$1" "$best" "$(echo "$size * 1048576 / $best / 1000000" | bc -l)"
}
best_of openssl dgst -sha256 "$work/blob.bin"
best_of sha256sum "$work/blob.bin"
openssl dgst -sha256 "$work/blob.bin" | sed 's/.*= /openssl digest: /'
source scripts/bench/common.sh
echo "machine: $(bench_identity)"
