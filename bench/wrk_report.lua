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

-- errors: wrk's five kinds summed (status: a non-2xx/3xx answer; timeout: none within 2 s), and
-- each kind in error_kinds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"rps":%.1f,"errors":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,'
      .. '"error_kinds":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
