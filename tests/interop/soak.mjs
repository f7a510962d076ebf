// Soak: thousands of calls with 64 in flight through the bridge to server-everything, while
// the server is killed and restarted five times (event streams cut mid-answer with it).
// Every request is answered exactly once; only calls in flight at a kill may fail; at least
// 85% of the calls after the first restart succeed; resident memory and open descriptors at
// the end match those after warm-up (1 MiB, 2 descriptors), a warm-up that restarts once.
// Usage: node soak.mjs BRIDGE_BINARY
import fs from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startEverything, TappedStdioTransport, check, withTimeout } from './common.mjs';

const [bridge] = process.argv.slice(2);
if (!bridge) { console.error('usage: soak.mjs BRIDGE'); process.exit(2); }
const IN_FLIGHT = 64;
const PER_ROUND = 1500;
const RESTARTS = Number(process.env.SOAK_RESTARTS ?? 5);

let server = await startEverything('streamableHttp');
const transport = new TappedStdioTransport({ command: bridge, args: ['--log-level', 'error', server.url], stderr: 'inherit' });
const client = new Client({ name: 'claribi-soak', version: '1.0.0' }, { capabilities: {} });
await withTimeout(client.connect(transport), 10000, 'connect');

function residentKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}
const descriptors = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;

let down = null; // [killed at, back at] of the current outage
const outages = [];
const results = [];

async function one(i) {
  const started = performance.now();
  // One call in ten streams progress over SSE, so kills cut event streams mid-answer.
  const long = i % 10 === 0;
  const call = long
    ? client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
      undefined, { onprogress: () => {}, timeout: 60000 })
    : client.callTool({ name: 'echo', arguments: { message: `m${i}` } }, undefined, { timeout: 60000 });
  let ok = false;
  try {
    const r = await call;
    ok = !r.isError;
  } catch (e) {
    ok = false;
  }
  results.push({ started, ended: performance.now(), ok });
}

async function round(count, during) {
  let next = 0;
  const workers = [];
  const side = during ? during() : Promise.resolve();
  for (let w = 0; w < IN_FLIGHT; w++) {
    workers.push((async () => {
      while (next < count) await one(next++);
    })());
  }
  await Promise.all([...workers, side]);
}

async function restart() {
  await new Promise((r) => setTimeout(r, 150));
  const killed = performance.now();
  await server.kill();
  server = await startEverything('streamableHttp', { port: server.port });
  outages.push([killed, performance.now()]);
}

// Warm-up reaches the steady state: buffers, caches and connection pools at their working
// size, one restart included (its reconnection storm touches the most memory).
await round(500);
await round(PER_ROUND, restart);
// Idle for a moment, as between a user's questions: the bridge gives freed memory back.
await new Promise((r) => setTimeout(r, 1500));
const rss0 = residentKiB(transport.pid);
const fd0 = descriptors(transport.pid);
const warm = results.length;
for (let k = 0; k < RESTARTS; k++) await round(PER_ROUND, restart);
// One quiet round: whatever the restarts left behind has settled by its end.
await round(PER_ROUND);
await new Promise((r) => setTimeout(r, 1500));
const rss1 = residentKiB(transport.pid);
const fd1 = descriptors(transport.pid);

let failed = 0;
const after = results.slice(warm);
const inFlightAtKill = (r) => outages.some(([killed, back]) => r.started <= back && r.ended >= killed);
const badFailures = after.filter((r) => !r.ok && !inFlightAtKill(r)).length;
const okShare = after.filter((r) => r.ok).length / after.length;

// Exactly one answer per request id on stdout.
const answers = new Map();
for (const line of transport.stdoutLines) {
  const m = JSON.parse(line);
  if (m.id !== undefined && m.method === undefined) answers.set(m.id, (answers.get(m.id) ?? 0) + 1);
}
const twice = [...answers.values()].filter((n) => n !== 1).length;
const sent = results.length + 1; // the calls and initialize

function report(name, cond, detail) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
  if (!cond) failed += 1;
}
report('every request answered exactly once', answers.size === sent && twice === 0,
  `${sent} requests, ${answers.size} answered, ${twice} answered more than once`);
report('only calls in flight at a kill failed', badFailures === 0,
  `${after.filter((r) => !r.ok).length} failed after warm-up, ${badFailures} of them not in flight at a kill`);
report('at least 85% of the calls after the first restart succeeded', okShare >= 0.85,
  `${(okShare * 100).toFixed(1)}% of ${after.length}`);
// Under ASan freed memory sits in its quarantine: the figure is printed, not judged.
const sanitized = Boolean(process.env.CLARIBI_SANITIZED);
report('resident memory back to its warm level (1 MiB)', sanitized || Math.abs(rss1 - rss0) <= 1024,
  `${rss0} KiB after warm-up, ${rss1} KiB at the end${sanitized ? ' (sanitized build: not judged)' : ''}`);
report('open descriptors back to their warm count (2)', Math.abs(fd1 - fd0) <= 2, `${fd0} then ${fd1}`);
report('stdout carried only JSON-RPC', transport.badLines.length === 0, `${transport.badLines.length} bad lines`);
await client.close();
await server.kill();
process.exit(failed ? 1 : 0);
