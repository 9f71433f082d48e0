#!/usr/bin/env bash
# install.sh: puts llmscript on PATH so that `llmscript recipe.lua` works from any folder. Installs
#   PREFIX/bin/llmscript                     the release binary (built by scripts/setup.sh)
#   PREFIX/share/llmscript/stdlib-lua/       the Lua standard library (llm/*.lua), where the binary looks
#                                            for it (next to ../share/llmscript; LLMSCRIPT_HOME overrides)
#   PREFIX/share/llmscript/recipes/          the shipped recipes, to copy and edit
# Idempotent: running it again replaces the files (the binary through a rename, so a running llmscript
# is not disturbed) and drops library files that no longer exist. --uninstall removes exactly what an
# install wrote (it refuses a folder without the install's manifest). Writing to /usr/local needs root:
# run it with sudo, or choose a prefix of your own (--prefix ~/.local, with ~/.local/bin on PATH).
# Usage: scripts/install.sh [--prefix DIR] [--binary PATH] [--uninstall]
#   --prefix DIR   install under DIR (default /usr/local)
#   --binary PATH  the llmscript binary to install (default: the release build, brought up to date
#                  first; under sudo, .build/release/llmscript as it is)
#   --uninstall    remove an installation from the prefix
set -euo pipefail
start=$PWD
cd "$(dirname "$0")/.."

prefix=/usr/local
binary=
uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }; prefix=$2; shift ;;
    --prefix=*) prefix=${1#--prefix=} ;;
    --binary) [ $# -ge 2 ] || { echo "install.sh: --binary needs a path" >&2; exit 2; }; binary=$2; shift ;;
    --binary=*) binary=${1#--binary=} ;;
    --uninstall) uninstall=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (scripts/install.sh --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$prefix" ] || { echo "install.sh: --prefix is empty" >&2; exit 2; }
case "$prefix" in /*) ;; *) prefix="$start/$prefix" ;; esac   # relative to where install.sh was run
prefix=${prefix%/}
[ -n "$binary" ] && case "$binary" in /*) ;; *) binary="$start/$binary" ;; esac

share="$prefix/share/llmscript"
manifest="$share/MANIFEST"

if [ "$uninstall" -eq 1 ]; then
  if [ ! -f "$manifest" ]; then
    if [ -e "$prefix/bin/llmscript" ] || [ -e "$share" ]; then
      echo "install.sh: $share/MANIFEST is missing: not an llmscript installation, nothing removed" >&2
      exit 1
    fi
    echo "install.sh: llmscript is not installed under $prefix"
    exit 0
  fi
  rm -f "$prefix/bin/llmscript"
  rm -rf "$share"
  rmdir "$prefix/bin" "$prefix/share" 2>/dev/null || true   # only when left empty
  echo "install.sh: removed llmscript from $prefix"
  exit 0
fi

if [ -z "$binary" ] && [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
  # under sudo: never build, which would leave root-owned files in the user's .build; use what they built
  binary=.build/release/llmscript
  [ -x "$binary" ] || { echo "install.sh: $binary is missing; build it first as yourself (scripts/setup.sh), then sudo scripts/install.sh" >&2; exit 1; }
elif [ -z "$binary" ]; then
  read -r -a SPM <<< "${SWIFTPM_ARGS:-}"
  if ! command -v swift >/dev/null 2>&1; then
    echo "install.sh: swift is not on PATH; run scripts/setup.sh first (or give --binary PATH)" >&2
    exit 1
  fi
  swift build -c release "${SPM[@]}"   # up to date: a few seconds
  binary="$(swift build -c release "${SPM[@]}" --show-bin-path)/llmscript"
fi
[ -x "$binary" ] || { echo "install.sh: no llmscript binary at $binary" >&2; exit 1; }
[ -f stdlib-lua/llm/init.lua ] || { echo "install.sh: stdlib-lua/llm/init.lua is missing in $(pwd)" >&2; exit 1; }
if [ -e "$share" ] && [ ! -f "$manifest" ]; then
  echo "install.sh: $share exists but was not written by install.sh (no MANIFEST); not touching it" >&2
  exit 1
fi

mkdir -p "$prefix/bin" "$share"
# binary: copy beside, then rename over the old one
cp "$binary" "$prefix/bin/.llmscript.new"
chmod 755 "$prefix/bin/.llmscript.new"
mv -f "$prefix/bin/.llmscript.new" "$prefix/bin/llmscript"
# library and recipes: a fresh copy each time, swapped in whole
for part in stdlib-lua recipes; do
  rm -rf "$share/.$part.new"
  cp -R "$part" "$share/.$part.new"
  rm -rf "$share/$part"
  mv "$share/.$part.new" "$share/$part"
done
{
  echo "# written by llmscript's scripts/install.sh; scripts/install.sh --prefix $prefix --uninstall removes these"
  echo "bin/llmscript"
  (cd "$prefix" && find share/llmscript/stdlib-lua share/llmscript/recipes -type f | sort)
} > "$manifest"

echo "install.sh: installed $("$prefix/bin/llmscript" --version) into $prefix (bin/llmscript, share/llmscript)"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "install.sh: note: $prefix/bin is not on PATH; add it (export PATH=\"$prefix/bin:\$PATH\")" ;;
esac
