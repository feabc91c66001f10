// Turns one h2load run into the JSON line wrk_report.lua prints for wrk, so bench/run.sh treats
// HTTP/1.1 and h2 runs alike: {"requests","duration_us","rps","errors","p50_us","p90_us",
// "p99_us","mean_us"}. Counts and the duration come from h2load's summary, latencies (each
// request's start to the end of its response, in µs) from its --log-file.
//   node h2load_report.cjs H2LOAD_STDOUT_FILE H2LOAD_LOG_FILE
'use strict';
const fs = require('node:fs');

const [outFile, logFile] = process.argv.slice(2);
const out = fs.readFileSync(outFile, 'utf8');
const field = (re) => {
  const m = out.match(re);
  return m ? m.slice(1) : null;
};
const finished = field(/^finished in ([\d.]+)(us|ms|s),/m);
const counts = field(/^requests: (\d+) total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m);
const statuses = field(/^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m);
if (!finished || !counts || !statuses) {
  console.error(`h2load_report: no summary in h2load's output:\n${out}`);
  process.exit(1);
}
const durationUs = Number(finished[0]) * { us: 1, ms: 1e3, s: 1e6 }[finished[1]];
// `failed` holds the errored and timed-out requests; `done` the ones that got a response.
const [, done, failed] = counts.map(Number);
const ok = Number(statuses[0]);
const latencies = (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '')
  .split('\n').filter((l) => l !== '').map((l) => l.split('\t'))
  .filter(([, status]) => Number(status) > 0).map(([, , us]) => Number(us))
  .sort((a, b) => a - b);
// Nearest rank, as wrk's percentile().
const pct = (q) => (latencies.length ? latencies[Math.max(0, Math.ceil((q / 100) * latencies.length) - 1)] : 0);
const mean = latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : 0;
console.log(JSON.stringify({
  requests: done, duration_us: Math.round(durationUs),
  rps: Number((durationUs > 0 ? done / (durationUs / 1e6) : 0).toFixed(1)),
  errors: failed + (done - ok),
  p50_us: pct(50), p90_us: pct(90), p99_us: pct(99), mean_us: Number(mean.toFixed(1)),
}));
