-- wrk script for the llmesh benchmarks: POSTs the body in $LLMESH_BENCH_BODY and prints one
-- JSON line of results (latencies in microseconds) after the run.
local f = assert(io.open(os.getenv("LLMESH_BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-client"
-- Per-leg extra headers from $LLMESH_BENCH_HEADERS: "Name: value" lines (the Portkey leg names
-- its provider and the fake's address this way).
for name, value in (os.getenv("LLMESH_BENCH_HEADERS") or ""):gmatch("([^:\n]+):%s*([^\n]*)") do
  wrk.headers[name] = value
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"rps":%.1f,"errors":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6), errors,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
