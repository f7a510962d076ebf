// scripts/bench's runner (not a test). One invocation measures, against server-everything and
// against the fast echo server (tests/bench/echo_server.cpp), on 127.0.0.1:
//   - the native direct client (tests/bench/direct_client.cpp, libcurl): the baseline;
//   - each bridge (--bridge, repeatable: before/after builds) driven by the native stdio
//     driver (tests/bench/stdio_driver.cpp);
//   - for comparison, tests/interop/bench.mjs's Node SDK rows: the SDK's direct HTTP client,
//     the first bridge through the SDK's stdio client, mcp-remote through the same;
//   - the 18 MB upload by path (tests/fault/bench_upload.py);
//   - the stdio floor: the same echo answers over stdin and stdout (echo_server --stdio), what
//     any stdio process costs with nothing behind it;
// then prints every goal of issue 17 section 2 with its ratio and whether it is met.
//   --quick     fewer calls and spawns, no upload row
//   --no-node   without the Node SDK and mcp-remote rows
//   --scaling   response sizes, requests in flight, a 100,000-notification stream (scaling.mjs)
//   --http2     HTTP/2 against HTTP/1.1 through nghttpx over TLS (http2.mjs)
//   --all       the main rows, --scaling and --http2
// Usage: node run.mjs --build DIR [--bridge PATH]... [options]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startEverything } from '../interop/common.mjs';
import { runJson, startEcho, f, table, goal, bridgeArgs, label, root } from './lib.mjs';
import { runScaling } from './scaling.mjs';
import { runHttp2 } from './http2.mjs';

const argv = process.argv.slice(2);
const has = (name) => argv.includes(name);
const value = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const build = path.resolve(value('--build', path.join(root, 'build')));
const bridges = argv.flatMap((a, i) => (a === '--bridge' ? [path.resolve(argv[i + 1])] : []));
if (bridges.length === 0) bridges.push(path.join(build, 'daemon/claribi-bridge'));
const quick = has('--quick');
const counts = {
  starts: Number(value('--starts', quick ? 5 : 9)),
  calls: Number(value('--calls', quick ? 500 : 2000)),
  inflight: 64,
  throughput: Number(value('--throughput-calls', quick ? 2000 : 6000)),
};
const directBin = path.join(build, 'tests/direct_client');
const driverBin = path.join(build, 'tests/stdio_driver');

const commit = spawnSync('git', ['-C', root, 'log', '-1', '--format=%h %cs'], { encoding: 'utf8' }).stdout.trim();
console.log(`# scripts/bench, ${new Date().toISOString().slice(0, 16)}Z, tree at ${commit}`);
bridges.forEach((b, i) => console.log(`bridge ${i + 1}: ${label(b)}`));

const common = ['--starts', counts.starts, '--calls', counts.calls, '--inflight', counts.inflight,
  '--throughput-calls', counts.throughput];

function nativeRows(url) {
  process.stderr.write(`  native direct client...\n`);
  const direct = runJson(directBin, [url, ...common]);
  const ours = bridges.map((b, i) => {
    process.stderr.write(`  bridge ${i + 1} via the native stdio driver...\n`);
    return runJson(driverBin, [...common, '--', ...bridgeArgs(b, url)]);
  });
  let node = null;
  if (!has('--no-node')) {
    process.stderr.write(`  Node SDK rows (direct, bridge 1, mcp-remote)...\n`);
    node = runJson(process.execPath, [path.join(root, 'tests/interop/bench.mjs'), bridges[0], '--url', url,
      '--json', '--calls', Math.min(counts.calls, 1000), '--throughput-calls', Math.min(counts.throughput, 4000),
      '--starts', counts.starts], { env: { NODE_NO_WARNINGS: '1' } });
  }
  return { direct, ours, node };
}

function printRows(title, r) {
  console.log(`\n## ${title}`);
  console.log(`${counts.calls} sequential tools/call echo after 100 to warm up; ${counts.throughput} with ` +
    `${counts.inflight} in flight; start = median of ${counts.starts} (native client: its own initialize ` +
    `round trip, cold = new connection; bridge: spawn → initialize answered)`);
  const rows = [
    ['native direct client (libcurl)', `${f(r.direct.start_cold_ms, 2)} cold / ${f(r.direct.start_warm_ms, 2)} warm`,
      f(r.direct.sequential.p50_us), f(r.direct.sequential.p99_us), f(r.direct.inflight.calls_per_s, 0),
      f(r.direct.inflight.p99_us), '(in-process)', r.direct.connects],
    ...r.ours.map((o, i) => [`bridge ${i + 1}, native stdio driver`, f(o.start_ms, 2), f(o.sequential.p50_us),
      f(o.sequential.p99_us), f(o.inflight.calls_per_s, 0), f(o.inflight.p99_us), f(o.peak_rss_mib, 1), '']),
  ];
  if (r.floor) {
    const o = r.floor;
    rows.push(['stdio floor: echo_server --stdio, native stdio driver', f(o.start_ms, 2), f(o.sequential.p50_us),
      f(o.sequential.p99_us), f(o.inflight.calls_per_s, 0), f(o.inflight.p99_us), f(o.peak_rss_mib, 1), '']);
  }
  if (r.node) {
    const names = ['Node SDK direct client', 'bridge 1 via the Node SDK', 'mcp-remote via the Node SDK'];
    r.node.forEach((n, i) => rows.push([names[i], i ? f(n.start, 1) : `${f(n.start, 1)} (in-process)`,
      f(n.p50 * 1000), f(n.p99 * 1000), f(n.throughput, 0), 'n/a', i ? f(n.rss, 1) : '(in-process)', '']));
  }
  table(['', 'start (ms)', 'p50 (µs)', 'p99 (µs)', 'calls/s, 64 in flight', 'p99, 64 in flight (µs)',
    'peak RSS (MiB)', 'connections'], rows);
}

function goals(everything, echo, uploads) {
  const list = [];
  bridges.forEach((_, i) => {
    const tag = bridges.length > 1 ? ` [bridge ${i + 1}]` : '';
    for (const [server, r] of [['fast server', echo], ['server-everything', everything]]) {
      const o = r.ours[i], d = r.direct;
      const over = o.sequential.p50_us - d.sequential.p50_us;
      if (server === 'fast server') goal(list, `overhead p50 ≤ 50 µs, ${server}${tag}`, `${f(over)} µs`, `${f(over / 50, 2)} of the limit`, over <= 50);
      else list.push([`overhead p50, ${server}${tag}`, `${f(over)} µs`, '(no goal)', '']);
      if (r.node) {
        const remoteOver = (r.node[2].p50 - r.node[0].p50) * 1000;
        goal(list, `overhead ≤ 1/20 of mcp-remote's, ${server}${tag}`, `${f(over)} vs ${f(remoteOver)} µs`,
          `1/${f(remoteOver / over, 1)}`, over <= remoteOver / 20);
      }
      const p99 = o.inflight.p99_us / d.inflight.p99_us;
      goal(list, `p99, 64 in flight ≤ 1.1 × native, ${server}${tag}`, `${f(o.inflight.p99_us)} vs ${f(d.inflight.p99_us)} µs`, `${f(p99, 2)}×`, p99 <= 1.1);
      const tp = o.inflight.calls_per_s / d.inflight.calls_per_s;
      if (server === 'fast server') goal(list, `throughput, 64 in flight ≥ 0.9 × native, ${server}${tag}`, `${f(o.inflight.calls_per_s, 0)} vs ${f(d.inflight.calls_per_s, 0)}/s`, `${f(tp, 2)}×`, tp >= 0.9);
      else list.push([`throughput, 64 in flight, ${server}${tag}`, `${f(o.inflight.calls_per_s, 0)} vs ${f(d.inflight.calls_per_s, 0)}/s`, `${f(tp, 2)}×`, '(no goal)']);
      if (r.node) {
        const s = r.node[2].start / o.start_ms;
        goal(list, `start ≤ 1/50 of mcp-remote, ${server}${tag}`, `${f(o.start_ms, 2)} vs ${f(r.node[2].start, 1)} ms`, `1/${f(s, 0)}`, s >= 50);
      }
      const budget = d.start_cold_ms + 3;
      goal(list, `start ≤ native initialize (cold) + 3 ms, ${server}${tag}`, `${f(o.start_ms, 2)} vs ${f(d.start_cold_ms, 2)} + 3 ms`, `+${f(o.start_ms - d.start_cold_ms, 2)} ms (limit +3)`, o.start_ms <= budget);
    }
    const rss = Math.max(echo.ours[i].peak_rss_mib, everything.ours[i].peak_rss_mib);
    goal(list, `peak RSS ≤ 8 MiB${tag}`, `${f(rss, 1)} MiB`, `${f(rss / 8, 2)} of the limit`, rss <= 8);
    if (uploads[i]) goal(list, `18 MB upload ≤ 1.2 × direct POST${tag}`, uploads[i].line, `${f(uploads[i].ratio, 2)}×`, uploads[i].ratio <= 1.2);
  });
  if (echo.floor) {
    // What any process answering over stdio costs on this machine today, and the bridge's own
    // share above it: the start and overhead goals hold or fail with the first.
    const fl = echo.floor, d = echo.direct;
    list.push(['stdio floor: two pipe hops and a JSON parse, p50 (echo_server --stdio)', `${f(fl.sequential.p50_us)} µs`, '(no goal)', '']);
    list.push(['stdio floor: spawn → initialize answered (echo_server --stdio)', `${f(fl.start_ms, 2)} ms`,
      `+${f(fl.start_ms - d.start_cold_ms, 2)} ms over the native initialize`, '(no goal)']);
    bridges.forEach((_, i) => {
      const o = echo.ours[i], tag = bridges.length > 1 ? ` [bridge ${i + 1}]` : '';
      list.push([`the bridge's own share, fast server${tag}: start above the stdio floor's; p50 above the floor's and the native client's`,
        `+${f(o.start_ms - fl.start_ms, 2)} ms, +${f(o.sequential.p50_us - fl.sequential.p50_us - d.sequential.p50_us)} µs`,
        '', '(no goal)']);
    });
  }
  console.log('\n## Goals (issue 17 section 2)');
  console.log('overhead = the bridge\'s p50 (native stdio driver) − the native direct client\'s p50, same server; ' +
    'mcp-remote\'s = its p50 − the Node SDK direct client\'s p50 (both through the Node SDK)');
  table(['goal', 'measured', 'ratio', ''], list);
}

function upload(bridge) {
  process.stderr.write(`  18 MB upload, ${bridge}...\n`);
  const r = spawnSync('python3', [path.join(root, 'tests/fault/bench_upload.py'), bridge,
    path.join(build, 'tests/base64_bench'), '--runs', quick ? 3 : 7], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const ratio = Number(/wall time claribi-bridge \/ curl = ([\d.]+)/.exec(r.stdout ?? '')?.[1]);
  const times = [...(r.stdout ?? '').matchAll(/\| (curl|claribi-bridge)[^|]*\| ([\d.]+) \|/g)].map((m) => m[2]);
  return { ratio, line: `${times[1] ?? '?'} vs ${times[0] ?? '?'} ms`, text: r.stdout };
}

async function main() {
  const all = has('--all');
  if (all || (!has('--scaling') && !has('--http2'))) {
    process.stderr.write('server-everything:\n');
    const srv = await startEverything('streamableHttp');
    let everything;
    try { everything = nativeRows(srv.url); } finally { srv.stop(); }
    process.stderr.write('fast echo server:\n');
    const echoSrv = await startEcho(build);
    let echo;
    try { echo = nativeRows(echoSrv.url); } finally { echoSrv.stop(); }
    process.stderr.write('  the stdio floor (echo_server --stdio)...\n');
    echo.floor = runJson(driverBin, [...common, '--', path.join(build, 'tests/echo_server'), '--stdio']);
    printRows('server-everything (streamable HTTP, SSE answers), 127.0.0.1', everything);
    printRows('fast echo server (tests/bench/echo_server, JSON answers), 127.0.0.1', echo);
    const uploads = quick || has('--no-upload') ? [] : bridges.map(upload);
    for (const [i, u] of uploads.entries()) {
      console.log(`\n## 18 MB upload by path, bridge ${i + 1} (tests/fault/bench_upload.py)`);
      console.log(u.text.trim());
    }
    goals(everything, echo, uploads);
  }
  if (all || has('--scaling')) await runScaling({ build, bridges, quick, directBin, driverBin });
  if (all || has('--http2')) await runHttp2({ build, bridges, quick, directBin, driverBin });
}

await main();
