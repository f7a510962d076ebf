// Benchmark (not a test): one invocation measures, against the same server-everything on
// loopback, a direct HTTP client (the baseline), claribi-bridge, and mcp-remote, and prints
// the ratios. Usage: node bench.mjs BRIDGE_BINARY [--calls N] [--inflight N] [--throughput-calls N]
// [--starts N] [--url URL] [--json]. --url: that server instead of a server-everything of its own;
// --json: the rows as one JSON line instead of the table (scripts/bench's Node SDK rows).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { here, startEverything } from './common.mjs';

const argv = process.argv.slice(2);
const bridge = argv[0];
const opt = (name, dflt) => { const i = argv.indexOf(name); return i > 0 ? Number(argv[i + 1]) : dflt; };
const CALLS = opt('--calls', 1000);
const INFLIGHT = opt('--inflight', 64);
const THROUGHPUT_CALLS = opt('--throughput-calls', 4000);
const STARTS = opt('--starts', 9);
const sopt = (name) => { const i = argv.indexOf(name); return i > 0 ? argv[i + 1] : undefined; };
const URL_GIVEN = sopt('--url');
const JSON_OUT = argv.includes('--json');
const mcpRemote = path.join(here, 'node_modules/mcp-remote/dist/proxy.js');
const authDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-mcp-remote-'));

function peakRssKb(pid) {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch { return NaN; }
}
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const args = { message: 'benchmark' };

const subjects = (url) => [
  { name: 'direct HTTP (baseline)', make: () => new StreamableHTTPClientTransport(new URL(url)) },
  { name: 'claribi-bridge', make: () => new StdioClientTransport({ command: bridge, args: ['--log-level', 'warn', url], stderr: 'ignore' }) },
  { name: 'mcp-remote 0.15.1', make: () => new StdioClientTransport({ command: process.execPath, args: [mcpRemote, url], stderr: 'ignore',
      env: { ...process.env, MCP_REMOTE_CONFIG_DIR: authDir } }) },
];

async function connect(subject) {
  const client = new Client({ name: 'bench', version: '1.0.0' }, { capabilities: {} });
  const transport = subject.make();
  const t0 = performance.now();
  await client.connect(transport);
  return { client, transport, startMs: performance.now() - t0 };
}

async function measure(subject) {
  const starts = [];
  for (let i = 0; i < STARTS; i++) {
    const c = await connect(subject);
    starts.push(c.startMs);
    await c.client.close();
  }
  starts.sort((a, b) => a - b);
  const { client, transport } = await connect(subject);
  for (let i = 0; i < 100; i++) await client.callTool({ name: 'echo', arguments: args });
  const lat = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await client.callTool({ name: 'echo', arguments: args });
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: INFLIGHT }, async () => {
    while (next++ < THROUGHPUT_CALLS) await client.callTool({ name: 'echo', arguments: args });
  }));
  const throughput = THROUGHPUT_CALLS / ((performance.now() - t0) / 1000);
  const pid = transport._process?.pid;
  const rss = pid ? peakRssKb(pid) / 1024 : NaN;
  await client.close();
  return { name: subject.name, start: starts[Math.floor(starts.length / 2)], p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), throughput, rss };
}

const server = URL_GIVEN ? { url: URL_GIVEN, stop: () => {} } : await startEverything('streamableHttp');
const rows = [];
try {
  for (const s of subjects(server.url)) {
    process.stderr.write(`measuring ${s.name}...\n`);
    rows.push(await measure(s));
  }
} finally {
  server.stop();
  fs.rmSync(authDir, { recursive: true, force: true });
}

if (JSON_OUT) {
  console.log(JSON.stringify(rows));
  process.exit(0);
}
const [direct, ours, remote] = rows;
const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
console.log(`\nserver-everything (streamableHttp) on 127.0.0.1; ${CALLS} sequential echo calls, ${THROUGHPUT_CALLS} calls with ${INFLIGHT} in flight; start = median of ${STARTS} spawns to the initialize answer`);
console.log('| | start (ms) | p50 (ms) | p99 (ms) | calls/s, 64 in flight | peak RSS (MiB) |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.name.startsWith('direct') ? '(in-process)' : f(r.start, 1)} | ${f(r.p50, 3)} | ${f(r.p99, 3)} | ${f(r.throughput, 0)} | ${r.name.startsWith('direct') ? '(in-process)' : f(r.rss, 1)} |`);
}
console.log('\nratios');
console.log(`  start: claribi-bridge / mcp-remote = ${f(ours.start / remote.start, 4)} (1/${f(remote.start / ours.start, 0)}; target <= 1/50)`);
console.log(`  per-call overhead over direct, p50: claribi-bridge ${f(ours.p50 - direct.p50, 3)} ms (target <= 0.1), mcp-remote ${f(remote.p50 - direct.p50, 3)} ms`);
console.log(`  p99 claribi-bridge / direct = ${f(ours.p99 / direct.p99)}; mcp-remote / direct = ${f(remote.p99 / direct.p99)}`);
console.log(`  throughput claribi-bridge / direct = ${f(ours.throughput / direct.throughput)}; mcp-remote / direct = ${f(remote.throughput / direct.throughput)}`);
console.log(`  peak RSS: claribi-bridge ${f(ours.rss, 1)} MiB (target <= 8), mcp-remote ${f(remote.rss, 1)} MiB, ratio ${f(ours.rss / remote.rss, 3)}`);
