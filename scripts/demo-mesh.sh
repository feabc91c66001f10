#!/usr/bin/env bash
# The mesh part of `make demo`: llmesh-control and two sidecars. A route applied with llmeshctl
# reaches both; then live traffic while the cheap provider degrades (10% errors, above the
# route's 5% SLO) and recovers, with the cluster's weights shown as they move.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
bin="$build/bin"
source "$here/scripts/lib/processes.sh"

work=$(mktemp -d)
trap 'llmesh_stop_all; rm -rf "$work"' EXIT

for name in cheap premium; do
  llmesh_start "$work/$name.log" "$bin/llmesh-fake-provider" --listen 127.0.0.1:0 --name "$name" --workers 1
done
export CHEAP_URL="http://127.0.0.1:$(llmesh_port "$work/cheap.log" fake)/v1"
export PREMIUM_URL="http://127.0.0.1:$(llmesh_port "$work/premium.log" fake)/v1"
export DEMO_CHEAP_KEY=demo-cheap-key DEMO_PREMIUM_KEY=demo-premium-key
export LLMESH_ADMIN_TOKEN=demo-admin-token

# Short intervals so the demo moves in seconds (defaults: 5s reports, 60s window).
llmesh_start "$work/control.log" "$bin/llmesh-control" --store "sqlite:$work/control.db" \
  --grpc-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --bootstrap "$here/examples/mesh/bootstrap.yaml" \
  --admin-token-env LLMESH_ADMIN_TOKEN --report-interval 250ms --weight-interval 250ms \
  --window 2s --min-samples 20 --probe-floor 0.05
export CONTROL_ADDRESS="127.0.0.1:$(llmesh_port "$work/control.log" grpc)"
ctl() { "$bin/llmeshctl" --server "$CONTROL_ADDRESS" "$@"; }

proxy_urls=()
for node in sidecar-a sidecar-b; do
  NODE_ID=$node STATE_DIR="$work/state-$node" \
    llmesh_start "$work/$node.log" "$bin/llmesh-proxy" --config "$here/examples/mesh/sidecar.yaml"
  proxy_urls+=("http://127.0.0.1:$(llmesh_port "$work/$node.log" proxy)")
done

# waits_for TEXT COMMAND...: reruns COMMAND (up to 10 s) until its output contains TEXT.
wait_for() {
  local text=$1
  shift
  for _ in $(seq 100); do
    "$@" 2>/dev/null | grep -q -- "$text" && return 0
    sleep 0.1
  done
  echo "timed out waiting for \"$text\" from: $*" >&2
  return 1
}

echo "llmesh demo, mesh: llmesh-control on $CONTROL_ADDRESS, sidecars ${proxy_urls[*]}"
echo "  cheap   $CHEAP_URL"
echo "  premium $PREMIUM_URL"
echo
echo "\$ llmeshctl routes apply -f examples/mesh/premium-route.yaml"
ctl routes apply -f "$here/examples/mesh/premium-route.yaml"
wait_for "sidecar-a  synced" ctl sidecars
wait_for "sidecar-b  synced" ctl sidecars
echo "\$ llmeshctl sidecars"
ctl sidecars
echo

PROXY_URLS="${proxy_urls[*]}" CHEAP_URL="$CHEAP_URL" LLMESHCTL="$bin/llmeshctl" \
  node "$here/scripts/demo-mesh-traffic.mjs"
