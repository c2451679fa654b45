#!/usr/bin/env bash
# The whole flow without Docker, on the simulated world (fake minikube, istioctl, kubectl and
# docker in front of an emulated Kubernetes API server; nothing leaves loopback):
#   meshup start (seed: Kubernetes v1.15.10, Istio 1.5.0) → meshup status → a request through
#   the ingress gateway → meshup down.
# Usage: scripts/demo.sh [meshup start args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo build --quiet -p meshup -p meshup-sim
export MESHUP_SIM_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/meshup-sim"
export SIM_KNOBS="${SIM_KNOBS:-$root/scripts/sim/seed-knobs.yaml}"

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(-f scenarios/seed-istio-1.5-k8s-1.15.yaml)
quoted="$(printf ' %q' "${args[@]}")"
read -r -d '' commands <<EOF2 || true
set -e
echo '\$ meshup start$quoted'; meshup start$quoted
echo; echo '\$ meshup status'; meshup status
echo; echo '\$ meshup verify --keep-smoke   # a request through the gateway to the smoke workload'
meshup verify --keep-smoke
ip=\$(kubectl --context meshup -n istio-system get svc istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
echo; echo "\\\$ curl -si -H 'Host: meshup-smoke.local' http://\$ip/get   # the gateway's address, from the tunnel"
curl -si --max-time 5 -H 'Host: meshup-smoke.local' "http://\$ip/get" | head -12 || true
echo; echo '\$ meshup down'; meshup down
EOF2
exec scripts/sim-shell.sh -c "$commands"
