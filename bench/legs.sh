# Sourced by bench/run.sh: how the legs are started, loaded and observed. A leg is one way to
# reach the fake provider (direct, nginx, llmesh, portkey); a load run prints one JSON line
# {"requests","duration_us","rps","errors","p50_us","p90_us","p99_us","mean_us"} whether wrk
# (HTTP/1.1) or h2load (h2) made it. Expects from run.sh: $here, $work, $res, the leg_port,
# leg_h2_port and leg_headers maps, and the pids of the proxies.

# make_body BYTES FILE: a chat completion request of exactly BYTES bytes (the filler pads it).
make_body() {
  node -e '
const bytes = Number(process.argv[1]);
const shape = (content) => JSON.stringify({ model: "bench", messages: [{ role: "user", content }] });
process.stdout.write(shape("x".repeat(bytes - shape("").length)));
' "$1" >"$2"
}

# start_nginx WORKERS FAKE_PORT: nginx with WORKERS workers in front of the fake, HTTP/1.1 on one
# port and h2c (prior knowledge) on another, both proxying over HTTP/1.1 keep-alive. nginx cannot
# report a kernel-chosen port, so a few random pairs are tried. Sets nginx_port and nginx_h2_port.
# Bodies up to 128 KB stay in memory (nginx's default, 16 KB, would write the 100 KB ones to a
# temporary file); connections are never recycled after N requests (the default 1000 would make
# wrk reconnect and h2load see GOAWAY mid-run).
start_nginx() {
  local workers=$1 fake_port=$2 port h2_port
  nginx_port="" nginx_h2_port=""
  for _ in $(seq 5); do
    port=$((20000 + RANDOM % 40000)) h2_port=$((20000 + RANDOM % 40000))
    [[ $port == "$h2_port" ]] && continue
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
  client_body_buffer_size 128k;
  keepalive_requests 1000000;
  upstream fake { server 127.0.0.1:$fake_port; keepalive 128; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:$port;
    listen 127.0.0.1:$h2_port http2;
    location / {
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGINX
    if nginx -c "$work/nginx.conf" -e "$work/nginx-error.log" 2>/dev/null; then
      nginx_port=$port nginx_h2_port=$h2_port
      return 0
    fi
  done
  echo "bench: could not start nginx" >&2
  return 1
}

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

# leg_rss_kib LEG: VmRSS of the proxy in KiB; nginx's is its master's plus its workers'.
leg_rss_kib() {
  local pid total=0
  for pid in $(leg_pids "$1"); do total=$((total + $(llmesh_rss_kib "$pid"))); done
  echo "$total"
}

# leg_hwm_kib LEG: VmHWM (peak RSS) of the proxy in KiB; nginx's is summed like its RSS.
leg_hwm_kib() {
  local pid total=0
  for pid in $(leg_pids "$1"); do total=$((total + $(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status"))); done
  echo "$total"
}

# load_wrk LEG CONNECTIONS SECONDS BODY: HTTP/1.1 load with wrk (2 threads, 1 for 1 connection).
load_wrk() {
  local threads=$(($2 > 1 ? 2 : 1))
  LLMESH_BENCH_BODY=$4 LLMESH_BENCH_HEADERS="${leg_headers[$1]:-}" \
    wrk -t"$threads" -c"$2" -d"$3s" -s "$here/bench/wrk_report.lua" \
    "http://127.0.0.1:${leg_port[$1]}/v1/chat/completions" | grep '^{'
}

# load_h2load LEG CONNECTIONS STREAMS REQUESTS BODY: h2 (prior knowledge) load with h2load, a
# fixed number of requests (its duration mode miscounts on nghttp2 1.52); latency percentiles
# come from its per-request log.
load_h2load() {
  local leg=$1 threads=$(($2 > 1 ? 2 : 1)) tag="$work/h2load.$1.$BASHPID"
  h2load -n "$4" -c "$2" -m "$3" -t "$threads" -d "$5" -H 'content-type: application/json' \
    -H 'authorization: Bearer bench-client' --log-file="$tag.log" \
    "http://127.0.0.1:${leg_h2_port[$leg]}/v1/chat/completions" >"$tag.out" 2>&1 || true
  node "$here/bench/h2load_report.cjs" "$tag.out" "$tag.log"
  rm -f "$tag.out" "$tag.log"
}

# h2_requests_for LEG CONNECTIONS STREAMS SECONDS BODY: how many requests fill about SECONDS at
# the rate a short pilot run measures (the pilot also warms the connection and the upstream pool).
# --smoke: 200, no pilot.
h2_requests_for() {
  if [[ $smoke == 1 ]]; then echo 200; return; fi
  local rps
  rps=$(json_field rps "$(load_h2load "$1" "$2" "$3" "$(($2 * $3 * 50))" "$5")")
  awk -v rps="$rps" -v s="$4" 'BEGIN { n = int(rps * s); print (n < 100 ? 100 : n) }'
}

# h2_probe LEG: prints "available" when one h2 (prior knowledge) request on the leg's h2 port
# answers 2xx, otherwise "h2 unavailable (...)" with what h2load saw.
h2_probe() {
  local out
  out=$(timeout 10 h2load -n 1 -c 1 -d "$work/body.1024.json" -H 'content-type: application/json' \
    -H 'authorization: Bearer bench-client' "http://127.0.0.1:${leg_h2_port[$1]}/v1/chat/completions" 2>&1 ||
    true)
  if grep -q '^status codes: 1 2xx' <<<"$out"; then
    echo available
  else
    echo "h2 unavailable ($(sed -nE 's/^requests: .* ([0-9]+ failed, [0-9]+ errored).*/h2load: \1/p' <<<"$out" |
      grep . || echo 'h2load: no answer'))"
  fi
}

# for_each_leg CMD LEG...: runs `CMD LEG` for every leg, one after another; with --smoke all at
# once (the smoke checks that everything runs, its figures mean nothing, and wrk's shortest run
# is a second).
for_each_leg() {
  local cmd=$1 leg pids=()
  shift
  if [[ $smoke == 1 ]]; then
    for leg in "$@"; do
      $cmd "$leg" &
      pids+=($!)
    done
    for leg in "${pids[@]}"; do wait "$leg"; done
  else
    for leg in "$@"; do $cmd "$leg"; done
  fi
}

# cpu_us_per_request TICKS RESULT_JSON: the proxy's CPU over a run divided by its requests.
cpu_us_per_request() {
  local requests
  requests=$(json_field requests "$2")
  awk -v t="$1" -v hz="$clk_tck" -v n="$requests" 'BEGIN { printf "%.1f\n", (n > 0 ? t * 1e6 / hz / n : 0) }'
}

# json_field KEY JSON_LINE: a number from a load run's one-line JSON.
json_field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/" <<<"$2"; }

# phase NAME: a progress line on stderr with the seconds since the run started.
phase() { echo "bench: [${SECONDS}s] $1" >&2; }
