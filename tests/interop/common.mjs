// Helpers shared by the interop tests, the demo and the benchmark: start real MCP peers on
// loopback and talk to claribi-bridge over stdio with the official TypeScript SDK client.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const here = path.dirname(fileURLToPath(import.meta.url));
const everything = path.join(here, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ port: 0, host: '127.0.0.1' }, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child, ms = 20000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`peer exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const c = net.connect({ port, host: '127.0.0.1' }, () => { c.end(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
}

// Starts @modelcontextprotocol/server-everything in `mode` (streamableHttp or sse), bound to
// 127.0.0.1 by the loopback preload, on `port` (a free one if not given). Returns
// { url, port, stop, kill } (kill: SIGKILL, resolved once the process is gone).
export async function startEverything(mode, { quiet = true, port: wanted } = {}) {
  const port = wanted ?? await freePort();
  const child = spawn(process.execPath, ['--require', path.join(here, 'loopback.cjs'), everything, mode], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', quiet ? 'ignore' : 'inherit', quiet ? 'ignore' : 'inherit'],
  });
  await waitForPort(port, child);
  const url = mode === 'sse' ? `http://127.0.0.1:${port}/sse` : `http://127.0.0.1:${port}/mcp`;
  const kill = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
  return { url, port, stop: () => child.kill('SIGTERM'), kill };
}

// Starts the clariBI-shaped fixture (tests/fault/claribi_fixture.py) on 127.0.0.1.
// Returns { url, stop }.
export async function startClariBI() {
  const { createInterface } = await import('node:readline');
  const child = spawn('python3', [path.join(here, '../fault/claribi_fixture.py')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`clariBI fixture exited with ${code}`)));
  });
  return { url: line.split(' ')[1], stop: () => child.kill('SIGTERM') };
}

// The SDK's stdio client transport, plus a tap on the raw stdout bytes so tests can check
// that every line the bridge prints is a JSON-RPC message.
export class TappedStdioTransport extends StdioClientTransport {
  constructor(params) {
    super(params);
    this.stdoutLines = [];
    this.badLines = [];
    this._partial = '';
  }
  async start() {
    await super.start();
    this._process.stdout.on('data', (chunk) => {
      this._partial += chunk.toString('utf8');
      let nl;
      while ((nl = this._partial.indexOf('\n')) >= 0) {
        const line = this._partial.slice(0, nl);
        this._partial = this._partial.slice(nl + 1);
        this.stdoutLines.push(line);
        try {
          const m = JSON.parse(line);
          if (m === null || typeof m !== 'object' || Array.isArray(m) || m.jsonrpc !== '2.0') throw new Error('not JSON-RPC');
        } catch (e) {
          this.badLines.push(line.slice(0, 200));
        }
      }
    });
  }
  get pid() { return this._process?.pid; }
}

export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

export async function withTimeout(promise, ms, what) {
  let t;
  const timeout = new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); });
  try { return await Promise.race([promise, timeout]); } finally { clearTimeout(t); }
}
