# Shared by scripts/demo.sh and bench/run.sh: start llmesh binaries in the background and learn
# their ports from the JSON "listening" log line, with a bounded wait. Source this file.

LLMESH_PIDS=()

# llmesh_stop_all: SIGTERM every process started here, then SIGKILL what is left after 5s.
llmesh_stop_all() {
  local pid
  for pid in "${LLMESH_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${LLMESH_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for pid in "${LLMESH_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  LLMESH_PIDS=()
}

# llmesh_port LOG LISTENER: waits up to 10s for `"listener":"LISTENER"` in LOG; prints the port.
llmesh_port() {
  local log=$1 listener=$2 line
  for _ in $(seq 100); do
    line=$(grep -m1 "\"msg\":\"listening\".*\"listener\":\"$listener\"" "$log" 2>/dev/null || true)
    if [[ -n $line ]]; then
      sed -E 's/.*"address":"[^"]*:([0-9]+)".*/\1/' <<<"$line"
      return 0
    fi
    sleep 0.1
  done
  echo "timed out waiting for the $listener listener; log:" >&2
  cat "$log" >&2
  return 1
}

# llmesh_start LOG CMD...: starts CMD in the background with stderr to LOG.
llmesh_start() {
  local log=$1
  shift
  "$@" 2>"$log" >/dev/null &
  LLMESH_PIDS+=($!)
}

# llmesh_rss_kib PID: resident set size in KiB.
llmesh_rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
