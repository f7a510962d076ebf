// Helpers of scripts/bench's runner (not a test): the native programs run and read, the fast
// echo server, number formatting, goals printed with their ratio and whether each is met.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');

/// Runs a program that prints one JSON line last; its stderr is passed through.
/// `env` is added to this process's environment; a key set to null is taken out of it.
export function runJson(cmd, args, { env, timeoutMs = 600000 } = {}) {
  const full = { ...process.env, ...env };
  for (const [k, v] of Object.entries(full)) if (v === null) delete full[k];
  const r = spawnSync(cmd, args.map(String), {
    env: full,
    stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20, timeout: timeoutMs,
  });
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')}: exit ${r.status ?? r.signal}`);
  const lines = r.stdout.toString().trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/// tests/bench/echo_server (built in `build`): { url, stop }.
export async function startEcho(build, args = []) {
  const child = spawn(path.join(build, 'tests/echo_server'), args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`echo_server exited with ${code}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

export const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/// A markdown table: `head` the column names, `rows` arrays of cells.
export function table(head, rows) {
  const out = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i ? '---:' : '---')).join('|')}|`];
  for (const r of rows) out.push(`| ${r.join(' | ')} |`);
  console.log(out.join('\n'));
}

/// One goal: what it is, what was measured, the ratio or figure, met or not.
export function goal(list, name, measured, ratio, met) {
  list.push([name, measured, ratio, met === undefined || Number.isNaN(met) ? 'n/a' : met ? 'met' : 'NOT met']);
}

/// The bridge's command line for `url`.
export const bridgeArgs = (bridge, url, extra = []) => [bridge, '--log-level', 'error', ...extra, url];

export function label(bridge) {
  const v = spawnSync(bridge, ['--version']).stdout?.toString().trim() ?? '';
  return `${bridge}${v ? ` (${v})` : ''}`;
}
