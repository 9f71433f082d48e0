#!/usr/bin/env bash
# netns-rehearsal.sh: a two-"host" MPI run on one machine, as the documented rehearsal of a cluster run
# (not CI: needs root for network namespaces). Two network namespaces, llms-h1 (10.77.0.1) and llms-h2
# (10.77.0.2), are joined by a veth pair; mpirun starts in llms-h1 with a hostfile naming both addresses;
# Open MPI's remote launcher (normally ssh) is replaced by scripts/cluster/netns-rsh, which runs the
# command in the namespace that owns the address; MPI traffic goes over TCP on the veth link (the
# shared-memory transport is off, as between real hosts). Then it runs a data-parallel training script
# with one rank per "host" and checks that both ranks agree.
# Usage: scripts/cluster/netns-rehearsal.sh [llmscript binary] [script.lua] (defaults: the newer of
# .build/release and .build/debug llmscript, scripts/cluster/rehearsal.lua).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-}"
if [ -z "$bin" ]; then  # the newer of the release and debug builds
  rel="$root/.build/release/llmscript" dbg="$root/.build/debug/llmscript"
  if [ -x "$rel" ] && { [ ! -x "$dbg" ] || [ "$rel" -nt "$dbg" ]; }; then bin="$rel"; else bin="$dbg"; fi
fi
script="${2:-$here/rehearsal.lua}"
[ -x "$bin" ] || { echo "netns-rehearsal: no llmscript binary (run swift build)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "netns-rehearsal: needs root (network namespaces)" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "netns-rehearsal: mpirun missing (scripts/setup.sh installs openmpi-bin)" >&2; exit 2; }

cleanup() { ip netns del llms-h1 2>/dev/null || true; ip netns del llms-h2 2>/dev/null || true; rm -rf "$work"; }
work="$(mktemp -d)"
trap cleanup EXIT
cleanup 2>/dev/null; work="$(mktemp -d)"
ip netns add llms-h1
ip netns add llms-h2
ip link add llms-v1 type veth peer name llms-v2
ip link set llms-v1 netns llms-h1
ip link set llms-v2 netns llms-h2
ip -n llms-h1 addr add 10.77.0.1/24 dev llms-v1
ip -n llms-h2 addr add 10.77.0.2/24 dev llms-v2
for ns in llms-h1 llms-h2; do ip -n "$ns" link set lo up; done
ip -n llms-h1 link set llms-v1 up
ip -n llms-h2 link set llms-v2 up
ip -n llms-h1 neigh flush all 2>/dev/null || true

printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$work/hostfile"
echo "hosts: llms-h1 = 10.77.0.1, llms-h2 = 10.77.0.2 (veth); hostfile:"; cat "$work/hostfile"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ip netns exec llms-h1 env HOME="$work" OPENBLAS_NUM_THREADS=1 timeout 300 mpirun -np 2 --hostfile "$work/hostfile" \
  --mca plm_rsh_agent "$here/netns-rsh" --mca btl self,tcp --mca btl_tcp_if_include 10.77.0.0/24 \
  --mca oob_tcp_if_include 10.77.0.0/24 --mca mpi_yield_when_idle 1 -x OPENBLAS_NUM_THREADS -x PATH \
  "$bin" "$script" | tee "$work/out"
grep -q 'rehearsal: ok' "$work/out" || { echo "netns-rehearsal: FAILED" >&2; exit 1; }
echo "netns-rehearsal: two hosts over TCP agreed"
