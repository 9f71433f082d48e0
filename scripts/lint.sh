#!/usr/bin/env bash
# lint.sh: formatting and lint gates, run by scripts/test.sh. Swift: `swift format lint --strict` (the
# formatter ships with the Swift toolchain; rules in .swift-format) over the package; Lua: luacheck
# (Debian lua-check; rules in .luacheckrc) over stdlib-lua, recipes, examples and the specs.
# `scripts/lint.sh --fix` rewrites the Swift sources in place with `swift format -i` first.
# Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT_PATHS=(Package.swift Sources Tests)
LUA_PATHS=(stdlib-lua recipes examples Tests/lua)

if [[ "${1:-}" == "--fix" ]]; then
    swift format format --in-place --recursive "${SWIFT_PATHS[@]}"
fi
swift format lint --strict --recursive "${SWIFT_PATHS[@]}"
luacheck --no-color --quiet "${LUA_PATHS[@]}"
echo "lint: swift format and luacheck clean"
