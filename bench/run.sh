#!/usr/bin/env bash
# `make bench`: side-by-side on loopback — the fake provider direct, nginx proxy_pass (the
# pure-proxy floor), llmesh-proxy (nginx and llmesh with the same worker count) and the Portkey
# AI gateway (@portkey-ai/gateway, Node.js, one process; installed by scripts/install-deps.sh).
# Measures latency at one connection in flight (legs alternated over several rounds; the median
# round is reported, so a burst of machine noise lands in one round instead of one leg),
# throughput at 32 and then 256 connections, each proxy's CPU per request (utime+stime from /proc,
# over its 32-connection run), llmesh's and Portkey's RSS idle and under load, and streaming at
# one request in flight (time to first token, each chunk's lateness; stream_client.cjs). Then the
# provider layer's CPU per request with and without translation (translation_bench, Google
# Benchmark), and the control plane under 1,000 simulated sidecars (control_load: time for a
# route change to be ACKed by all, telemetry reports/s absorbed, llmesh-control's RSS; see
# bench/README.md).
# Prints tables and writes JSON to bench/results/. Timings are never asserted.
#   bench/run.sh [BUILD_DIR] [--smoke]     (--smoke: one short pass, for `make test`)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
bin="$build/bin"
seconds=${LLMESH_BENCH_SECONDS:-10}
workers=${LLMESH_BENCH_WORKERS:-1}
rounds=${LLMESH_BENCH_ROUNDS:-5}
[[ "${2:-}" == "--smoke" ]] && seconds=1 && rounds=1
round_seconds=$(( seconds / rounds > 0 ? seconds / rounds : 1 ))
source "$here/scripts/lib/processes.sh"

work=$(mktemp -d)
trap 'llmesh_stop_all; [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"' EXIT

# A 1 KB chat request.
node -e '
const filler = "x".repeat(1024 - 120);
process.stdout.write(JSON.stringify({model: "bench", messages: [{role: "user", content: filler}]}));
' >"$work/body.json"
export LLMESH_BENCH_BODY="$work/body.json"

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

# nginx cannot report a kernel-chosen port, so try a few random ones.
nginx_port=""
for _ in $(seq 5); do
  port=$((20000 + RANDOM % 40000))
  cat >"$work/nginx.conf" <<NGINX
worker_processes $workers;
daemon on;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  upstream fake { server 127.0.0.1:$fake_port; keepalive 128; }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGINX
  if nginx -c "$work/nginx.conf" -e "$work/nginx-error.log" 2>/dev/null; then nginx_port=$port; break; fi
done
[[ -n $nginx_port ]] || { echo "bench: could not start nginx" >&2; exit 1; }

legs=(direct nginx llmesh portkey)
declare -A leg_port=([direct]=$fake_port [nginx]=$nginx_port [llmesh]=$llmesh_port [portkey]=$portkey_port)
# Portkey is told per request which provider to call and where (the fake, as an OpenAI host).
declare -A leg_headers=([portkey]="x-portkey-provider: openai
x-portkey-custom-host: http://127.0.0.1:$fake_port/v1")

# leg_pids LEG: the proxy's processes; nginx is its master and the master's worker children.
leg_pids() {
  case $1 in
    nginx) local master; master=$(cat "$work/nginx.pid"); echo "$master" $(pgrep -P "$master") ;;
    llmesh) echo "$llmesh_pid" ;;
    portkey) echo "$portkey_pid" ;;
  esac
}
# cpu_ticks PID...: utime+stime summed over the processes (every thread), in clock ticks. The
# fields are counted after the last ')', as the command name may hold spaces or parentheses.
cpu_ticks() {
  local pid stat fields total=0
  for pid in "$@"; do
    stat=$(<"/proc/$pid/stat")
    read -ra fields <<<"${stat##*) }"
    total=$((total + fields[11] + fields[12]))  # fields 14 (utime) and 15 (stime) of stat
  done
  echo "$total"
}
clk_tck=$(getconf CLK_TCK)

run_wrk() {  # run_wrk LEG CONNECTIONS THREADS [SECONDS]
  LLMESH_BENCH_HEADERS="${leg_headers[$1]:-}" wrk -t"$3" -c"$2" -d"${4:-$seconds}s" \
    -s "$here/bench/wrk_report.lua" "http://127.0.0.1:${leg_port[$1]}/v1/chat/completions" | grep '^{'
}

# One request through Portkey first: it must reach the fake and come back 200 with the chat body.
fake_chats() { curl -sf "http://127.0.0.1:$fake_port/_fake/stats" | node -e \
  'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).chat))'; }
chats_before=$(fake_chats)
portkey_answer=$(curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' \
  -H 'Authorization: Bearer bench-client' -H "x-portkey-provider: openai" \
  -H "x-portkey-custom-host: http://127.0.0.1:$fake_port/v1" --data-binary "@$work/body.json" \
  "http://127.0.0.1:$portkey_port/v1/chat/completions")
if [[ ${portkey_answer##*$'\n'} != 200 || $portkey_answer != *'"chat.completion"'* ||
      $(fake_chats) -ne $((chats_before + 1)) ]]; then
  echo "bench: a request through Portkey did not reach the fake provider: $portkey_answer" >&2
  cat "$work/portkey.log" >&2
  exit 1
fi

declare -A rss_idle
for leg in llmesh portkey; do
  pid_var=${leg}_pid
  rss_idle[$leg]=$(llmesh_rss_kib "${!pid_var}")
done
declare -A one thirty_two two_hundred_fifty_six cpu_us_per_request
for leg in "${legs[@]}"; do
  run_wrk "$leg" 1 1 1 >/dev/null  # warm-up: connections, pools, caches
  one[$leg]="["
done
for round in $(seq "$rounds"); do
  for leg in "${legs[@]}"; do
    [[ $round -gt 1 ]] && one[$leg]+=","
    one[$leg]+=$(run_wrk "$leg" 1 1 "$round_seconds")
  done
done
for leg in "${legs[@]}"; do one[$leg]+="]"; done
for leg in "${legs[@]}"; do
  sampler=""
  if [[ $leg == llmesh || $leg == portkey ]]; then
    # RSS under load: sampled half-way through the 32-connection run.
    pid_var=${leg}_pid
    ( sleep "$(awk "BEGIN{print $seconds/2}")"; llmesh_rss_kib "${!pid_var}" >"$work/rss_load_$leg" ) &
    sampler=$!
  fi
  pids=""
  [[ $leg != direct ]] && pids=$(leg_pids "$leg") && ticks_before=$(cpu_ticks $pids)
  thirty_two[$leg]=$(run_wrk "$leg" 32 2)
  if [[ -n $pids ]]; then
    ticks=$(( $(cpu_ticks $pids) - ticks_before ))
    requests=$(node -e 'console.log(JSON.parse(process.argv[1]).requests)' "${thirty_two[$leg]}")
    cpu_us_per_request[$leg]=$(awk "BEGIN{print ($requests > 0 ? $ticks * 1e6 / $clk_tck / $requests : 0)}")
  fi
  [[ -n $sampler ]] && wait "$sampler"
done
for leg in "${legs[@]}"; do two_hundred_fifty_six[$leg]=$(run_wrk "$leg" 256 2); done

mkdir -p "$here/bench/results"
out="$here/bench/results/proxy-$(date -u +%Y%m%dT%H%M%SZ).json"
[[ "${2:-}" == "--smoke" ]] && out="$work/smoke.json"
node - "$out" "$workers" "$seconds" \
  "${rss_idle[llmesh]}" "$(cat "$work/rss_load_llmesh" 2>/dev/null || echo 0)" \
  "${rss_idle[portkey]}" "$(cat "$work/rss_load_portkey" 2>/dev/null || echo 0)" \
  "${one[direct]}" "${one[nginx]}" "${one[llmesh]}" "${one[portkey]}" \
  "${thirty_two[direct]}" "${thirty_two[nginx]}" "${thirty_two[llmesh]}" "${thirty_two[portkey]}" \
  "${two_hundred_fifty_six[direct]}" "${two_hundred_fifty_six[nginx]}" \
  "${two_hundred_fifty_six[llmesh]}" "${two_hundred_fifty_six[portkey]}" \
  "${cpu_us_per_request[nginx]}" "${cpu_us_per_request[llmesh]}" "${cpu_us_per_request[portkey]}" <<'NODE'
const [out, workers, seconds, llmeshIdle, llmeshLoad, portkeyIdle, portkeyLoad, ...legs] = process.argv.slice(2);
const names = ['direct', 'nginx', 'llmesh', 'portkey'];
const oneRounds = Object.fromEntries(names.map((n, i) => [n, JSON.parse(legs[i])]));
const many = Object.fromEntries(names.map((n, i) => [n, JSON.parse(legs[names.length + i])]));
const most = Object.fromEntries(names.map((n, i) => [n, JSON.parse(legs[2 * names.length + i])]));
// One figure per quantity: the median over the rounds (each round ran every leg once).
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const medianLeg = (rounds) => Object.fromEntries(
  Object.keys(rounds[0]).map((k) => [k, median(rounds.map((r) => r[k]))]));
const one = Object.fromEntries(names.map((n) => [n, medianLeg(oneRounds[n])]));
const addedRounds = (rounds, q) => rounds.map((r, i) => r[q] - oneRounds.direct[i][q]);
const proxies = names.slice(1);
const perProxy = (f) => Object.fromEntries(proxies.map((n) => [n, f(oneRounds[n])]));
const ratioOf = (a, b) => (b > 0 ? Number((a / b).toFixed(2)) : null);
const cpuUs = Object.fromEntries(proxies.map((n, i) => [n, Number(Number(legs[3 * names.length + i]).toFixed(1))]));
const result = {
  workers: Number(workers), seconds: Number(seconds), rounds: oneRounds.direct.length, body_bytes: 1024,
  one_in_flight: { ...one,
    added_us: perProxy((r) => ({ p50: median(addedRounds(r, 'p50_us')), p99: median(addedRounds(r, 'p99_us')) })),
    added_us_per_round: perProxy((r) => ({ p50: addedRounds(r, 'p50_us'), p99: addedRounds(r, 'p99_us') })),
    rounds: oneRounds },
  thirty_two_connections: many,
  two_hundred_fifty_six_connections: most,
  // The proxy's utime+stime (nginx: master and workers) over its 32-connection run, divided by the
  // requests wrk completed in that run. Issue 5's target: at most 40 for llmesh.
  cpu_us_per_request: { ...cpuUs, target_llmesh: 40 },
  llmesh_rss_kib: { idle: Number(llmeshIdle), under_load: Number(llmeshLoad) },
  portkey_rss_kib: { idle: Number(portkeyIdle), under_load: Number(portkeyLoad) },
  // Issue 5's target: llmesh-proxy serves at least 20x Portkey's requests/s at 32 connections.
  llmesh_vs_portkey: { rps_at_32: ratioOf(many.llmesh.rps, many.portkey.rps), target_rps_at_32: 20 },
};
require('fs').writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
const f = (x) => String(Math.round(x)).padStart(9);
console.log(`llmesh bench (${workers} worker(s) for nginx and llmesh, Portkey one Node.js process, ` +
  `${seconds}s per leg, 1 in flight over ${result.rounds} alternating round(s), 1 KB body, HTTP/1.1)`);
console.log('                       p50 us    p99 us  added p50  added p99    rps@32   p99@32 us   rps@256  p99@256 us  CPU us/req');
for (const [name, label] of [['direct', 'direct (fake)'], ['nginx', 'nginx proxy_pass'], ['llmesh', 'llmesh-proxy'],
                             ['portkey', 'portkey gateway']]) {
  const added = name === 'direct' ? { p50: 0, p99: 0 } : result.one_in_flight.added_us[name];
  console.log(`${label.padEnd(20)} ${f(one[name].p50_us)} ${f(one[name].p99_us)} ${f(added.p50)}  ` +
    `${f(added.p99)} ${f(many[name].rps)} ${f(many[name].p99_us)} ${f(most[name].rps)}  ${f(most[name].p99_us)}  ` +
    (name === 'direct' ? '         -' : cpuUs[name].toFixed(1).padStart(10)));
}
const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
const a = result.one_in_flight.added_us;
console.log('added p50 per round: ' +
  proxies.map((n) => `${n} ${result.one_in_flight.added_us_per_round[n].p50.join(' ')}`).join('; '));
console.log(`llmesh/nginx: added p50 ${ratio(a.llmesh.p50, a.nginx.p50)}x, ` +
  `added p99 ${ratio(a.llmesh.p99, a.nginx.p99)}x, rps@32 ${ratio(many.llmesh.rps, many.nginx.rps)}x`);
console.log(`CPU us per request at 32 connections: nginx ${cpuUs.nginx}, llmesh ${cpuUs.llmesh} (target <= 40), ` +
  `portkey ${cpuUs.portkey}`);
console.log(`llmesh/portkey: rps@32 ${ratio(many.llmesh.rps, many.portkey.rps)}x (target >= 20x); ` +
  `portkey/llmesh: added p50 ${ratio(a.portkey.p50, a.llmesh.p50)}x, added p99 ${ratio(a.portkey.p99, a.llmesh.p99)}x`);
const mib = (kib) => (kib / 1024).toFixed(1);
console.log(`RSS idle / under load: llmesh ${mib(llmeshIdle)} / ${mib(llmeshLoad)} MiB, ` +
  `portkey ${mib(portkeyIdle)} / ${mib(portkeyLoad)} MiB`);
const roundErrors = (rounds) => rounds.reduce((sum, r) => sum + r.errors, 0);
console.log(`errors (1 in flight, then 32, then 256): ${names.map((n) => roundErrors(oneRounds[n])).join(' ')}; ` +
  `${names.map((n) => many[n].errors).join(' ')}; ${names.map((n) => most[n].errors).join(' ')}`);
console.log(`results: ${out}`);
NODE

# Streaming, one in flight: the fake is scripted for every request from here on (10 content
# chunks 2 ms apart, the first 1 ms after the role chunk); stream_client.cjs alternates the legs
# over rounds, prints its table and writes the `streaming` section, merged into $out.
stream_chunks=10 stream_interval_ms=2 stream_first_chunk_ms=1
curl -sf -X POST -d "{\"chunks\":$stream_chunks,\"chunk_interval_ms\":$stream_interval_ms,\"first_chunk_ms\":$stream_first_chunk_ms}" \
  "http://127.0.0.1:$fake_port/_fake/script" >/dev/null
stream_per_round=60 stream_warmup=5
[[ "${2:-}" == "--smoke" ]] && stream_per_round=10 stream_warmup=2
node "$here/bench/stream_client.cjs" "$(node -e '
const [body, out, rounds, perRound, warmup, chunks, interval, first, fake, nginx, llmesh, portkey] = process.argv.slice(1);
console.log(JSON.stringify({ body, out, rounds: +rounds, per_round: +perRound, warmup: +warmup, chunks: +chunks,
  interval_ms: +interval, first_chunk_ms: +first, legs: [
    { name: "direct", label: "direct (fake)", port: +fake },
    { name: "nginx", label: "nginx proxy_pass", port: +nginx },
    { name: "llmesh", label: "llmesh-proxy", port: +llmesh },
    { name: "portkey", label: "portkey gateway", port: +portkey,
      headers: { "x-portkey-provider": "openai", "x-portkey-custom-host": `http://127.0.0.1:${fake}/v1` } }] }));
' "$work/body.json" "$work/streaming.json" "$rounds" "$stream_per_round" "$stream_warmup" "$stream_chunks" \
  "$stream_interval_ms" "$stream_first_chunk_ms" "$fake_port" "$nginx_port" "$llmesh_port" "$portkey_port")"
curl -sf -X POST "http://127.0.0.1:$fake_port/_fake/reset" >/dev/null
node -e '
const fs = require("fs");
const result = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
result.streaming = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
fs.writeFileSync(process.argv[1], JSON.stringify(result, null, 2) + "\n");
' "$out" "$work/streaming.json"

# Translation: CPU per request of an OpenAI client answered by an Anthropic provider versus
# passthrough, on one core, no I/O.
translation_json="$here/bench/results/translation-$(date -u +%Y%m%dT%H%M%SZ).json"
min_time=0.5
[[ "${2:-}" == "--smoke" ]] && min_time=0.01 && translation_json="$work/translation.json"
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
control_json="$here/bench/results/control-load-$(date -u +%Y%m%dT%H%M%SZ).json"
control_args=(--out "$control_json")
[[ "${2:-}" == "--smoke" ]] && control_args=(--quick --out "$work/control-load.json")
echo
"$bin/control_load" "${control_args[@]}" 2>"$work/control-load.log" ||
  { cat "$work/control-load.log" >&2; exit 1; }
