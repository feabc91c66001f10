// Drives the `make demo` traffic: a fixed number of concurrent clients call the sidecar through
// scripted phases of the primary provider, then print what the clients saw and what the
// sidecar's metrics say. Env: PROXY_URL, ADMIN_URL, PRIMARY_URL (fake provider base URLs).
const proxy = process.env.PROXY_URL;
const admin = process.env.ADMIN_URL;
const primaryControl = process.env.PRIMARY_URL.replace(/\/v1$/, '');
const CLIENTS = 8;

const phases = [
  { name: 'healthy', seconds: 3, script: null },
  { name: 'primary outage (503)', seconds: 6, script: { status: 503, error_code: 'server_is_overloaded' } },
  { name: 'recovered', seconds: 8, script: null },
  { name: 'primary drops 5%', seconds: 8, script: { status: 500, fail_probability: 0.05 } },
  { name: 'recovered', seconds: 8, script: null },
  { name: 'primary rate limited (429, retry-after 2)', seconds: 6,
    script: { status: 429, headers: { 'retry-after': '2' } } },
  { name: 'recovered', seconds: 4, script: null },
];

async function setPrimary(script) {
  const path = script ? '/_fake/script' : '/_fake/reset';
  const res = await fetch(primaryControl + path, { method: 'POST', body: JSON.stringify(script ?? {}) });
  if (!res.ok) throw new Error(`fake provider control ${path}: ${res.status}`);
}

async function oneRequest(i) {
  const stream = i % 4 === 0;
  const started = performance.now();
  const res = await fetch(proxy + '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer demo-client' },
    body: JSON.stringify({ model: 'chat', stream, messages: [{ role: 'user', content: `demo request ${i}` }] }),
  });
  const body = await res.text();
  const ok = res.status === 200 && (stream ? body.includes('data: [DONE]') && !body.includes('"error"') : true);
  return {
    ok, status: res.status, ms: performance.now() - started, stream,
    detail: ok ? '' : body.slice(0, 300),
    provider: res.headers.get('x-llmesh-provider') ?? 'none',
    attempts: Number(res.headers.get('x-llmesh-attempts') ?? 0),
  };
}

function percentile(sorted, q) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function runPhase(phase, counter) {
  await setPrimary(phase.script);
  const results = [];
  const until = performance.now() + phase.seconds * 1000;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (performance.now() < until) results.push(await oneRequest(counter.n++));
  }));
  return results;
}

function share(results) {
  const by = {};
  for (const r of results) if (r.ok) by[r.provider] = (by[r.provider] ?? 0) + 1;
  const total = results.filter((r) => r.ok).length || 1;
  return Object.entries(by).sort().map(([p, n]) => `${p} ${(100 * n / total).toFixed(1)}%`).join(', ');
}

async function metrics() {
  const text = await (await fetch(admin + '/metrics')).text();
  const failovers = {};
  let cost = 0;
  for (const line of text.split('\n')) {
    let m = line.match(/^llmesh_failovers_total\{.*reason="([^"]+)".*\} (\S+)$/);
    if (m && Number(m[2]) > 0) failovers[m[1]] = (failovers[m[1]] ?? 0) + Number(m[2]);
    m = line.match(/^llmesh_cost_usd_total\{.*\} (\S+)$/);
    if (m) cost += Number(m[1]);
  }
  return { failovers, cost };
}

const counter = { n: 0 };
const all = [];
console.log('phase                                        requests  success   p50 ms   p99 ms  answered by');
for (const phase of phases) {
  const results = await runPhase(phase, counter);
  all.push(...results);
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const okShare = 100 * results.filter((r) => r.ok).length / (results.length || 1);
  console.log(`${phase.name.padEnd(44)} ${String(results.length).padStart(8)} ${okShare.toFixed(2).padStart(8)}% ` +
    `${percentile(ms, 0.5).toFixed(2).padStart(8)} ${percentile(ms, 0.99).toFixed(2).padStart(8)}  ${share(results)}`);
}
await setPrimary(null);

const ms = all.map((r) => r.ms).sort((a, b) => a - b);
const ok = all.filter((r) => r.ok).length;
const { failovers, cost } = await metrics();
const providers = await (await fetch(admin + '/providers')).json();
console.log('\nsummary');
console.log(`  requests           ${all.length}`);
console.log(`  client success     ${(100 * ok / all.length).toFixed(3)}% (${all.length - ok} failed)`);
console.log(`  answered by        ${share(all)}`);
console.log(`  failed over        ${all.filter((r) => r.attempts > 1).length} requests needed more than one attempt`);
console.log(`  failovers by reason ${Object.entries(failovers).map(([k, v]) => `${k}=${v}`).join(', ') || 'none'}`);
console.log(`  latency            p50 ${percentile(ms, 0.5).toFixed(2)} ms, p99 ${percentile(ms, 0.99).toFixed(2)} ms`);
console.log(`  cost               $${cost.toFixed(6)}`);
console.log(`  primary health     ${providers.providers.filter((p) => p.provider === 'primary')
  .map((p) => `${p.state}, ${p.ejections_total} ejections`).join('; ')}`);
const failed = all.filter((r) => !r.ok);
for (const r of failed.slice(0, 5)) {
  console.log(`  failed: HTTP ${r.status}${r.stream ? ' (stream)' : ''}: ${r.detail.replace(/\s+/g, ' ')}`);
}
if (failed.length > 0) process.exitCode = 1;
