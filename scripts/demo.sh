#!/usr/bin/env bash
# `make demo`: three fake providers + llmesh-proxy on examples/demo.yaml, live traffic while the
# primary provider goes through an outage, a 5% error phase and a rate-limit phase, then a
# summary of what clients saw; then the mesh (scripts/demo-mesh.sh): llmesh-control and two
# sidecars.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
bin="$build/bin"
source "$here/scripts/lib/processes.sh"

work=$(mktemp -d)
trap 'llmesh_stop_all; rm -rf "$work"' EXIT

for name in primary secondary tertiary; do
  llmesh_start "$work/$name.log" "$bin/llmesh-fake-provider" --listen 127.0.0.1:0 --name "$name" --workers 1
done
export PRIMARY_URL="http://127.0.0.1:$(llmesh_port "$work/primary.log" fake)/v1"
export SECONDARY_URL="http://127.0.0.1:$(llmesh_port "$work/secondary.log" fake)/v1"
export TERTIARY_URL="http://127.0.0.1:$(llmesh_port "$work/tertiary.log" fake)/v1"
export DEMO_PRIMARY_KEY=demo-primary-key DEMO_SECONDARY_KEY=demo-secondary-key DEMO_TERTIARY_KEY=demo-tertiary-key

"$bin/llmesh-proxy" --config "$here/examples/demo.yaml" --validate
llmesh_start "$work/proxy.log" "$bin/llmesh-proxy" --config "$here/examples/demo.yaml"
proxy_port=$(llmesh_port "$work/proxy.log" proxy)
admin_port=$(llmesh_port "$work/proxy.log" admin)

echo "llmesh demo: sidecar on 127.0.0.1:$proxy_port (admin 127.0.0.1:$admin_port)"
echo "  primary   $PRIMARY_URL"
echo "  secondary $SECONDARY_URL"
echo "  tertiary  $TERTIARY_URL"
echo

PROXY_URL="http://127.0.0.1:$proxy_port" ADMIN_URL="http://127.0.0.1:$admin_port" \
  node "$here/scripts/demo-traffic.mjs"

echo
"$here/scripts/demo-mesh.sh" "$build"
