// clariBI's onboarding loop, as a new user meets it: the official SDK client drives the bridge
// (no flags but the store's, uploads allowed through the roots it declares, an empty
// credential store, a BROWSER that fails the test if it is ever
// called) against the clariBI-shaped fixture (tests/fault/claribi_fixture.py): signup, the
// minted key kept away from the model, an upload by path, an analysis, an integration polled
// until connected, a report polled until done; then a second process working from the
// stored key, and the first going on with the minted key once its access token is revoked.
// Usage: node onboarding.mjs BRIDGE_BINARY file|keychain
// (keychain: run inside tests/keyring/with-keyring.sh, which provides a real Secret Service.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startClariBI, TappedStdioTransport, check, withTimeout } from './common.mjs';

const [bridge, store = 'file'] = process.argv.slice(2);
if (!bridge) { console.error('usage: onboarding.mjs BRIDGE file|keychain'); process.exit(2); }


const home = fs.mkdtempSync(path.join(os.tmpdir(), 'claribi-onboarding-'));
const uploads = path.join(home, 'Documents');
fs.mkdirSync(uploads);
const csv = 'region,revenue\nnorth,1200\nsouth,800\neast,950\n';
fs.writeFileSync(path.join(uploads, 'q3-sales.csv'), csv);
const marker = path.join(home, 'browser-was-called');
const browser = path.join(home, 'browser.sh');
fs.writeFileSync(browser, `#!/bin/sh\necho "$@" >> '${marker}'\nexit 1\n`, { mode: 0o755 });

const server = await startClariBI();
const env = { ...process.env, BROWSER: browser };
if (store === 'file') {
  Object.assign(env, { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_STATE_HOME: path.join(home, '.state') });
}
// No flag but the store's: uploads by path are allowed from the roots the client declares.
const flags = [...(store === 'file' ? ['--credential-store', 'file'] : []), '--log-level', 'warn'];

async function connect() {
  const transport = new TappedStdioTransport({ command: bridge, args: [...flags, 'run', server.url], env, stderr: 'pipe' });
  const client = new Client({ name: 'claribi-onboarding', version: '1.0.0' }, { capabilities: { roots: { listChanged: true } } });
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: `file://${uploads}`, name: 'Documents' }] }));
  await withTimeout(client.connect(transport), 15000, 'connect');
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  return { client, transport, stderr: () => stderr };
}

let failed = 0;
async function step(name, fn) {
  try {
    const detail = await fn();
    console.log(`ok   ${name}${detail ? `: ${detail}` : ''}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}
const call = async (client, name, args = {}) => {
  const r = await withTimeout(client.callTool({ name, arguments: args }), 20000, name);
  check(!r.isError, `${name} answered an error: ${JSON.stringify(r.content)}`);
  return r.structuredContent ?? JSON.parse(r.content[0].text);
};

const first = await connect();
const seen = [];  // everything the model saw
const tap = (r) => { seen.push(JSON.stringify(r)); return r; };
let pending, key;
await step('the 19 tools are listed without credentials, upload_data_source with data_path', async () => {
  const { tools } = await first.client.listTools();
  check(tools.length === 19, `${tools.length} tools`);
  const upload = tools.find((t) => t.name === 'upload_data_source');
  check(upload.inputSchema.properties.data_path, 'no data_path twin');
  return `${tools.length} tools`;
});
await step('register_account', async () => {
  pending = tap(await call(first.client, 'register_account', { email: 'new@example.com', organization_name: 'Acme' })).pending_id;
  check(pending, 'no pending_id');
});
await step('verify_email mints a key the model never sees', async () => {
  const r = await withTimeout(first.client.callTool({ name: 'verify_email', arguments: { pending_id: pending, code: '123456', password: 'correct horse' } }), 20000, 'verify');
  check(!r.isError, JSON.stringify(r));
  tap(r);
  const text = JSON.stringify(r);
  check(!/claribi_mcp_[0-9a-f]{8}/.test(text), 'the minted key reached the model');
  if (store === 'file') {
    const files = fs.readdirSync(path.join(home, '.state', 'claribi-bridge'));
    const stored = fs.readFileSync(path.join(home, '.state', 'claribi-bridge', files.find((f) => f.endsWith('.json'))), 'utf8');
    key = /claribi_mcp_[0-9a-f]+/.exec(stored)?.[0];
    check(key, 'the key is not in the credential store');
  }
  if (store !== 'file') {
    const { spawnSync } = await import('node:child_process');
    const status = spawnSync(bridge, ['status', server.url], { env, encoding: 'utf8' });
    check(/api-key: \*+[0-9a-f]{4}/.test(status.stdout) && !/claribi_mcp_[0-9a-f]{8}/.test(status.stdout),
      `status does not show the stored key, masked: ${status.stdout}${status.stderr}`);
  }
  return store === 'file' ? 'key stored in the file store' : 'key stored in the Secret Service';
});
let source;
await step('upload a CSV by path', async () => {
  source = tap(await call(first.client, 'upload_data_source', { name: 'Q3 sales', data_path: path.join(uploads, 'q3-sales.csv') }));
  check(source.bytes === csv.length && source.format === 'csv' && source.rows === 4, JSON.stringify(source));
  return `${source.bytes} bytes, ${source.rows} rows`;
});
await step('run_analysis', async () => {
  const r = tap(await call(first.client, 'run_analysis', { question: 'Revenue by region?', wait_seconds: 30 }));
  check(r.headline, JSON.stringify(r));
});
await step('connect Google Ads: poll until connected', async () => {
  const { handoff_id: handoff } = tap(await call(first.client, 'request_oauth_integration_url', { provider: 'google', integration_type: 'google_ads' }));
  let polls = 0;
  for (;;) {
    polls += 1;
    const s = tap(await call(first.client, 'check_integration_status', { handoff_id: handoff }));
    if (s.status === 'connected') return `connected after ${polls} polls`;
    check(polls < 10, 'never connected');
  }
});
await step('generate a report: poll until done', async () => {
  const { report_id: report } = tap(await call(first.client, 'generate_report', { title: 'Q3', output_format: 'pdf' }));
  let polls = 0;
  for (;;) {
    polls += 1;
    const s = tap(await call(first.client, 'get_report', { report_id: report }));
    if (s.status === 'done') return `done after ${polls} polls`;
    check(polls < 10, 'never finished');
  }
});
await step('a second process works from the stored key, with no prompt', async () => {
  const second = await connect();
  const r = await call(second.client, 'list_data_sources');
  check(r.data_sources.length === 1, JSON.stringify(r));
  await second.client.close();
});
await step('the access token revoked: the minted key carries on', async () => {
  await fetch(server.url.replace(/\/mcp\/v1\/$/, '/control/revoke-tokens'), { method: 'POST' });
  const r = await call(first.client, 'list_data_sources');
  check(r.data_sources.length === 1, JSON.stringify(r));
});
await step('the model never saw the key', () => {
  const all = seen.join('\n');
  check(!/claribi_mcp_[0-9a-f]{8}/.test(all), 'a key in what the model saw');
  if (key) check(!first.stderr().includes(key), 'the key in the logs');
});
await step('no browser was ever started', () => check(!fs.existsSync(marker), `browser called: ${fs.existsSync(marker) && fs.readFileSync(marker, 'utf8')}`));
await step('stdout carried only JSON-RPC', () => check(first.transport.badLines.length === 0, first.transport.badLines.join('\n')));
await first.client.close();
server.stop();
fs.rmSync(home, { recursive: true, force: true });
console.log(failed ? `${failed} failed` : 'all passed');
process.exit(failed ? 1 : 0);
