#!/usr/bin/env bash
# Benchmark: how long `meshup start` takes when nothing changed (the everyday re-run), on the
# simulated world, release build. Prints min / median / max over N runs.
#
# Usage: scripts/bench-rerun.sh [N]      (default 20)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs="${1:-20}"
cargo build --quiet --release -p meshup -p meshup-sim
target="${CARGO_TARGET_DIR:-$root/target}/release"
export MESHUP_SIM_BIN="$target/meshup-sim"
export SIM_KNOBS="$root/scripts/sim/seed-knobs.yaml"
seed=scenarios/seed-istio-1.5-k8s-1.15.yaml

scripts/sim-shell.sh -c "
  set -e
  export PATH=\"$target:\$PATH\"
  meshup start -q -f $seed >/dev/null
  for i in \$(seq 1 $runs); do
    t0=\$(date +%s%N); meshup start -q -f $seed >/dev/null; t1=\$(date +%s%N)
    echo \$(( (t1 - t0) / 1000000 ))
  done | sort -n | awk '{ a[NR] = \$1 } END {
    printf \"meshup start, nothing changed (%d runs): min %d ms, median %d ms, max %d ms\\n\",
      NR, a[1], a[int((NR + 1) / 2)], a[NR] }'
  starts=\$(grep '\"event\":\"start\",\"tool\":\"minikube\"' \$MESHUP_SIM_DIR/calls.jsonl | grep -c '\"argv\":\\[\"start\"' || true)
  echo \"minikube start ran \$starts time(s) in all (the first run only)\"
"
