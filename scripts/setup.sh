#!/usr/bin/env bash
# setup.sh: makes a Debian 12 machine with the Swift toolchain ready to build and test llmscript.
# Idempotent: installs only the missing Debian packages (apt-get update only when something is missing;
# as root directly, else through sudo), then builds the release binary unless --no-build is given.
# Usage: scripts/setup.sh [--no-build]   (SWIFTPM_ARGS, optional, is passed to swift build)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(liblua5.4-dev lua5.4 libopenblas-dev libedit-dev pkgconf lua-busted luarocks fortunes zlib1g-dev libssl-dev wordnet-base fortunes-zh lua-filesystem lua-yaml lua-cliargs lua-penlight lua-check libopenmpi-dev openmpi-bin libsqlite3-dev libmicrohttpd-dev curl libdnnl-dev)

build=1
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$a'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PACKAGES[@]}"; do
  # installed = dpkg reports "install ok installed"
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "setup.sh: missing packages (${missing[*]}) and neither root nor sudo available" >&2
    exit 1
  fi
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup.sh: the Swift toolchain (swift) is not on PATH; install it from https://www.swift.org/install/" >&2
  exit 1
fi

if [ "$build" -eq 1 ]; then
  read -r -a SPM <<< "${SWIFTPM_ARGS:-}"
  swift build -c release "${SPM[@]}"
fi
