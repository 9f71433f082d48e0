#!/usr/bin/env bash
# run-example.sh: the main job. Runs setup (packages + release build), then runs a Lua script with the
# release llmscript: examples/hello.lua by default, or the script and arguments given.
# Usage: scripts/run-example.sh [script.lua [args...]]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

read -r -a SPM <<< "${SWIFTPM_ARGS:-}"
BIN="$(swift build -c release "${SPM[@]}" --show-bin-path)/llmscript"
if [ $# -eq 0 ]; then set -- examples/hello.lua; fi
exec "$BIN" "$@"
