#!/usr/bin/env bash
# gen-api-docs.sh: regenerates the "Lua API" section of README.md from the binding tables. Runs
# llmscript -e with llm.help's markdown() (signature — doc of every bound function, by namespace)
# and replaces the text between <!-- API:BEGIN --> and <!-- API:END -->. Builds debug if needed.
# Usage: scripts/gen-api-docs.sh [README.md]
set -euo pipefail
cd "$(dirname "$0")/.."
readme="${1:-README.md}"

BIN="${LLMSCRIPT:-$(swift build --show-bin-path)/llmscript}"
[ -x "$BIN" ] || swift build --product llmscript

grep -q '^<!-- API:BEGIN -->$' "$readme" && grep -q '^<!-- API:END -->$' "$readme" || {
  echo "gen-api-docs.sh: $readme has no <!-- API:BEGIN --> / <!-- API:END --> lines" >&2; exit 1; }

api="$(mktemp)"; out="$(mktemp)"
trap 'rm -f "$api" "$out"' EXIT
"$BIN" -e "io.write(require('llm.help').markdown())" > "$api"

awk -v api="$api" '
  /^<!-- API:BEGIN -->$/ { print; print ""; while ((getline line < api) > 0) print line; print ""; skip = 1; next }
  /^<!-- API:END -->$/   { skip = 0 }
  !skip { print }
' "$readme" > "$out"
cat "$out" > "$readme"
echo "gen-api-docs.sh: $(grep -c '^- `' "$api") functions written to $readme"
