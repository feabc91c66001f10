#!/usr/bin/env bash
# `make bench`: side-by-side on loopback — the fake provider direct, nginx proxy_pass (the
# pure-proxy floor), llmesh-proxy (nginx and llmesh with the same worker count) and the Portkey
# AI gateway (@portkey-ai/gateway, Node.js, one process; installed by scripts/install-deps.sh).
# Over HTTP/1.1 with 1 KB requests: latency at one request in flight (one_in_flight: the legs
# alternated request by request, over several rounds; the median round is reported), throughput
# at 32 and then 256 connections, each proxy's CPU per request (utime+stime from /proc) and RSS
# idle and under load. With 10 KB and 100 KB requests: latency at one in flight and throughput
# at 32 connections. Over h2 (prior knowledge, h2load): direct,
# nginx and llmesh at one in flight and at 32 streams (4 connections x 8, and 32 x 1). Streaming
# at one in flight (time to first token, each chunk's lateness; stream_client.cjs). A soak of
# llmesh and nginx under 32 connections with their RSS sampled. Then the provider layer's CPU per
# request with and without translation (translation_bench) and the control plane under 1,000
# simulated sidecars (control_load). Ends with the table of ratios and acceptance points
# (report.cjs), also written as markdown beside the JSON in bench/results/. Timings are never
# asserted. bench/README.md explains every figure.
#   bench/run.sh [BUILD_DIR] [--smoke]     (--smoke: one short pass, for `make test`)
# Environment: LLMESH_BENCH_SECONDS (10: per leg and load run, 1 KB), LLMESH_BENCH_SIZE_SECONDS
# (5: the same for 10 KB and 100 KB), LLMESH_BENCH_ROUNDS (5), LLMESH_BENCH_WORKERS (1),
# LLMESH_BENCH_SOAK_SECONDS (300: per soaked leg), LLMESH_BENCH_SOAK_INTERVAL (5: s between RSS
# samples), LLMESH_BENCH_RESULTS (bench/results: where the JSON and markdown go).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
bin="$build/bin"
smoke=0
[[ "${2:-}" == "--smoke" ]] && smoke=1
seconds=${LLMESH_BENCH_SECONDS:-10}
size_seconds=${LLMESH_BENCH_SIZE_SECONDS:-5}
workers=${LLMESH_BENCH_WORKERS:-1}
rounds=${LLMESH_BENCH_ROUNDS:-5}
soak_seconds=${LLMESH_BENCH_SOAK_SECONDS:-300}
soak_interval=${LLMESH_BENCH_SOAK_INTERVAL:-5}
h2_seconds=$seconds  # h2load runs a request count sized to this, so it may be under a second
if [[ $smoke == 1 ]]; then
  seconds=1 size_seconds=1 rounds=1 soak_seconds=2 soak_interval=1 h2_seconds=0.2
fi
sizes=(1024 10240 102400)
results_dir=${LLMESH_BENCH_RESULTS:-$here/bench/results}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
source "$here/scripts/lib/processes.sh"
source "$here/bench/legs.sh"

work=$(mktemp -d)
res="$work/results"  # every measured figure, one file each; report.cjs assembles them
mkdir -p "$res"
trap 'llmesh_stop_all; [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"' EXIT
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: $(uptime)"

for size in "${sizes[@]}"; do make_body "$size" "$work/body.$size.json"; done

llmesh_start "$work/fake.log" "$bin/llmesh-fake-provider" --listen 127.0.0.1:0 --name bench --workers 2
fake_port=$(llmesh_port "$work/fake.log" fake)

cat >"$work/llmesh.yaml" <<YAML
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
workers: $workers
access_log: {path: "off"}
providers:
  - name: fake
    kind: openai
    base_url: http://127.0.0.1:$fake_port/v1
    models: [{name: bench-model}]
routes:
  - model: bench
    targets: [{provider: fake, model: bench-model}]
YAML
llmesh_start "$work/llmesh.log" "$bin/llmesh-proxy" --config "$work/llmesh.yaml"
llmesh_port=$(llmesh_port "$work/llmesh.log" proxy)
llmesh_pid=${LLMESH_PIDS[-1]}

# Portkey's start-server.js takes only --port=N and listens on every interface; the preload pins
# it to loopback and prints the shared "listening" line, so --port=0 gets a kernel-chosen port.
portkey="$here/tests/js/node_modules/@portkey-ai/gateway/build/start-server.js"
[[ -f $portkey ]] || { echo "bench: $portkey missing; run scripts/install-deps.sh" >&2; exit 1; }
llmesh_start "$work/portkey.log" env NODE_ENV=production \
  node --require "$here/bench/portkey_loopback.cjs" "$portkey" --port=0 --headless
portkey_port=$(llmesh_port "$work/portkey.log" portkey)
portkey_pid=${LLMESH_PIDS[-1]}

start_nginx "$workers" "$fake_port"

legs=(direct nginx llmesh portkey)
proxies=(nginx llmesh portkey)
# h2 is prior knowledge on the plain port: the fake's and llmesh's own, nginx's second listener.
declare -A leg_port=([direct]=$fake_port [nginx]=$nginx_port [llmesh]=$llmesh_port [portkey]=$portkey_port)
declare -A leg_h2_port=([direct]=$fake_port [nginx]=$nginx_h2_port [llmesh]=$llmesh_port)
# Portkey is told per request which provider to call and where (the fake, as an OpenAI host).
declare -A leg_headers=([portkey]="x-portkey-provider: openai
x-portkey-custom-host: http://127.0.0.1:$fake_port/v1")
clk_tck=$(getconf CLK_TCK)

# One request through Portkey first: it must reach the fake and come back 200 with the chat body.
fake_chats() { curl -sf "http://127.0.0.1:$fake_port/_fake/stats" | node -e \
  'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).chat))'; }
chats_before=$(fake_chats)
portkey_answer=$(curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' \
  -H 'Authorization: Bearer bench-client' -H "x-portkey-provider: openai" \
  -H "x-portkey-custom-host: http://127.0.0.1:$fake_port/v1" --data-binary "@$work/body.1024.json" \
  "http://127.0.0.1:$portkey_port/v1/chat/completions")
if [[ ${portkey_answer##*$'\n'} != 200 || $portkey_answer != *'"chat.completion"'* ||
      $(fake_chats) -ne $((chats_before + 1)) ]]; then
  echo "bench: a request through Portkey did not reach the fake provider: $portkey_answer" >&2
  cat "$work/portkey.log" >&2
  exit 1
fi

# Which legs speak h2 (prior knowledge); the others are reported as "h2 unavailable".
h2_legs=()
for leg in direct nginx llmesh; do
  h2_probe "$leg" >"$res/h2.$leg.status"
  [[ $(<"$res/h2.$leg.status") == available ]] && h2_legs+=("$leg")
  echo "bench: h2 $leg: $(<"$res/h2.$leg.status")"
done

for leg in "${proxies[@]}"; do leg_rss_kib "$leg" >"$res/rss.idle.$leg"; done

# The load runs. Each function takes the leg and reads the phase from these globals.
size=1024 body="$work/body.1024.json" one_seconds=1 many_seconds=$seconds conns=32 rss_sample=0

# one_h1: every leg at one request in flight, alternated request by request (one_in_flight),
# $rounds rounds of $one_seconds after $warmup_cycles unrecorded cycles; one.h1.SIZE.LEG.jsonl.
warmup_cycles=500
[[ $smoke == 1 ]] && warmup_cycles=20
one_h1() {
  "$bin/one_in_flight" --body "$body" --out "$res/one.h1.$size" --rounds "$rounds" \
    --round-seconds "$one_seconds" --warmup "$warmup_cycles" --leg "direct=$fake_port" \
    --leg "nginx=$nginx_port" --leg "llmesh=$llmesh_port" --leg "portkey=$portkey_port" \
    --header "portkey=x-portkey-provider: openai" \
    --header "portkey=x-portkey-custom-host: http://127.0.0.1:$fake_port/v1"
}
# many_h1 LEG: $conns connections for $many_seconds; for a proxy also its CPU per request and,
# with rss_sample=1, its RSS half-way through (rss.load.SIZE.LEG).
many_h1() {
  local leg=$1 name="c$conns.h1.$size.$1" pids="" before=0 sampler=""
  if [[ $leg != direct ]]; then
    pids=$(leg_pids "$leg")
    before=$(cpu_ticks $pids)
    if [[ $rss_sample == 1 ]]; then
      ( sleep "$(awk "BEGIN{print $many_seconds/2}")"; leg_rss_kib "$leg" >"$res/rss.load.$size.$leg" ) &
      sampler=$!
    fi
  fi
  load_wrk "$leg" "$conns" "$many_seconds" "$body" >"$res/$name.json"
  if [[ -n $pids ]]; then
    cpu_us_per_request $(($(cpu_ticks $pids) - before)) "$(<"$res/$name.json")" >"$res/$name.cpu"
  fi
  if [[ -n $sampler ]]; then wait "$sampler"; fi
}

# 1 KB, HTTP/1.1: the full treatment.
phase "1 KB, HTTP/1.1: 1 in flight, 32 and 256 connections"
# The legs share the 1-in-flight time: as long in all as running each for $seconds (--smoke:
# half a second in all).
one_seconds=$(awk "BEGIN{print $seconds * ${#legs[@]} / $rounds}")
[[ $smoke == 1 ]] && one_seconds=0.5
one_h1
conns=32 rss_sample=1
for_each_leg many_h1 "${legs[@]}"
conns=256 rss_sample=0
for_each_leg many_h1 "${legs[@]}"

# 10 KB and 100 KB, HTTP/1.1: one in flight and 32 connections.
one_seconds=$(awk "BEGIN{print $size_seconds * ${#legs[@]} / $rounds}")
[[ $smoke == 1 ]] && one_seconds=0.5
many_seconds=$size_seconds conns=32 rss_sample=1
for size in "${sizes[@]:1}"; do
  phase "$((size / 1024)) KB, HTTP/1.1: 1 in flight, 32 connections"
  body="$work/body.$size.json"
  one_h1
  for_each_leg many_h1 "${legs[@]}"
done

# h2 (prior knowledge), 1 KB: one in flight, then 32 streams as 4 connections x 8 streams and as
# 32 connections x 1. h2load runs a fixed number of requests, sized from a pilot run per leg.
size=1024 body="$work/body.1024.json"
declare -A h2_one_requests h2_many_requests
h2_shape="" h2_conns=0 h2_streams=0
one_h2() { load_h2load "$1" 1 1 "${h2_one_requests[$1]}" "$body" >>"$res/one.h2.$size.$1.jsonl"; }
many_h2() {
  local leg=$1 name="$h2_shape.h2.$size.$1" pids="" before=0
  if [[ $leg != direct ]]; then pids=$(leg_pids "$leg"); before=$(cpu_ticks $pids); fi
  load_h2load "$leg" "$h2_conns" "$h2_streams" "${h2_many_requests[$leg]}" "$body" >"$res/$name.json"
  if [[ -n $pids ]]; then
    cpu_us_per_request $(($(cpu_ticks $pids) - before)) "$(<"$res/$name.json")" >"$res/$name.cpu"
  fi
}
if [[ ${#h2_legs[@]} -gt 0 ]]; then
  phase "1 KB, h2: ${h2_legs[*]}"
  one_seconds=$(awk "BEGIN{print $h2_seconds/$rounds}")
  for leg in "${h2_legs[@]}"; do h2_one_requests[$leg]=$(h2_requests_for "$leg" 1 1 "$one_seconds" "$body"); done
  for _ in $(seq "$rounds"); do for_each_leg one_h2 "${h2_legs[@]}"; done
  for shape in c4x8 c32x1; do
    h2_shape=$shape h2_conns=${shape%x*} h2_streams=${shape#*x}
    h2_conns=${h2_conns#c}
    for leg in "${h2_legs[@]}"; do
      h2_many_requests[$leg]=$(h2_requests_for "$leg" "$h2_conns" "$h2_streams" "$h2_seconds" "$body")
    done
    for_each_leg many_h2 "${h2_legs[@]}"
  done
fi

# Streaming, one in flight: the fake is scripted for every request from here on (5 content
# chunks 2 ms apart, the first 1 ms after the role chunk); stream_client.cjs alternates the legs
# over rounds, prints its table and writes the `streaming` section. 400 requests per leg and
# round: a p99 needs thousands of samples to stand above the machine's scheduling noise.
phase "streaming"
stream_chunks=5 stream_interval_ms=2 stream_first_chunk_ms=1
curl -sf -X POST -d "{\"chunks\":$stream_chunks,\"chunk_interval_ms\":$stream_interval_ms,\"first_chunk_ms\":$stream_first_chunk_ms}" \
  "http://127.0.0.1:$fake_port/_fake/script" >/dev/null
stream_per_round=400 stream_warmup=20
[[ $smoke == 1 ]] && stream_per_round=10 stream_warmup=2
node "$here/bench/stream_client.cjs" "$(node -e '
const [body, out, rounds, perRound, warmup, chunks, interval, first, fake, nginx, llmesh, portkey] = process.argv.slice(1);
console.log(JSON.stringify({ body, out, rounds: +rounds, per_round: +perRound, warmup: +warmup, chunks: +chunks,
  interval_ms: +interval, first_chunk_ms: +first, legs: [
    { name: "direct", label: "direct (fake)", port: +fake },
    { name: "nginx", label: "nginx proxy_pass", port: +nginx },
    { name: "llmesh", label: "llmesh-proxy", port: +llmesh },
    { name: "portkey", label: "portkey gateway", port: +portkey,
      headers: { "x-portkey-provider": "openai", "x-portkey-custom-host": `http://127.0.0.1:${fake}/v1` } }] }));
' "$work/body.1024.json" "$res/streaming.json" "$rounds" "$stream_per_round" "$stream_warmup" "$stream_chunks" \
  "$stream_interval_ms" "$stream_first_chunk_ms" "$fake_port" "$nginx_port" "$llmesh_port" "$portkey_port")"
curl -sf -X POST "http://127.0.0.1:$fake_port/_fake/reset" >/dev/null

# The soak: 32 connections of 1 KB requests for $soak_seconds, RSS every $soak_interval s (a
# line "seconds-since-start rss-kib" each), then once more when the load has stopped.
soak() {
  local leg=$1 start=$EPOCHREALTIME load
  load_wrk "$leg" 32 "$soak_seconds" "$work/body.1024.json" >"$res/soak.$leg.json" &
  load=$!
  while kill -0 "$load" 2>/dev/null; do
    echo "$(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $start}") $(leg_rss_kib "$leg")" >>"$res/soak.$leg.tsv"
    sleep "$soak_interval"
  done
  wait "$load"
  leg_rss_kib "$leg" >"$res/soak.$leg.after"
}
phase "soak: ${soak_seconds} s per leg under 32 connections (llmesh, then nginx)"
for_each_leg soak llmesh nginx

for leg in "${proxies[@]}"; do leg_hwm_kib "$leg" >"$res/rss.peak.$leg"; done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# Translation: CPU per request of an OpenAI client answered by an Anthropic provider versus
# passthrough, on one core, no I/O.
phase "translation_bench"
translation_json="$results_dir/translation-$stamp.json"
min_time=0.5
[[ $smoke == 1 ]] && min_time=0.01 && translation_json="$work/translation.json"
mkdir -p "$results_dir"
"$bin/translation_bench" --benchmark_min_time="$min_time" --benchmark_out="$translation_json" \
  --benchmark_out_format=json >/dev/null 2>&1
node - "$translation_json" <<'NODE'
const runs = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8')).benchmarks;
const cpuUs = (name) => {
  const run = runs.find((r) => r.name === name);
  return run.cpu_time * { ns: 1e-3, us: 1, ms: 1e3 }[run.time_unit];
};
console.log('\ntranslation (CPU per request, provider layer only)   passthrough   openai->anthropic   extra');
for (const [label, pass, translated] of [['non-stream (1 KB request, 1 answer)', 'BM_NonStream_Passthrough', 'BM_NonStream_OpenAiToAnthropic'],
                                         ['stream (12 deltas + usage)', 'BM_Stream_Passthrough', 'BM_Stream_OpenAiToAnthropic']]) {
  const [p, t] = [cpuUs(pass), cpuUs(translated)];
  console.log(`${label.padEnd(52)} ${p.toFixed(2).padStart(8)} us ${t.toFixed(2).padStart(14)} us ${(t - p).toFixed(2).padStart(8)} us`);
}
console.log(`results: ${process.argv[2]}`);
NODE

# The control plane: 1,000 simulated sidecars (discovery + telemetry streams) against one
# llmesh-control; it starts its own, prints its summary and writes its JSON.
phase "control_load"
control_json="$results_dir/control-load-$stamp.json"
control_args=(--out "$control_json")
[[ $smoke == 1 ]] && control_args=(--quick --out "$work/control-load.json")
echo
"$bin/control_load" "${control_args[@]}" 2>"$work/control-load.log" ||
  { cat "$work/control-load.log" >&2; exit 1; }

# The data plane's JSON and the table of ratios against nginx and Portkey, printed last.
out="$results_dir/proxy-$stamp"
[[ $smoke == 1 ]] && out="$work/smoke"
node "$here/bench/report.cjs" "$res" "$out" "$(node -e 'console.log(JSON.stringify({
  stamp: process.argv[1], smoke: process.argv[2] === "1", workers: +process.argv[3], seconds: +process.argv[4],
  size_seconds: +process.argv[5], rounds: +process.argv[6], soak_seconds: +process.argv[7],
  soak_interval_seconds: +process.argv[8], body_sizes: process.argv[9].split(" ").map(Number),
  commit: process.argv[10], cores: +process.argv[11],
  load_average: { start: process.argv[12], end: process.argv[13] } }))' \
  "$stamp" "$smoke" "$workers" "$seconds" "$size_seconds" "$rounds" "$soak_seconds" "$soak_interval" \
  "${sizes[*]}" "$(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)" "$(nproc)" \
  "$load_start" "$load_end")"
