// scripts/bench --http2 (not a test): 64 calls in flight over TLS, HTTP/2 (one connection,
// multiplexed) against HTTP/1.1, through nghttpx (Debian's nghttp2-proxy) on 127.0.0.1 in
// front of the fast echo server, with a throwaway test CA made by the openssl CLI in a temp
// dir. Two nghttpx front ends: one offering h2 and http/1.1 by ALPN, one http/1.1 only (the
// bridge has no switch for the HTTP version). Connections and TLS handshakes are counted
// from nghttpx's access log (distinct client ports, resumed sessions), and by the native
// client from CURLINFO_NUM_CONNECTS.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../interop/common.mjs';
import { runJson, startEcho, f, table, bridgeArgs } from './lib.mjs';

function makeCa(dir) {
  const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key',
    '-out', 'ca.pem', '-days', '1', '-subj', '/CN=claribi-bench test CA');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem',
    '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(path.join(dir, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem',
    '-days', '1', '-extfile', 'leaf.ext');
}

async function startNghttpx(dir, name, backend, alpn) {
  const port = await freePort();
  const log = path.join(dir, `${name}.access.log`);
  fs.writeFileSync(path.join(dir, 'empty.conf'), '');
  const child = spawn('nghttpx', [`--conf=${path.join(dir, 'empty.conf')}`, `--frontend=127.0.0.1,${port}`,
    `--backend=${backend.host},${backend.port}`, '--workers=1', `--npn-list=${alpn}`, '--no-ocsp',
    `--accesslog-file=${log}`, '--accesslog-format=$remote_port $alpn $tls_session_reused $status',
    `--errorlog-file=${path.join(dir, `${name}.error.log`)}`, path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')],
  { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await new Promise((resolve) => {
      import('node:net').then(({ default: net }) => {
        const c = net.connect({ port, host: '127.0.0.1' }, () => { c.end(); resolve(true); });
        c.once('error', () => resolve(false));
      });
    })) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  let seen = 0;
  return {
    url: `https://127.0.0.1:${port}/mcp`,
    stop: () => child.kill('SIGTERM'),
    /// What the access log gained since the last call: connections (distinct client ports),
    /// how many of them resumed a TLS session, requests, the ALPN protocols seen.
    take() {
      const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [];
      const fresh = lines.slice(seen);
      seen = lines.length;
      const ports = new Map();
      for (const l of fresh) { const [p, a, r] = l.split(' '); ports.set(p, { a, r }); }
      const resumed = [...ports.values()].filter((v) => v.r === 'r').length;
      return { requests: fresh.length, connections: ports.size, resumed, alpn: [...new Set([...ports.values()].map((v) => v.a))].join(',') };
    },
  };
}

export async function runHttp2({ build, bridges, quick, directBin, driverBin }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'claribi-bench-h2-'));
  const echo = await startEcho(build);
  const backend = new URL(echo.url);
  const fronts = [];
  try {
    makeCa(dir);
    const ca = path.join(dir, 'ca.pem');
    const h2 = await startNghttpx(dir, 'h2', { host: backend.hostname, port: backend.port }, 'h2,http/1.1');
    fronts.push(h2);
    const h1 = await startNghttpx(dir, 'h1', { host: backend.hostname, port: backend.port }, 'http/1.1');
    fronts.push(h1);
    await new Promise((r) => setTimeout(r, 300));  // nghttpx's worker up
    const calls = quick ? 1000 : 4000, starts = quick ? 3 : 9, seq = quick ? 300 : 1000;
    const common = ['--starts', starts, '--calls', seq, '--inflight', 64, '--throughput-calls', calls];
    const rows = [];
    const row = (name, front, r, native) => {
      const log = front.take();
      rows.push([name, log.alpn || 'n/a', String(native ? r.connects : log.connections), String(log.connections),
        String(log.resumed), native ? `${f(r.start_cold_ms, 2)} (TLS ${f(r.tls_handshake_ms, 2)})` : f(r.start_ms, 2),
        f(r.sequential.p50_us), f(r.sequential.p99_us), f(r.inflight.calls_per_s, 0), f(r.inflight.p99_us)]);
    };
    const system = '/etc/ssl/certs/ca-certificates.crt';
    const bundle = path.join(dir, 'bundle.pem');
    fs.writeFileSync(bundle, (fs.existsSync(system) ? fs.readFileSync(system, 'utf8') : '') + fs.readFileSync(ca, 'utf8'));
    h2.take(); h1.take();
    // The native client trusting the test CA alone, then the same bundle as the bridge.
    for (const [front, version, trust, what, more] of [[h2, '--http2', ca, ''], [h1, '--http1.1', ca, ''],
      [h2, '--http2', bundle, ', system bundle'], [h1, '--http1.1', bundle, ', system bundle'],
      [h1, '--http1.1', ca, ', system hashed folder', ['--ca-path', '/etc/ssl/certs']]]) {
      process.stderr.write(`  native direct client ${version}${what}...\n`);
      row(`native direct client, ${version.slice(2).toUpperCase()}${what}`, front,
        runJson(directBin, [front.url, ...common, version, '--ca-file', trust, ...(more ?? [])]), true);
    }
    // The bridge trusts the test CA as it would a public one: a bundle file (the system's plus
    // the test CA) in SSL_CERT_FILE, which libcurl loads once and caches (SSL_CERT_DIR, which
    // some machines set, would add a folder and rule the cache out). With --ca-file on Linux
    // the bridge reads the file beside the platform's hashed folder (elsewhere, or without
    // such a folder, it hands libcurl both in memory, parsed again for every connection).
    const file = { SSL_CERT_FILE: bundle, SSL_CERT_DIR: null };
    for (const [i, b] of bridges.entries()) {
      for (const [front, what, extra, env] of [[h2, 'h2 offered', [], file],
        [h1, 'http/1.1 only', [], file], [h2, 'h2 offered, --ca-file', ['--ca-file', ca]],
        [h1, 'http/1.1 only, --ca-file', ['--ca-file', ca]]]) {
        process.stderr.write(`  bridge ${i + 1}, ${what}...\n`);
        row(`bridge ${i + 1}, ${what}`, front, runJson(driverBin, [...common, '--', ...bridgeArgs(b, front.url, extra)], { env }), false);
      }
    }
    // The cold start over TLS: the same bridge on plain HTTP, on HTTPS, and on HTTPS trusting
    // only the test CA (SSL_CERT_FILE), which shows what loading the system's CA bundle costs.
    const startRows = [];
    for (const [i, b] of bridges.entries()) {
      const only = ['--starts', starts, '--calls', 0, '--throughput-calls', 0, '--'];
      const plain = runJson(driverBin, [...only, ...bridgeArgs(b, echo.url)]);
      const tls = runJson(driverBin, [...only, ...bridgeArgs(b, h2.url, ['--ca-file', ca])]);
      const own = runJson(driverBin, [...only, ...bridgeArgs(b, h2.url, ['--ca-file', ca])], { env: { SSL_CERT_FILE: ca } });
      h2.take();
      startRows.push([`bridge ${i + 1}`, f(plain.start_ms, 2), f(tls.start_ms, 2), f(own.start_ms, 2),
        f(tls.start_ms - plain.start_ms, 2), f(tls.peak_rss_mib - own.peak_rss_mib, 1)]);
    }
    console.log('\n## HTTP/2 against HTTP/1.1 over TLS (nghttpx on 127.0.0.1 → fast echo server)');
    console.log(`start = median of ${starts}: native = its own initialize on a new connection (TLS handshake ` +
      `in brackets), bridge = spawn → initialize answered; ${seq} sequential calls; ${calls} with 64 in flight. ` +
      'connections: CURLINFO_NUM_CONNECTS for the native client, else nghttpx\'s access log (all spawns ' +
      'included); each new connection is a TLS handshake, "resumed" those that resumed a session');
    table(['', 'ALPN', 'connections', 'in nghttpx log', 'resumed', 'start (ms)', 'p50 (µs)', 'p99 (µs)',
      'calls/s, 64 in flight', 'p99, 64 in flight (µs)'], rows);
    console.log(`\nthe bridge's start (median of ${starts} spawns → initialize answered): plain HTTP, HTTPS with ` +
      'the system CA bundle and --ca-file, HTTPS trusting the test CA alone (SSL_CERT_FILE); peak RSS of the ' +
      'process that then ran nothing else');
    table(['', 'http (ms)', 'https (ms)', 'https, test CA only (ms)', 'TLS cold-start cost (ms)',
      'system bundle RSS (MiB)'], startRows);
  } finally {
    for (const fr of fronts) fr.stop();
    echo.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
