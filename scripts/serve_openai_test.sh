#!/usr/bin/env bash
# serve_openai_test.sh: runs scripts/serve_openai_test.py (the real `openai` client against `llmscript
# serve`) with a venv outside the repository (VENV, default /tmp/openaivenv; made and `pip install openai`
# when missing) and a byte-level GPT written by scripts/bench/make_serve_model.lua.
# Usage: scripts/serve_openai_test.sh [--requests N] [--rss-bound-mib M]   (BIN: the llmscript binary;
# default .build/release/llmscript, else .build/debug/llmscript)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-/tmp/openaivenv}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import openai' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q openai
fi
BIN=${BIN:-$( [ -x .build/release/llmscript ] && echo .build/release/llmscript || echo .build/debug/llmscript )}
MODEL=$(mktemp -d)/serve-test
trap 'rm -rf "$(dirname "$MODEL")"' EXIT
"$BIN" scripts/bench/make_serve_model.lua --out="$MODEL" --dim=64 --layers=2 --heads=4 --blockSize=128
"$VENV/bin/python" scripts/serve_openai_test.py "$BIN" "$MODEL" "$@"
