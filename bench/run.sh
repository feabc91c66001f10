#!/usr/bin/env bash
# `make bench`: side-by-side on loopback — the fake provider direct, nginx proxy_pass (the
# pure-proxy floor) and llmesh-proxy, each with the same worker count. Measures latency at one
# connection in flight (legs alternated over several rounds; the median round is reported, so a
# burst of machine noise lands in one round instead of one leg), throughput at 32 connections,
# and llmesh's RSS idle and under load. Then the provider layer's CPU per request with and
# without translation (translation_bench, Google Benchmark), and the control plane under 1,000
# simulated sidecars (control_load: time for a route change to be ACKed by all, telemetry
# reports/s absorbed, llmesh-control's RSS; see bench/README.md).
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

run_wrk() {  # run_wrk PORT CONNECTIONS THREADS [SECONDS]
  wrk -t"$3" -c"$2" -d"${4:-$seconds}s" -s "$here/bench/wrk_report.lua" "http://127.0.0.1:$1/v1/chat/completions" |
    grep '^{'
}

rss_idle=$(llmesh_rss_kib "$llmesh_pid")
declare -A one thirty_two
for leg in direct nginx llmesh; do
  case $leg in direct) port=$fake_port ;; nginx) port=$nginx_port ;; llmesh) port=$llmesh_port ;; esac
  run_wrk "$port" 1 1 1 >/dev/null  # warm-up: connections, pools, caches
  one[$leg]="["
done
for round in $(seq "$rounds"); do
  for leg in direct nginx llmesh; do
    case $leg in direct) port=$fake_port ;; nginx) port=$nginx_port ;; llmesh) port=$llmesh_port ;; esac
    [[ $round -gt 1 ]] && one[$leg]+=","
    one[$leg]+=$(run_wrk "$port" 1 1 "$round_seconds")
  done
done
for leg in direct nginx llmesh; do one[$leg]+="]"; done
for leg in direct nginx llmesh; do
  case $leg in direct) port=$fake_port ;; nginx) port=$nginx_port ;; llmesh) port=$llmesh_port ;; esac
  sampler=""
  if [[ $leg == llmesh ]]; then
    # RSS under load: sampled half-way through the 32-connection run.
    ( sleep "$(awk "BEGIN{print $seconds/2}")"; llmesh_rss_kib "$llmesh_pid" >"$work/rss_load" ) &
    sampler=$!
  fi
  thirty_two[$leg]=$(run_wrk "$port" 32 2)
  [[ -n $sampler ]] && wait "$sampler"
done
rss_load=$(cat "$work/rss_load" 2>/dev/null || echo 0)

mkdir -p "$here/bench/results"
out="$here/bench/results/proxy-$(date -u +%Y%m%dT%H%M%SZ).json"
[[ "${2:-}" == "--smoke" ]] && out="$work/smoke.json"
node - "$out" "$rss_idle" "$rss_load" "$workers" "$seconds" \
  "${one[direct]}" "${one[nginx]}" "${one[llmesh]}" \
  "${thirty_two[direct]}" "${thirty_two[nginx]}" "${thirty_two[llmesh]}" <<'NODE'
const [out, rssIdle, rssLoad, workers, seconds, ...legs] = process.argv.slice(2);
const [d1Rounds, n1Rounds, l1Rounds, d32, n32, l32] = legs.map((s) => JSON.parse(s));
// One figure per quantity: the median over the rounds (each round ran every leg once).
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const medianLeg = (rounds) => Object.fromEntries(
  Object.keys(rounds[0]).map((k) => [k, median(rounds.map((r) => r[k]))]));
const [d1, n1, l1] = [d1Rounds, n1Rounds, l1Rounds].map(medianLeg);
const addedRounds = (rounds, q) => rounds.map((r, i) => r[q] - d1Rounds[i][q]);
const addedFigure = (rounds, q) => median(addedRounds(rounds, q));
const result = {
  workers: Number(workers), seconds: Number(seconds), rounds: d1Rounds.length, body_bytes: 1024,
  one_in_flight: { direct: d1, nginx: n1, llmesh: l1,
    added_us: { nginx: { p50: addedFigure(n1Rounds, 'p50_us'), p99: addedFigure(n1Rounds, 'p99_us') },
                llmesh: { p50: addedFigure(l1Rounds, 'p50_us'), p99: addedFigure(l1Rounds, 'p99_us') } },
    added_us_per_round: { nginx: { p50: addedRounds(n1Rounds, 'p50_us'), p99: addedRounds(n1Rounds, 'p99_us') },
                          llmesh: { p50: addedRounds(l1Rounds, 'p50_us'), p99: addedRounds(l1Rounds, 'p99_us') } },
    rounds: { direct: d1Rounds, nginx: n1Rounds, llmesh: l1Rounds } },
  thirty_two_connections: { direct: d32, nginx: n32, llmesh: l32 },
  llmesh_rss_kib: { idle: Number(rssIdle), under_load: Number(rssLoad) },
};
require('fs').writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
const f = (x) => String(Math.round(x)).padStart(9);
console.log(`llmesh bench (${workers} worker(s) each, ${seconds}s per leg, 1 in flight over ` +
  `${d1Rounds.length} alternating round(s), 1 KB body, HTTP/1.1)`);
console.log('                       p50 us    p99 us  added p50  added p99    rps@32   p99@32 us');
for (const [name, one, many, rounds] of [['direct (fake)', d1, d32, d1Rounds], ['nginx proxy_pass', n1, n32, n1Rounds],
                                         ['llmesh-proxy', l1, l32, l1Rounds]]) {
  const added = rounds === d1Rounds ? { p50: 0, p99: 0 } : result.one_in_flight.added_us[name.startsWith('nginx') ? 'nginx' : 'llmesh'];
  console.log(`${name.padEnd(20)} ${f(one.p50_us)} ${f(one.p99_us)} ${f(added.p50)}  ` +
    `${f(added.p99)} ${f(many.rps)} ${f(many.p99_us)}`);
}
const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
const a = result.one_in_flight.added_us;
console.log(`added p50 per round: nginx ${result.one_in_flight.added_us_per_round.nginx.p50.join(' ')}; ` +
  `llmesh ${result.one_in_flight.added_us_per_round.llmesh.p50.join(' ')}`);
console.log(`llmesh/nginx: added p50 ${ratio(a.llmesh.p50, a.nginx.p50)}x, ` +
  `added p99 ${ratio(a.llmesh.p99, a.nginx.p99)}x, rps@32 ${ratio(l32.rps, n32.rps)}x`);
console.log(`llmesh RSS: idle ${(rssIdle / 1024).toFixed(1)} MiB, under load ${(rssLoad / 1024).toFixed(1)} MiB`);
const roundErrors = (rounds) => rounds.reduce((sum, r) => sum + r.errors, 0);
console.log(`errors: ${[roundErrors(d1Rounds), roundErrors(n1Rounds), roundErrors(l1Rounds), d32.errors, n32.errors,
  l32.errors].join(' ')}`);
console.log(`results: ${out}`);
NODE

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
