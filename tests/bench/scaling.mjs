// scripts/bench --scaling (not a test): how cost grows, each bridge beside the native direct
// client, on the fast echo server: response sizes, requests in flight, and a GET stream of
// 100,000 notifications (the bridge's CPU time per message). One bridge process per row, so
// each peak RSS is that row's.
import { runJson, startEcho, f, table, bridgeArgs } from './lib.mjs';

const SIZES = [1e3, 1e5, 1e6, 1e7, 5e7];
const IN_FLIGHT = [1, 64, 256, 1024];
const none = ['--starts', 0, '--calls', 0, '--throughput-calls', 0];

export async function runScaling({ build, bridges, quick, directBin, driverBin }) {
  const srv = await startEcho(build);
  try {
    console.log('\n## Scaling: response sizes (tools/call blob, fast echo server)');
    console.log('median of the calls; the bridge\'s peak RSS is VmHWM of a bridge process that served only that size');
    const sizeRows = [];
    for (const bytes of SIZES) {
      // Small answers take many calls: a median of 21 moved by 0.1 ms between runs at 1 KB,
      // as much as the whole call, and put either build ahead.
      const calls = bytes >= 1e7 ? 3 : bytes >= 1e6 ? (quick ? 5 : 21) : quick ? 41 : 401;
      process.stderr.write(`  blob ${bytes} bytes...\n`);
      const d = runJson(directBin, [srv.url, '--starts', 1, '--calls', 0, '--throughput-calls', 0,
        '--blob', bytes, '--blob-calls', calls]);
      const row = [bytes >= 1e6 ? `${bytes / 1e6} MB` : `${bytes / 1e3} KB`, f(d.blob.median_ms, 2)];
      for (const b of bridges) {
        const o = runJson(driverBin, [...none, '--blob', bytes, '--blob-calls', calls, '--', ...bridgeArgs(b, srv.url)]);
        row.push(f(o.blob.median_ms, 2), f(o.blob.median_ms / d.blob.median_ms, 2), f(o.peak_rss_mib, 1));
      }
      sizeRows.push(row);
    }
    table(['response', 'native (ms)', ...bridges.flatMap((_, i) => [`bridge ${i + 1} (ms)`, 'ratio', 'peak RSS (MiB)'])], sizeRows);

    console.log('\n## Scaling: requests in flight (tools/call echo, fast echo server)');
    const flightRows = [];
    for (const k of IN_FLIGHT) {
      const calls = Math.max(quick ? 1000 : 4000, 4 * k);
      process.stderr.write(`  ${k} in flight...\n`);
      const d = runJson(directBin, [srv.url, '--starts', 1, '--calls', 0, '--inflight', k, '--throughput-calls', calls]);
      const row = [String(k), String(calls), f(d.inflight.calls_per_s, 0), f(d.inflight.p99_us / 1000, 2), String(d.inflight.connects)];
      for (const b of bridges) {
        const o = runJson(driverBin, ['--starts', 0, '--calls', 0, '--inflight', k, '--throughput-calls', calls,
          '--', ...bridgeArgs(b, srv.url)]);
        row.push(f(o.inflight.calls_per_s, 0), f(o.inflight.p99_us / 1000, 2), f(o.peak_rss_mib, 1));
      }
      flightRows.push(row);
    }
    table(['in flight', 'calls', 'native calls/s', 'native p99 (ms)', 'native connections',
      ...bridges.flatMap((_, i) => [`bridge ${i + 1} calls/s`, 'p99 (ms)', 'peak RSS (MiB)'])], flightRows);

    const n = quick ? 20000 : 100000;
    console.log(`\n## Scaling: a GET stream of ${n} notifications/message through the bridge`);
    console.log('CPU = the bridge\'s utime+stime (/proc/PID/stat, 10 ms ticks) from the initialize answer to the last ' +
      'notification read, over the messages');
    const streamRows = [];
    for (const [i, b] of bridges.entries()) {
      process.stderr.write(`  ${n} notifications, bridge ${i + 1}...\n`);
      const o = runJson(driverBin, [...none, '--notifications', n, '--', ...bridgeArgs(b, `${srv.url}?notify=${n}`)]);
      const s = o.notifications;
      streamRows.push([`bridge ${i + 1}`, String(s.n), f(s.wall_ms, 0), f(s.cpu_ms, 0), f(s.cpu_us_per_message, 2),
        f(s.n / (s.wall_ms / 1000), 0), f(o.peak_rss_mib, 1)]);
    }
    table(['', 'messages', 'wall (ms)', 'CPU (ms)', 'CPU per message (µs)', 'messages/s', 'peak RSS (MiB)'], streamRows);
  } finally {
    srv.stop();
  }
}
