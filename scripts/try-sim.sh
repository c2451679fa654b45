#!/usr/bin/env bash
# Try meshup without Docker: builds meshup and the simulated world, then runs the seed scenario
# in a fresh world (fake minikube / istioctl / kubectl / docker in front of an emulated
# Kubernetes API server) and shows `meshup status`.
#
# Usage: scripts/try-sim.sh [meshup start args...]      (default: the seed scenario)
#        SIM_SHELL=1 scripts/try-sim.sh                  (then stay in a shell in that world)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo build --quiet -p meshup -p meshup-sim
export MESHUP_SIM_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/meshup-sim"
export SIM_KNOBS="${SIM_KNOBS:-$root/scripts/sim/seed-knobs.yaml}"

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(-f scenarios/seed-istio-1.5-k8s-1.15.yaml)
quoted="$(printf ' %q' "${args[@]}")"
commands="meshup start$quoted && meshup status"
if [ "${SIM_SHELL:-}" = 1 ]; then
  commands="$commands; echo; echo 'a shell in the simulated world (exit to end it):'; bash --norc -i"
fi
exec scripts/sim-shell.sh -c "$commands"
