// Drives the mesh part of `make demo`: clients spread over both sidecars call route `chat`
// while the cheap provider is healthy, degraded (10% of answers are 503s) and recovered; every
// second a line shows where the calls went and the weight the control plane gives the cheap
// provider (from `llmeshctl health`). Env: PROXY_URLS (space-separated), CHEAP_URL, LLMESHCTL,
// CONTROL_ADDRESS, LLMESH_ADMIN_TOKEN.
import { execFileSync } from 'node:child_process';

const proxies = process.env.PROXY_URLS.split(' ');
const cheapControl = process.env.CHEAP_URL.replace(/\/v1$/, '');
const CLIENTS = 8;

const phases = [
  { name: 'healthy', seconds: 4, script: null },
  { name: 'cheap degraded (10% 503)', seconds: 6, script: { status: 503, fail_probability: 0.1 } },
  { name: 'cheap recovered', seconds: 6, script: null },
];

function ctl(...args) {
  return execFileSync(process.env.LLMESHCTL, ['--server', process.env.CONTROL_ADDRESS, ...args],
    { encoding: 'utf8' });
}

// The cheap provider's row of `llmeshctl health chat`: weight, basis, reason.
function cheapWeight() {
  const lines = ctl('health').split('\n');
  const header = lines[0].split(/ {2,}/);
  for (const line of lines.slice(1)) {
    const cells = line.split(/ {2,}/);
    if (cells[0] === 'chat' && cells[1] === 'cheap') {
      const at = (name) => cells[header.indexOf(name)] ?? '-';
      return `${at('WEIGHT')} ${at('BASIS')} (${at('REASON')})`;
    }
  }
  return '-';
}

async function setCheap(script) {
  const path = script ? '/_fake/script' : '/_fake/reset';
  const res = await fetch(cheapControl + path, { method: 'POST', body: JSON.stringify(script ?? {}) });
  if (!res.ok) throw new Error(`fake provider control ${path}: ${res.status}`);
}

async function call(proxy, model) {
  const res = await fetch(proxy + '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
  });
  await res.text();
  return { ok: res.status === 200, status: res.status, provider: res.headers.get('x-llmesh-provider') ?? 'none' };
}

for (const proxy of proxies) {
  const r = await call(proxy, 'chat-premium');
  console.log(`chat-premium through ${proxy}: HTTP ${r.status}, answered by ${r.provider}`);
}
console.log('\n  t  phase                       calls  cheap  premium  failed  cluster weight of cheap');

const totals = { calls: 0, failed: 0 };
const started = performance.now();
for (const phase of phases) {
  await setCheap(phase.script);
  const until = performance.now() + phase.seconds * 1000;
  let window = { calls: 0, cheap: 0, premium: 0, failed: 0 };
  let n = 0;
  const clients = Array.from({ length: CLIENTS }, async () => {
    while (performance.now() < until) {
      const r = await call(proxies[n++ % proxies.length], 'chat');
      window.calls++;
      if (!r.ok) window.failed++;
      else if (r.provider === 'cheap') window.cheap++;
      else window.premium++;
    }
  });
  const reporter = (async () => {
    while (performance.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const w = window;
      window = { calls: 0, cheap: 0, premium: 0, failed: 0 };
      totals.calls += w.calls;
      totals.failed += w.failed;
      const pct = (k) => `${(100 * w[k] / (w.calls || 1)).toFixed(0)}%`.padStart(5);
      const t = ((performance.now() - started) / 1000).toFixed(0).padStart(3);
      console.log(`${t}  ${phase.name.padEnd(26)} ${String(w.calls).padStart(6)}  ${pct('cheap')}  ` +
        `${pct('premium').padStart(7)}  ${String(w.failed).padStart(6)}  ${cheapWeight()}`);
    }
  })();
  await Promise.all([...clients, reporter]);
}
await setCheap(null);
console.log(`\nmesh summary: ${totals.calls} calls, ${totals.failed} failed`);
if (totals.failed > 0) process.exitCode = 1;
