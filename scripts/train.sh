#!/usr/bin/env bash
# train.sh: the main job. Runs setup (packages + release build), then trains the default recipe,
# recipes/gpt-char.lua (a character-level GPT on the fortunes corpus), with the release llmscript.
# Arguments are passed to the recipe (--steps=3000 ...); a first argument ending in .lua runs that
# script instead: scripts/train.sh recipes/lua-model.lua --steps=200
# Usage: scripts/train.sh [recipe.lua] [--key=value ...]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

read -r -a SPM <<< "${SWIFTPM_ARGS:-}"
BIN="$(swift build -c release "${SPM[@]}" --show-bin-path)/llmscript"
case "${1:-}" in
  *.lua) exec "$BIN" "$@" ;;
  *) exec "$BIN" recipes/gpt-char.lua "$@" ;;
esac
