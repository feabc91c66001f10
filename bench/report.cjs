// The data plane's report for bench/run.sh: reads every figure run.sh measured (one file each in
// RESULTS_DIR), writes OUT.json (every figure) and OUT.md (the table of ratios against nginx and
// Portkey with issue 5's acceptance points, then the per-leg tables), and prints the per-leg
// tables and the ratio table. bench/README.md explains every column and key.
//   node report.cjs RESULTS_DIR OUT META_JSON
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [dir, out, metaJson] = process.argv.slice(2);
const meta = JSON.parse(metaJson);
const LEGS = ['direct', 'nginx', 'llmesh', 'portkey'];
const PROXIES = LEGS.slice(1);
const H2_LEGS = ['direct', 'nginx', 'llmesh'];
const H2_SHAPES = { c4x8: '4 connections x 8 streams', c32x1: '32 connections x 1 stream' };
const LABELS = { direct: 'direct (fake)', nginx: 'nginx proxy_pass', llmesh: 'llmesh-proxy', portkey: 'portkey gateway' };
// Issue 5's acceptance points.
const TARGET = {
  added_p50_vs_nginx: 1.25, added_p99_vs_nginx: 1.5, rps_vs_nginx: 0.9, rps_vs_portkey: 20,
  cpu_us: 40, rss_idle_mib: 12, rss_load_mib: 30, added_ttft_p99_us: 100,
};
// A soak "grows" when its RSS at the end exceeds the settled RSS by more than this; allocator
// caches settle in page-sized steps, and 1 MiB over a 5-minute soak at thousands of requests/s
// still catches a leak of a fraction of a byte per request.
const SOAK_GROWTH_TOLERANCE_KIB = 1024;
// A leg is upstream-bound when its requests/s is within this share of the fake's own ceiling.
const UPSTREAM_BOUND_SHARE = 0.9;

const file = (name) => path.join(dir, name);
const exists = (name) => fs.existsSync(file(name));
const text = (name) => fs.readFileSync(file(name), 'utf8').trim();
const json = (name) => JSON.parse(text(name));
const jsonLines = (name) => text(name).split('\n').map((l) => JSON.parse(l));
const num = (name) => (exists(name) ? Number(text(name)) : null);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round1 = (x) => (x === null || x === undefined ? null : Number(x.toFixed(1)));
const ratioOf = (a, b) => (a !== null && b !== null && b > 0 ? Number((a / b).toFixed(2)) : null);

// One in flight over alternating rounds: each figure is the median over the rounds, and a proxy's
// added latency the median of (proxy - direct) over the same rounds (none without a direct leg).
function oneInFlight(prefix, legs) {
  const rounds = Object.fromEntries(legs.map((l) => [l, jsonLines(`${prefix}.${l}.jsonl`)]));
  const medianLeg = (rs) => Object.fromEntries(Object.keys(rs[0]).map((k) => [k, median(rs.map((r) => r[k]))]));
  const medians = Object.fromEntries(legs.map((l) => [l, medianLeg(rounds[l])]));
  if (!legs.includes('direct')) return { ...medians, rounds };
  const added = (l, q) => rounds[l].map((r, i) => r[q] - rounds.direct[i][q]);
  const per = (f) => Object.fromEntries(legs.filter((l) => l !== 'direct').map((l) => [l, f(l)]));
  return {
    ...medians,
    added_us: per((l) => ({ p50: median(added(l, 'p50_us')), p99: median(added(l, 'p99_us')) })),
    added_us_per_round: per((l) => ({ p50: added(l, 'p50_us'), p99: added(l, 'p99_us') })),
    rounds,
  };
}
const loadRuns = (prefix, legs) => Object.fromEntries(legs.map((l) => [l, json(`${prefix}.${l}.json`)]));
const cpuOf = (prefix, legs) => Object.fromEntries(legs.filter((l) => l !== 'direct').map((l) => [l, num(`${prefix}.${l}.cpu`)]));
// The fake's own requests/s at 32 connections over HTTP/1.1 (the direct leg) and each leg's share
// of it; every proxy reaches the fake over HTTP/1.1, so it bounds the h2 legs too.
function ceiling(fake, runs) {
  const share = Object.fromEntries(Object.keys(runs).filter((l) => LABELS[l]).map((l) => [l, ratioOf(runs[l].rps, fake)]));
  const upstreamBound = Object.keys(share).filter((l) => l !== 'direct' && share[l] >= UPSTREAM_BOUND_SHARE);
  return { fake_rps_at_32: fake, share, upstream_bound: upstreamBound };
}
const result = {
  stamp: meta.stamp, smoke: meta.smoke, commit: meta.commit, workers: meta.workers, seconds: meta.seconds,
  size_seconds: meta.size_seconds, rounds: meta.rounds, body_bytes: 1024,
  machine: { cores: meta.cores, load_average: meta.load_average },
  one_in_flight: oneInFlight('one.h1.1024', LEGS),
  thirty_two_connections: loadRuns('c32.h1.1024', LEGS),
  two_hundred_fifty_six_connections: loadRuns('c256.h1.1024', LEGS),
  cpu_us_per_request: { ...cpuOf('c32.h1.1024', LEGS), target_llmesh: TARGET.cpu_us },
  cpu_us_per_request_at_256: cpuOf('c256.h1.1024', LEGS),
  rss_kib: Object.fromEntries(PROXIES.map((l) => [l, { idle: num(`rss.idle.${l}`), under_load: num(`rss.load.1024.${l}`),
                                                       peak: num(`rss.peak.${l}`) }])),
  body_sizes: {},
  upstream_ceiling: {},
  h2: { status: Object.fromEntries(H2_LEGS.map((l) => [l, text(`h2.${l}.status`)])) },
  streaming: exists('streaming.json') ? json('streaming.json') : null,
  soak: { seconds: meta.soak_seconds, interval_seconds: meta.soak_interval_seconds,
          growth_tolerance_kib: SOAK_GROWTH_TOLERANCE_KIB },
};
result.upstream_ceiling['1024'] = ceiling(result.thirty_two_connections.direct.rps, result.thirty_two_connections);
for (const size of meta.body_sizes.slice(1)) {
  const many = loadRuns(`c32.h1.${size}`, LEGS);
  result.body_sizes[size] = { one_in_flight: oneInFlight(`one.h1.${size}`, LEGS), thirty_two_connections: many,
                              cpu_us_per_request: cpuOf(`c32.h1.${size}`, LEGS),
                              rss_kib_under_load: Object.fromEntries(PROXIES.map((l) => [l, num(`rss.load.${size}.${l}`)])) };
  result.upstream_ceiling[size] = ceiling(many.direct.rps, many);
}

// h2: only the legs that answered the probe; a proxy's added latency needs the direct h2 leg.
const h2Legs = H2_LEGS.filter((l) => result.h2.status[l] === 'available');
if (h2Legs.length > 0) {
  result.h2.one_in_flight = oneInFlight('one.h2.1024', h2Legs);
  for (const shape of Object.keys(H2_SHAPES)) {
    result.h2[shape] = loadRuns(`${shape}.h2.1024`, h2Legs);
    result.h2[shape].cpu_us_per_request = cpuOf(`${shape}.h2.1024`, h2Legs);
  }
  result.upstream_ceiling.h2 = Object.fromEntries(Object.keys(H2_SHAPES).map(
    (shape) => [shape, ceiling(result.thirty_two_connections.direct.rps, result.h2[shape])]));
}

// The soak: RSS samples under load; "settled" is the first sample a fifth of the way in (at most
// a minute), after the pools and buffers have filled; growth is the end minus settled.
for (const leg of ['llmesh', 'nginx']) {
  if (!exists(`soak.${leg}.tsv`)) continue;
  const samples = text(`soak.${leg}.tsv`).split('\n').map((l) => l.split(' ').map(Number));
  const settleAt = Math.min(60, meta.soak_seconds / 5);
  const settled = (samples.find(([t]) => t >= settleAt) || samples[samples.length - 1])[1];
  const end = samples[samples.length - 1][1];
  const run = json(`soak.${leg}.json`);
  result.soak[leg] = {
    start_kib: samples[0][1], settled_kib: settled, end_kib: end, max_kib: Math.max(...samples.map(([, k]) => k)),
    after_kib: num(`soak.${leg}.after`), growth_kib: end - settled,
    requests: run.requests, rps: run.rps, errors: run.errors, error_kinds: run.error_kinds, p99_us: run.p99_us, samples,
  };
}
result.llmesh_vs_portkey = {
  rps_at_32: ratioOf(result.thirty_two_connections.llmesh.rps, result.thirty_two_connections.portkey.rps),
  target_rps_at_32: TARGET.rps_vs_portkey,
};

// The table of ratios: one row per figure; rows with a target are issue 5's acceptance points.
const rows = [];
const row = (figure, values, target = null, pass = null, note = '') => {
  const [l, n, p] = [values.llmesh ?? null, values.nginx ?? null, values.portkey ?? null];
  rows.push({ figure, llmesh: l, nginx: n, portkey: p, llmesh_vs_nginx: ratioOf(l, n), llmesh_vs_portkey: ratioOf(l, p),
              target, result: pass === null ? (target ? 'n/a' : note) : (pass ? 'pass' : 'FAIL') + (note ? ` (${note})` : '') });
};
const bound = (size, leg) => (result.upstream_ceiling[size]?.upstream_bound || []).includes(leg);
const boundNote = (size) => ['llmesh', 'nginx'].filter((l) => bound(size, l)).map((l) => `${l} upstream-bound`).join(', ');
const sizeLabel = (size) => `${size / 1024} KB`;
{
  const a = result.one_in_flight.added_us;
  const m = result.thirty_two_connections;
  const has = (x) => x !== null && x !== undefined;
  row('added latency p50, 1 in flight, 1 KB, HTTP/1.1 (µs)', { llmesh: a.llmesh.p50, nginx: a.nginx.p50, portkey: a.portkey.p50 },
      `≤ ${TARGET.added_p50_vs_nginx}× nginx`, a.llmesh.p50 <= TARGET.added_p50_vs_nginx * a.nginx.p50);
  row('added latency p99, 1 in flight, 1 KB, HTTP/1.1 (µs)', { llmesh: a.llmesh.p99, nginx: a.nginx.p99, portkey: a.portkey.p99 },
      `≤ ${TARGET.added_p99_vs_nginx}× nginx`, a.llmesh.p99 <= TARGET.added_p99_vs_nginx * a.nginx.p99);
  const rps = { llmesh: m.llmesh.rps, nginx: m.nginx.rps, portkey: m.portkey.rps };
  row('requests/s at 32 connections, 1 KB, HTTP/1.1', rps, `≥ ${TARGET.rps_vs_nginx}× nginx`,
      rps.llmesh >= TARGET.rps_vs_nginx * rps.nginx, boundNote('1024'));
  row('requests/s at 32 connections, 1 KB, HTTP/1.1', rps, `≥ ${TARGET.rps_vs_portkey}× Portkey`,
      rps.llmesh >= TARGET.rps_vs_portkey * rps.portkey, boundNote('1024'));
  row('p99 at 32 connections, 1 KB, HTTP/1.1 (µs)', { llmesh: m.llmesh.p99_us, nginx: m.nginx.p99_us, portkey: m.portkey.p99_us });
  const c = result.cpu_us_per_request;
  row('CPU per request at 32 connections, 1 KB (µs)', c, `≤ ${TARGET.cpu_us} µs`, has(c.llmesh) ? c.llmesh <= TARGET.cpu_us : null);
  const mw = result.two_hundred_fifty_six_connections;
  row('requests/s at 256 connections, 1 KB, HTTP/1.1', { llmesh: mw.llmesh.rps, nginx: mw.nginx.rps, portkey: mw.portkey.rps });
  row('p99 at 256 connections, 1 KB, HTTP/1.1 (µs)', { llmesh: mw.llmesh.p99_us, nginx: mw.nginx.p99_us, portkey: mw.portkey.p99_us });
  const mib = (k) => (has(k) ? Number((k / 1024).toFixed(1)) : null);
  const rss = result.rss_kib;
  row('RSS idle (MiB)', Object.fromEntries(PROXIES.map((l) => [l, mib(rss[l].idle)])), `≤ ${TARGET.rss_idle_mib} MiB`,
      has(rss.llmesh.idle) ? rss.llmesh.idle <= TARGET.rss_idle_mib * 1024 : null);
  row('RSS under load, 32 connections (MiB)', Object.fromEntries(PROXIES.map((l) => [l, mib(rss[l].under_load)])),
      `≤ ${TARGET.rss_load_mib} MiB`, has(rss.llmesh.under_load) ? rss.llmesh.under_load <= TARGET.rss_load_mib * 1024 : null);
  row('peak RSS over the whole run, VmHWM (MiB)', Object.fromEntries(PROXIES.map((l) => [l, mib(rss[l].peak)])));
  const s = result.soak;
  if (s.llmesh) {
    row(`RSS at the end of a ${s.seconds} s soak, 32 connections (MiB)`, { llmesh: mib(s.llmesh.end_kib), nginx: mib(s.nginx?.end_kib) });
    row(`RSS growth over the soak, end − settled (MiB)`, { llmesh: mib(s.llmesh.growth_kib), nginx: mib(s.nginx?.growth_kib) },
        `≤ ${SOAK_GROWTH_TOLERANCE_KIB / 1024} MiB (no growth)`, s.llmesh.growth_kib <= SOAK_GROWTH_TOLERANCE_KIB,
        meta.soak_seconds < 300 ? `a ${s.seconds} s soak, not 5 minutes` : '');
  }
  const st = result.streaming?.added || {};
  row('streaming: added time to first token p99 (µs)', { llmesh: st.llmesh?.ttft_us.p99, nginx: st.nginx?.ttft_us.p99,
                                                         portkey: st.portkey?.ttft_us.p99 },
      `≤ ${TARGET.added_ttft_p99_us} µs`, st.llmesh ? st.llmesh.ttft_us.p99 <= TARGET.added_ttft_p99_us : null);
  row('streaming: added time to first token p50 (µs)', { llmesh: st.llmesh?.ttft_us.p50, nginx: st.nginx?.ttft_us.p50,
                                                         portkey: st.portkey?.ttft_us.p50 });
  row('streaming: added gap between chunks p99 (µs)', { llmesh: st.llmesh?.gap_excess_us.p99, nginx: st.nginx?.gap_excess_us.p99,
                                                        portkey: st.portkey?.gap_excess_us.p99 });
  for (const size of meta.body_sizes.slice(1)) {
    const b = result.body_sizes[size];
    const ba = b.one_in_flight.added_us;
    row(`added latency p50, 1 in flight, ${sizeLabel(size)}, HTTP/1.1 (µs)`, { llmesh: ba.llmesh.p50, nginx: ba.nginx.p50, portkey: ba.portkey.p50 });
    row(`added latency p99, 1 in flight, ${sizeLabel(size)}, HTTP/1.1 (µs)`, { llmesh: ba.llmesh.p99, nginx: ba.nginx.p99, portkey: ba.portkey.p99 });
    const bm = b.thirty_two_connections;
    row(`requests/s at 32 connections, ${sizeLabel(size)}, HTTP/1.1`, { llmesh: bm.llmesh.rps, nginx: bm.nginx.rps, portkey: bm.portkey.rps },
        null, null, boundNote(size));
    row(`CPU per request at 32 connections, ${sizeLabel(size)} (µs)`, b.cpu_us_per_request);
    row(`RSS under load, 32 connections, ${sizeLabel(size)} (MiB)`,
        Object.fromEntries(PROXIES.map((l) => [l, mib(b.rss_kib_under_load[l])])));
  }
  for (const size of meta.body_sizes) {
    const c = result.upstream_ceiling[size];
    row(`share of the fake's own requests/s at 32 connections (${Math.round(c.fake_rps_at_32)}), ${sizeLabel(size)} (%)`,
        Object.fromEntries(PROXIES.map((l) => [l, c.share[l] === null ? null : Number((c.share[l] * 100).toFixed(1))])),
        null, null, c.upstream_bound.length ? `upstream-bound: ${c.upstream_bound.join(', ')}` : '');
  }
  const h2 = result.h2;
  if (h2.status.llmesh !== 'available' || h2.status.nginx !== 'available') {
    const why = H2_LEGS.filter((l) => h2.status[l] !== 'available').map((l) => `${l}: ${h2.status[l]}`).join('; ');
    rows.push({ figure: 'h2 (prior knowledge), 1 KB', llmesh: null, nginx: null, portkey: null, llmesh_vs_nginx: null,
                llmesh_vs_portkey: null, target: null, result: why });
  }
  if (h2.status.llmesh === 'available' && h2.status.nginx === 'available') {
    const ha = h2.one_in_flight.added_us;
    if (ha) {
      row('added latency p50, 1 in flight, 1 KB, h2 (µs)', { llmesh: ha.llmesh.p50, nginx: ha.nginx.p50 });
      row('added latency p99, 1 in flight, 1 KB, h2 (µs)', { llmesh: ha.llmesh.p99, nginx: ha.nginx.p99 });
    } else {
      row('latency p50, 1 in flight, 1 KB, h2 (µs; direct h2 unavailable)', { llmesh: h2.one_in_flight.llmesh.p50_us,
                                                                                nginx: h2.one_in_flight.nginx.p50_us });
    }
    for (const [shape, label] of Object.entries(H2_SHAPES)) {
      row(`requests/s at ${label}, 1 KB, h2`, { llmesh: h2[shape].llmesh.rps, nginx: h2[shape].nginx.rps }, null, null,
          result.upstream_ceiling.h2[shape].upstream_bound.map((l) => `${l} upstream-bound`).join(', '));
      row(`p99 at ${label}, 1 KB, h2 (µs)`, { llmesh: h2[shape].llmesh.p99_us, nginx: h2[shape].nginx.p99_us });
    }
    row(`CPU per request at ${H2_SHAPES.c4x8}, 1 KB, h2 (µs)`, h2.c4x8.cpu_us_per_request);
  }
}
result.table = rows;

// Text output: the per-leg tables, then the ratio table (printed last, and the markdown file).
const lines = [];
const f = (x, w = 9) => (x === null || x === undefined ? '-' : String(Math.round(x))).padStart(w);
const header = `llmesh bench ${meta.stamp}${meta.smoke ? ' (smoke: legs run at once, figures meaningless)' : ''}: ` +
  `${meta.workers} worker(s) for nginx and llmesh, Portkey one Node.js process, fake provider 2 workers; ` +
  `${meta.cores} cores, load average ${meta.load_average.start} at the start, ${meta.load_average.end} at the end; commit ${meta.commit}`;
const legTable = (title, one, many, manyLabel, cpu, share, extra) => {
  lines.push('', title);
  lines.push(`                       p50 us    p99 us  added p50  added p99  ${manyLabel.padStart(8)}  p99 us   CPU us  ceiling${extra ? extra.head : ''}`);
  for (const leg of Object.keys(many)) {
    if (!LABELS[leg]) continue;
    const a = leg === 'direct' ? { p50: 0, p99: 0 } : (one.added_us ? one.added_us[leg] : { p50: null, p99: null });
    lines.push(`${LABELS[leg].padEnd(20)} ${f(one[leg].p50_us)} ${f(one[leg].p99_us)} ${f(a.p50)}  ${f(a.p99)} ` +
      `${f(many[leg].rps)} ${f(many[leg].p99_us)} ${leg === 'direct' ? '       -' : (cpu[leg] ?? 0).toFixed(1).padStart(8)} ` +
      `${f(share[leg] === null ? null : share[leg] * 100, 7)}%${extra ? extra.row(leg) : ''}`);
  }
  const errors = (rs) => rs.reduce((n, r) => n + r.errors, 0);
  lines.push(`errors (1 in flight; ${manyLabel}${extra ? extra.errorsLabel : ''}): ` +
    Object.keys(many).filter((l) => LABELS[l]).map((l) => `${l} ${errors(one.rounds[l] || [])}; ${many[l].errors}` +
      (extra ? `; ${extra.errors(l)}` : '')).join(', '));
};
lines.push(header);
const most = result.two_hundred_fifty_six_connections;
legTable(`1 KB, HTTP/1.1 (1 in flight: median of ${meta.rounds} alternating round(s), ${meta.seconds} s per leg in all; ` +
         `${meta.seconds} s per load run)`, result.one_in_flight, result.thirty_two_connections, 'rps@32',
         result.cpu_us_per_request, result.upstream_ceiling['1024'].share,
         { head: '   rps@256  p99@256 us', row: (l) => ` ${f(most[l].rps)}  ${f(most[l].p99_us, 10)}`,
           errorsLabel: '; 256', errors: (l) => most[l].errors });
for (const size of meta.body_sizes.slice(1)) {
  const b = result.body_sizes[size];
  legTable(`${sizeLabel(size)}, HTTP/1.1 (${meta.size_seconds} s per leg and run)`, b.one_in_flight, b.thirty_two_connections,
           'rps@32', b.cpu_us_per_request, result.upstream_ceiling[size].share);
}
for (const l of H2_LEGS) if (result.h2.status[l] !== 'available') lines.push('', `h2 ${l}: ${result.h2.status[l]}`);
if (h2Legs.length > 0) {
  const h2 = result.h2;
  legTable(`1 KB, h2 prior knowledge (h2load; 1 in flight: median of ${meta.rounds} alternating round(s); ` +
           `32 streams as ${H2_SHAPES.c4x8} (CPU, ceiling) and as ${H2_SHAPES.c32x1})`, h2.one_in_flight, h2.c4x8,
           'rps@4x8', h2.c4x8.cpu_us_per_request, result.upstream_ceiling.h2.c4x8.share,
           { head: '  rps@32x1  p99@32x1 us', row: (l) => ` ${f(h2.c32x1[l].rps)}  ${f(h2.c32x1[l].p99_us, 11)}`,
             errorsLabel: '; 32x1', errors: (l) => h2.c32x1[l].errors });
}
const mibOf = (k) => (k === null || k === undefined ? '-' : (k / 1024).toFixed(1));
lines.push('', `RSS MiB (idle / under load at 32 connections with ${meta.body_sizes.map(sizeLabel).join(', ')} / peak): ` +
  PROXIES.map((l) => `${l} ${mibOf(result.rss_kib[l].idle)} / ${mibOf(result.rss_kib[l].under_load)}, ` +
    meta.body_sizes.slice(1).map((size) => mibOf(result.body_sizes[size].rss_kib_under_load[l])).join(', ') +
    ` / ${mibOf(result.rss_kib[l].peak)}`).join('; ') + ' (nginx: master + workers)');
for (const leg of ['llmesh', 'nginx']) {
  const s = result.soak[leg];
  if (!s) continue;
  const kinds = s.errors > 0 && s.error_kinds ?
    ` (${Object.entries(s.error_kinds).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')})` : '';
  lines.push(`soak ${leg} (${meta.soak_seconds} s, 32 connections, ${Math.round(s.rps)} requests/s, ${s.errors} errors${kinds}): RSS MiB ` +
    `start ${mibOf(s.start_kib)}, settled ${mibOf(s.settled_kib)}, end ${mibOf(s.end_kib)}, max ${mibOf(s.max_kib)}, ` +
    `after ${mibOf(s.after_kib)}; growth ${(s.growth_kib / 1024).toFixed(2)} MiB over ${s.samples.length} samples`);
}
// Cells: figures of 100 or more as integers, smaller ones to one decimal, ratios to two.
const cell = (x) => (x === null || x === undefined ? '-' : String(Math.abs(x) >= 100 ? Math.round(x) : Number(x.toFixed(1))));
const ratioCell = (x) => (x === null || x === undefined ? '-' : `${x}×`);
const md = ['| figure | llmesh | nginx | portkey | llmesh/nginx | llmesh/portkey | target | result |',
            '|---|---:|---:|---:|---:|---:|---|---|',
            ...rows.map((r) => `| ${r.figure} | ${cell(r.llmesh)} | ${cell(r.nginx)} | ${cell(r.portkey)} | ` +
              `${ratioCell(r.llmesh_vs_nginx)} | ${ratioCell(r.llmesh_vs_portkey)} | ${r.target ?? ''} | ${r.result} |`)];
const passed = rows.filter((r) => r.target && r.result.startsWith('pass')).length;
const targeted = rows.filter((r) => r.target).length;
const summary = `acceptance: ${passed} of ${targeted} points pass` +
  (meta.smoke ? ' (a smoke run: not a measurement)' : '');
result.acceptance = { passed, points: targeted };

fs.writeFileSync(`${out}.json`, JSON.stringify(result, null, 2) + '\n');
fs.writeFileSync(`${out}.md`, [`# ${header}`, '', ...md, '', summary, '', '```', ...lines.slice(1), '```', ''].join('\n'));
console.log(['', ...lines, '', ...md, '', summary, `results: ${out}.json, ${out}.md`].join('\n'));
