#!/usr/bin/env bash
# test.sh: the whole test suite. Runs setup (packages only), the lint gates (scripts/lint.sh), builds debug, runs the Swift tests
# (`swift test`: engine, Lua bridge, CLI/REPL) and the Lua specs in Tests/lua with busted, using
# llmscript as the Lua interpreter. Exits non-zero when anything fails.
# SWIFTPM_ARGS (optional) is passed to every swift build/test, e.g. "--scratch-path .build-ci".
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --no-build

# formatting and lint first: swift format (toolchain) and luacheck (Debian lua-check); see scripts/lint.sh
scripts/lint.sh

read -r -a SPM <<< "${SWIFTPM_ARGS:-}"
swift build "${SPM[@]}"
swift test "${SPM[@]}"

# busted (Debian lua-busted, Lua 5.4 modules) run by llmscript itself (`llmscript test`: strict globals
# off for busted, the specs see the llm namespace like any script; ends with `N passed, N failed`),
# then the example plugin's specs.
BIN="$(swift build "${SPM[@]}" --show-bin-path)/llmscript"
"$BIN" test Tests/lua
"$BIN" test examples/plugins/medabbrev
