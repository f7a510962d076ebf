// The README's demo: scripted client sessions through claribi-bridge, first clariBI's
// onboarding loop against a local clariBI-shaped server, then a tour of server-everything.
// Usage: node demo.mjs BRIDGE_BINARY
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startClariBI, startEverything, TappedStdioTransport } from './common.mjs';

const bridge = process.argv[2];
const say = (s) => console.log(s);

// Part 1: what the product is for. A new clariBI user, from chat, with nothing configured.
async function clariBIOnboarding() {
  const remote = await startClariBI();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'claribi-demo-'));
  const documents = path.join(home, 'Documents');
  fs.mkdirSync(documents);
  const csv = path.join(documents, 'q3-sales.csv');
  fs.writeFileSync(csv, 'region,revenue\nnorth,1200\nsouth,800\neast,950\n');
  const env = { ...process.env, HOME: home, XDG_STATE_HOME: path.join(home, '.state'), BROWSER: '/bin/false' };
  const args = ['--credential-store', 'file', '--upload-dir', documents, '--log-level', 'warn', 'run', remote.url];
  say(`demo remote: a clariBI-shaped server at ${remote.url} (loopback; signup tools open, the rest wants a key)`);
  say(`a new user: empty credential store (${home}), no key, no flags, no browser\n`);
  const open = async () => {
    const t = new TappedStdioTransport({ command: bridge, args, env, stderr: 'inherit' });
    const c = new Client({ name: 'claribi-demo', version: '1.0.0' }, { capabilities: {} });
    await c.connect(t);
    return c;
  };
  const call = async (c, name, a = {}) => {
    const r = await c.callTool({ name, arguments: a });
    if (r.isError) throw new Error(`${name}: ${r.content[0].text}`);
    return r.structuredContent ?? r.content[0].text;
  };
  const c = await open();
  try {
    const { tools } = await c.listTools();
    say(`1. tools/list without credentials: ${tools.length} tools`);
    const { pending_id: pending } = await call(c, 'register_account', { email: 'new@example.com', organization_name: 'Acme' });
    say(`2. register_account: a code was emailed (pending ${pending})`);
    const verified = await c.callTool({ name: 'verify_email', arguments: { pending_id: pending, code: '123456', password: 'correct horse' } });
    say(`3. verify_email: the model sees "${verified.content[0].text.slice(0, 110)}..."`);
    const stored = fs.readdirSync(path.join(home, '.state', 'claribi-bridge'));
    say(`   the minted key went to the credential store (${stored.join(', ')}), not to the model`);
    const source = await call(c, 'upload_data_source', { name: 'Q3 sales', data_path: csv });
    say(`4. upload_data_source with data_path=${csv}: ${source.bytes} bytes, ${source.rows} rows, sent as base64 by the bridge`);
    const analysis = await call(c, 'run_analysis', { question: 'What was revenue by region?', wait_seconds: 30 });
    say(`5. run_analysis: ${analysis.headline}`);
    const { handoff_id: handoff, url } = await call(c, 'request_oauth_integration_url', { provider: 'google', integration_type: 'google_ads' });
    let status;
    let polls = 0;
    do { status = await call(c, 'check_integration_status', { handoff_id: handoff }); polls += 1; } while (status.status !== 'connected');
    say(`6. Google Ads: the user opens ${url}; connected after ${polls} polls (${status.data_source_id})`);
    const { report_id: report } = await call(c, 'generate_report', { title: 'Q3', output_format: 'pdf' });
    let r;
    polls = 0;
    do { r = await call(c, 'get_report', { report_id: report }); polls += 1; } while (r.status !== 'done');
    say(`7. generate_report, get_report: done after ${polls} polls, ${r.download_url}`);
  } finally {
    await c.close().catch(() => {});
  }
  const next = await open();
  try {
    const { data_sources: sources } = await call(next, 'list_data_sources');
    say(`8. the next conversation (a new bridge process) uses the stored key: ${sources.length} data source(s)\n`);
  } finally {
    await next.close().catch(() => {});
    remote.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

try {
  await clariBIOnboarding();
} catch (e) {
  say(`demo failed: ${e.stack || e}`);
  process.exit(1);
}

// Part 2: any remote MCP server: the official server-everything.
const server = await startEverything('streamableHttp');
say(`demo remote: @modelcontextprotocol/server-everything at ${server.url} (loopback only)`);
say(`client: the official MCP TypeScript SDK, launching ${bridge} over stdio\n`);

const transport = new TappedStdioTransport({ command: bridge, args: ['--log-level', 'warn', server.url], stderr: 'inherit' });
const client = new Client({ name: 'claribi-demo', version: '1.0.0' }, { capabilities: {} });
client.setNotificationHandler(LoggingMessageNotificationSchema, () => {});
let failed = false;
try {
  let t0 = performance.now();
  await client.connect(transport);
  const info = client.getServerVersion();
  say(`1. initialize: ${info.name} ${info.version}, protocol via the bridge, ${(performance.now() - t0).toFixed(0)} ms from spawn`);

  const { tools } = await client.listTools();
  say(`2. tools/list: ${tools.length} tools (${tools.map((t) => t.name).slice(0, 6).join(', ')}, ...)`);

  const echo = await client.callTool({ name: 'echo', arguments: { message: 'hello through claribi-bridge' } });
  say(`3. tools/call echo: ${echo.content[0].text}`);

  const sum = await client.callTool({ name: 'get-sum', arguments: { a: 19, b: 23 } });
  say(`4. tools/call get-sum: ${sum.content[0].text}`);

  const progress = [];
  t0 = performance.now();
  await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 2, steps: 4 } }, undefined,
    { onprogress: (p) => progress.push(`${p.progress}/${p.total}`) });
  say(`5. long-running call with progress: ${progress.join(' ')} in ${(performance.now() - t0).toFixed(0)} ms`);

  const { resources } = await client.listResources();
  const read = await client.readResource({ uri: resources[0].uri });
  say(`6. resources: ${resources.length} listed; read ${resources[0].uri} (${JSON.stringify(read.contents[0]).length} bytes)`);

  const { prompts } = await client.listPrompts();
  say(`7. prompts: ${prompts.map((p) => p.name).join(', ')}`);

  t0 = performance.now();
  const calls = Array.from({ length: 64 }, (_, i) => client.callTool({ name: 'get-sum', arguments: { a: i, b: i } }));
  await Promise.all(calls);
  say(`8. 64 calls in flight at once: all answered in ${(performance.now() - t0).toFixed(0)} ms`);
} catch (e) {
  failed = true;
  say(`demo failed: ${e.stack || e}`);
} finally {
  await client.close().catch(() => {});
  server.stop();
}
say(`\nstdout of the bridge: ${transport.stdoutLines.length} lines, ${transport.badLines.length} that are not JSON-RPC`);
say(failed || transport.badLines.length ? 'demo: FAILED' : 'demo: OK');
process.exit(failed || transport.badLines.length ? 1 : 0);
