#!/usr/bin/env bash
# Opens a shell inside a simulated world: fake minikube, istioctl, kubectl and docker on PATH,
# talking to an emulated Kubernetes API server, with LoadBalancer addresses on loopback.
# The seed's manual procedure works in it:
#
#   minikube start --kubernetes-version=v1.15.10 --cpus=4 --memory=8gb
#   minikube tunnel &
#   istioctl manifest apply --set profile=default \
#     --set values.global.proxy.accessLogEncoding=JSON --set values.global.proxy.accessLogFile=/dev/stdout
#   kubectl get svc -n istio-system
#   curl http://<EXTERNAL-IP>:15020/healthz/ready
#
# Usage: scripts/sim-shell.sh [-c 'commands']     (-c runs them non-interactively)
# Environment:
#   SIM_MINIKUBE_VERSION  emulated minikube (default v1.24.0, the last that starts v1.15.10)
#   SIM_ISTIO_VERSION     emulated istioctl (default 1.5.0)
#   SIM_KNOBS             a knobs.yaml to use instead (tests/sim/KNOBS.md)
#   SIM_KEEP=1            keep the world directory afterwards
#   MESHUP_SIM_BIN        a built meshup-sim (default: cargo build -p meshup-sim)
set -euo pipefail

commands=""
if [ "${1:-}" = "-c" ]; then
  [ $# -ge 2 ] || { echo "usage: $0 [-c 'commands']" >&2; exit 2; }
  commands="$2"
elif [ $# -gt 0 ]; then
  echo "usage: $0 [-c 'commands']" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${MESHUP_SIM_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --quiet -p meshup-sim --manifest-path "$root/Cargo.toml" >&2
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/meshup-sim"
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/meshup-sim.XXXXXX")"
id="${SIM_SHELL_ID:-sim-shell-$$-$RANDOM}"
mkdir -p "$dir/bin" "$dir/home" "$dir/state" "$dir/cache" "$dir/config"
for tool in minikube istioctl kubectl docker sudo; do ln -s "$bin" "$dir/bin/$tool"; done
if [ -n "${SIM_KNOBS:-}" ]; then
  cp "$SIM_KNOBS" "$dir/knobs.yaml"
else
  cat > "$dir/knobs.yaml" <<KNOBS
minikube:
  version: ${SIM_MINIKUBE_VERSION:-v1.24.0}
  startMs: 2000
  tunnel:
    statusDelayMs: 1000
istioctl:
  version: ${SIM_ISTIO_VERSION:-1.5.0}
KNOBS
fi

# Every process of this world carries MESHUP_SIM_ID: find them through /proc and end them.
cleanup() {
  local pids=() p
  for p in /proc/[0-9]*; do
    if { tr '\0' '\n' < "$p/environ"; } 2>/dev/null | grep -qx "MESHUP_SIM_ID=$id"; then
      pids+=("${p#/proc/}")
    fi
  done
  [ ${#pids[@]} -eq 0 ] || kill -KILL "${pids[@]}" 2>/dev/null || true
  if [ "${SIM_KEEP:-}" = 1 ]; then echo "world kept in $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT

MESHUP_SIM_ID="$id" "$bin" serve --dir "$dir" 2>"$dir/daemon.log" &
disown
for _ in $(seq 1 200); do
  [ -f "$dir/world.json" ] && break
  sleep 0.05
done
[ -f "$dir/world.json" ] || { echo "the world did not start; see $dir/daemon.log" >&2; cat "$dir/daemon.log" >&2; exit 1; }

world_env=(
  MESHUP_SIM_DIR="$dir" MESHUP_SIM_ID="$id" HOME="$dir/home" PATH="$dir/bin:$root/target/debug:$PATH"
  MESHUP_STATE_DIR="$dir/state" XDG_STATE_HOME="$dir/state" XDG_CACHE_HOME="$dir/cache"
  XDG_CONFIG_HOME="$dir/config" NO_COLOR=1
)
if [ -n "$commands" ]; then
  env -u KUBECONFIG -u MINIKUBE_HOME "${world_env[@]}" bash -c "$commands"
else
  echo "simulated world in $dir ($(grep -o '"loopbackPrefix": *"[^"]*"' "$dir/world.json")); exit to end it" >&2
  env -u KUBECONFIG -u MINIKUBE_HOME "${world_env[@]}" PS1='(sim) \w\$ ' bash --norc -i
fi
