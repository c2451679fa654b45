#!/bin/sh
# Throughput of meshup's tool install path (download from a loopback mirror, sha256, gunzip +
# untar of istioctl and profiles, atomic install) on a ~50 MB archive, then the same work done
# by curl + sha256sum + tar as a baseline. Release build: run it when the machine is quiet.
#   BENCH_MB=50 scripts/bench-tools.sh
set -eu
cd "$(dirname "$0")/.."
BENCH_MB="${BENCH_MB:-50}" cargo test --release -p meshup --test tools_bench -- --ignored --nocapture 2>&1 \
  | grep -E 'archive .* MiB|test result'

# Baseline: the same bytes through standard tools (no network, file already local).
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
head -c $(( ${BENCH_MB:-50} * 1024 * 1024 )) /dev/urandom > "$tmp/istioctl"
mkdir -p "$tmp/istio-1.99.0/bin" && mv "$tmp/istioctl" "$tmp/istio-1.99.0/bin/"
tar -C "$tmp" -czf "$tmp/a.tar.gz" istio-1.99.0 && rm -rf "$tmp/istio-1.99.0"
start=$(date +%s%N)
sha256sum "$tmp/a.tar.gz" > /dev/null
mkdir "$tmp/x" && tar -C "$tmp/x" -xzf "$tmp/a.tar.gz"
end=$(date +%s%N)
echo "baseline sha256sum + tar xzf of $(du -m "$tmp/a.tar.gz" | cut -f1) MB: $(( (end - start) / 1000000 )) ms"
