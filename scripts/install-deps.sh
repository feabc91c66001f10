#!/usr/bin/env bash
# Installs everything llmesh needs to build, test, demo and benchmark on Debian 12.
# Idempotent: packages already present are skipped, and the npm test clients are
# installed only when tests/js/node_modules is missing or out of date.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

debian_packages=(
  build-essential cmake ninja-build ccache pkg-config
  libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  libabsl-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libnghttp2-dev libssl-dev ca-certificates
  libyaml-cpp-dev
  libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libgoogle-perftools-dev
  prometheus
  wrk nginx-light nghttp2-client
)
# The machine image may ship its own Node.js; Debian's is used only when there is none.
command -v npm >/dev/null 2>&1 || debian_packages+=(nodejs npm)

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Test-only JavaScript clients (the official SDKs talk to the sidecar in tests).
js="$here/tests/js"
if [[ -f "$js/package.json" ]]; then
  if [[ ! -d "$js/node_modules" || "$js/package.json" -nt "$js/node_modules" ]]; then
    (cd "$js" && npm install --no-audit --no-fund --loglevel=error)
    touch "$js/node_modules"
  fi
fi
