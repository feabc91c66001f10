// Streaming client for bench/run.sh: sends streamed chat completions, one in flight, to every
// leg in turn (legs alternated over rounds, each leg on its own keep-alive connection) and
// records, per request, when each SSE `data:` event arrived (process.hrtime.bigint, from just
// before the request is written). The fake provider is scripted by run.sh (`chunks` content
// chunks, `chunk_interval_ms` apart, the first `first_chunk_ms` after the role chunk). The same
// client measures every leg, so its own cost cancels out of what is reported: differences from
// the direct leg. bench/README.md says exactly what is computed.
//   node stream_client.cjs CONFIG_JSON
// CONFIG_JSON: {"body": path, "out": path, "rounds": N, "per_round": M, "warmup": K,
//               "chunks": C, "interval_ms": I, "first_chunk_ms": F,
//               "legs": [{"name", "label", "port", "headers": {...}}]}  (legs[0] is direct)
// Prints a table and writes the summary (the `streaming` section of the proxy JSON) to `out`.
'use strict';
const fs = require('node:fs');
const http = require('node:http');

const config = JSON.parse(process.argv[2]);
const request = JSON.parse(fs.readFileSync(config.body, 'utf8'));
request.stream = true;
const body = Buffer.from(JSON.stringify(request));

// Why the last failed request of each leg failed (the skip note shows it).
const failures = {};

// One request; resolves to the arrival offsets (µs) of its data events, or null on any error.
function streamOnce(leg, agent) {
  return new Promise((resolve) => {
    const offsets = [];
    let pending = '';
    let start = 0n;
    const req = http.request({
      host: '127.0.0.1', port: leg.port, method: 'POST', path: '/v1/chat/completions', agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length,
                 Authorization: 'Bearer bench-client', ...(leg.headers || {}) },
    }, (res) => {
      if (res.statusCode !== 200) {
        let answer = '';
        res.on('data', (data) => (answer += data));
        res.on('end', () => {
          failures[leg.name] = `HTTP ${res.statusCode} ${answer.slice(0, 200)}`;
          resolve(null);
        });
        return;
      }
      res.on('data', (data) => {
        const now = process.hrtime.bigint();
        // An event is complete at its blank line; it counts from the read that completed it.
        pending += data.toString('latin1').replace(/\r\n/g, '\n');
        let end;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const event = pending.slice(0, end);
          pending = pending.slice(end + 2);
          if (/^data:/m.test(event)) offsets.push(Number(now - start) / 1e3);
        }
      });
      res.on('end', () => resolve(offsets));
      res.on('error', (e) => { failures[leg.name] = e.message; resolve(null); });
    });
    req.on('error', (e) => { failures[leg.name] = e.message; resolve(null); });
    req.setTimeout(10000, () => req.destroy());
    req.on('socket', (socket) => socket.setNoDelay(true));
    start = process.hrtime.bigint();
    req.end(body);
  });
}

async function main() {
  const agents = Object.fromEntries(config.legs.map((l) => [l.name,
    new http.Agent({ keepAlive: true, maxSockets: 1 })]));
  const samples = Object.fromEntries(config.legs.map((l) => [l.name, []]));
  const errors = Object.fromEntries(config.legs.map((l) => [l.name, 0]));
  for (const leg of config.legs) {
    for (let i = 0; i < config.warmup; i++) await streamOnce(leg, agents[leg.name]);
  }
  for (let round = 0; round < config.rounds; round++) {
    for (const leg of config.legs) {
      for (let i = 0; i < config.per_round; i++) {
        const offsets = await streamOnce(leg, agents[leg.name]);
        if (offsets === null) errors[leg.name]++;
        else samples[leg.name].push(offsets);
      }
    }
  }
  for (const agent of Object.values(agents)) agent.destroy();
  report(samples, errors);
}

const quantile = (xs, q) => {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
};
const round1 = (x) => (x === null ? null : Number(x.toFixed(1)));
const p50p99 = (xs) => ({ p50: round1(quantile(xs, 0.5)), p99: round1(quantile(xs, 0.99)) });

// Event 0 is the role chunk, events 1..chunks the content chunks, then the finish chunk and
// `data: [DONE]`.
function report(samples, errors) {
  const events = config.chunks + 3;
  const direct = config.legs[0].name;
  const notes = [];
  const measured = config.legs.filter((leg) => {
    const bad = samples[leg.name].filter((s) => s.length !== events).length;
    if (errors[leg.name] === 0 && bad === 0 && samples[leg.name].length > 0) return true;
    notes.push(`${leg.label}: skipped (${errors[leg.name]} failed request(s), ${bad} stream(s) ` +
      `without exactly ${events} data events${failures[leg.name] ? `; last failure: ${failures[leg.name]}` : ''})`);
    return false;
  });
  if (measured.length === 0 || measured[0].name !== direct) {
    console.error(`stream_client: the direct leg failed: ${notes.join('; ')}`);
    process.exit(1);
  }
  // Direct's schedule: the median arrival offset of each content chunk over all its requests.
  const directSchedule = [];
  for (let i = 1; i <= config.chunks; i++) {
    directSchedule[i] = quantile(samples[direct].map((s) => s[i]), 0.5);
  }
  const legs = {};
  for (const leg of measured) {
    const s = samples[leg.name];
    const firstEvent = s.map((o) => o[0]);  // the role-only chunk
    const ttft = s.map((o) => o[1]);  // the first content chunk: time to first token
    const lateness = [];  // each content chunk's arrival minus direct's median for that chunk
    const gapExcess = [];  // gap between consecutive content chunks minus the scripted interval
    for (const o of s) {
      for (let i = 1; i <= config.chunks; i++) lateness.push(o[i] - directSchedule[i]);
      for (let i = 2; i <= config.chunks; i++) gapExcess.push(o[i] - o[i - 1] - config.interval_ms * 1e3);
    }
    legs[leg.name] = { requests: s.length, ttft_us: p50p99(ttft), first_event_us: p50p99(firstEvent),
                       chunk_lateness_us: p50p99(lateness), gap_excess_us: p50p99(gapExcess) };
  }
  const added = {};
  for (const leg of measured.slice(1)) {
    const [l, d] = [legs[leg.name], legs[direct]];
    const minus = (a, b) => ({ p50: round1(a.p50 - b.p50), p99: round1(a.p99 - b.p99) });
    added[leg.name] = { ttft_us: minus(l.ttft_us, d.ttft_us), first_event_us: minus(l.first_event_us, d.first_event_us),
                        chunk_lateness_us: minus(l.chunk_lateness_us, d.chunk_lateness_us),
                        gap_excess_us: minus(l.gap_excess_us, d.gap_excess_us) };
  }
  const summary = {
    rounds: config.rounds, requests_per_leg: config.rounds * config.per_round, chunks: config.chunks,
    chunk_interval_ms: config.interval_ms, first_chunk_ms: config.first_chunk_ms,
    legs, added, errors, skipped: notes, target_added_ttft_p99_us: 100,
  };
  fs.writeFileSync(config.out, JSON.stringify(summary, null, 2) + '\n');
  const f = (x) => String(Math.round(x)).padStart(9);
  console.log(`\nstreaming (1 in flight, ${summary.requests_per_leg} streamed requests per leg over ` +
    `${config.rounds} alternating round(s); the fake sends a role chunk, ${config.chunks} content chunks ` +
    `${config.interval_ms} ms apart, the first ${config.first_chunk_ms} ms after the role chunk)`);
  console.log('                     TTFT p50  TTFT p99  added p50  added p99  1st evt p99  late p50  late p99  gap+ p50  gap+ p99');
  for (const leg of measured) {
    const l = legs[leg.name];
    const a = added[leg.name] || { ttft_us: { p50: 0, p99: 0 } };
    console.log(`${leg.label.padEnd(20)} ${f(l.ttft_us.p50)} ${f(l.ttft_us.p99)} ${f(a.ttft_us.p50)}  ` +
      `${f(a.ttft_us.p99)}    ${f(l.first_event_us.p99)} ${f(l.chunk_lateness_us.p50)} ${f(l.chunk_lateness_us.p99)} ` +
      `${f(l.gap_excess_us.p50)} ${f(l.gap_excess_us.p99)}`);
  }
  console.log('(us; TTFT: first content chunk; 1st evt: the role-only chunk before it, which llmesh holds until content arrives (its commit point); late: content chunk arrival minus direct\'s median for that chunk; ' +
    'gap+: gap between content chunks minus the scripted interval)');
  for (const note of notes) console.log(note);
  if (added.llmesh) {
    console.log(`llmesh streaming: added TTFT p99 ${added.llmesh.ttft_us.p99} us (target <= 100), ` +
      `added chunk lateness p99 ${added.llmesh.chunk_lateness_us.p99} us, added gap+ p99 ${added.llmesh.gap_excess_us.p99} us`);
  }
}
main();
