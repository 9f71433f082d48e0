#!/usr/bin/env bash
# scripts/reference/venv.sh: the one Python venv of the peers (PyTorch and friends) that every benchmark in
# scripts/bench/ and every fixture generator in scripts/reference/ uses, kept outside the repository
# (default /tmp/torchvenv; PEER_VENV overrides). Creates it when missing and installs, from PyPI, the plain
# `torch` package (no other package index is reachable) and numpy, plus any packages named as arguments
# (e.g. `tokenizers regex`, `safetensors`, `datasketch`) that it lacks. Prints the venv's python path on
# stdout (progress on stderr), so callers write:
#     PY=$(scripts/reference/venv.sh) && "$PY" scripts/reference/make_nn_fixtures.py
# Usage: scripts/reference/venv.sh [package ...]
set -euo pipefail
VENV="${PEER_VENV:-${TORCH_VENV:-/tmp/torchvenv}}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating the peers' venv in $VENV" >&2
  python3 -m venv "$VENV" >&2
fi
PY="$VENV/bin/python"
for pkg in torch numpy "$@"; do
  if ! "$PY" -m pip show --quiet "$pkg" >/dev/null 2>&1; then
    echo "installing $pkg from PyPI into $VENV" >&2
    "$PY" -m pip install --quiet "$pkg" >&2
  fi
done
echo "$PY"
