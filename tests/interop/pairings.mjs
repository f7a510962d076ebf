// The four era pairings through claribi-bridge, with real SDK peers on both sides:
//   client: SDK 1.32 (2025-11-25) or SDK v2 2.4.0 negotiating 2026-07-28 (it probes with
//           server/discover on a throwaway sibling bridge, then starts the session bridge)
//   server: SDK 1.32 stateful streamable HTTP (2025) or SDK v2 createMcpHandler (stateless
//           2026-07-28), both in this process on 127.0.0.1
// Each pairing runs the same scenarios: list and call tools, an elicitation round and a
// sampling round inside one call, progress, cancellation of a long call (the server sees it
// stop), and one list-changed notification delivered exactly once after the subscription
// filter changed twice; then a second client starts on the era the first start remembered
// (its own XDG_STATE_HOME). Usage: pairings.mjs BRIDGE legacy|modern legacy|modern
import http from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as z from 'zod';
import * as v2 from '@modelcontextprotocol/server';
import { Client as ModernClient } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdio, getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import { McpServer as LegacyServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema, CreateMessageResultSchema, ElicitRequestSchema, ElicitResultSchema,
  ResourceUpdatedNotificationSchema, SubscribeRequestSchema, ToolListChangedNotificationSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { TappedStdioTransport, check, withTimeout } from './common.mjs';

const [bridge, clientEra, serverEra] = process.argv.slice(2);
if (!bridge || !['legacy', 'modern'].includes(clientEra) || !['legacy', 'modern'].includes(serverEra)) {
  console.error('usage: pairings.mjs BRIDGE legacy|modern legacy|modern');
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seen = { longStarted: 0, longAborted: 0, extraTools: [], discovers: 0 };
const text = (t) => ({ content: [{ type: 'text', text: t }] });
const NAME_SCHEMA = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
const CAPABILITIES = { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true } };
// clariBI's upload tool shape: the bridge offers a data_path twin and sends the file as base64.
const UPLOAD_SCHEMA = {
  name: z.string(), format: z.enum(['csv', 'json', 'text']),
  data_base64: z.string().describe('The file, base64-encoded'),
};
const CONFIRM_SCHEMA = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
const digest = (b64) => {
  const data = Buffer.from(b64, 'base64');
  return `${createHash('sha256').update(data).digest('hex')} ${data.length}`;
};

async function longCall(signal) {
  seen.longStarted++;
  await new Promise((resolve) => {
    const t = setTimeout(resolve, 30000);
    signal.addEventListener('abort', () => { clearTimeout(t); seen.longAborted++; resolve(); });
  });
  return text('finished');
}

// ------------------------------------------------------------ 2026-07-28 server (SDK v2)

function startModernServer() {
  let handler;
  const factory = () => {
    const s = new v2.McpServer({ name: 'pairings-modern', version: '1.0.0' }, { capabilities: CAPABILITIES });
    s.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text: t }) => text(t));
    s.registerTool('ask', { inputSchema: z.object({}) }, async (_args, ctx) => {
      const state = ctx.mcpReq.requestState();
      const answers = ctx.mcpReq.inputResponses ?? {};
      if (state === undefined) {
        return v2.inputRequired({
          inputRequests: { who: v2.inputRequired.elicit({ message: 'Your name?', requestedSchema: NAME_SCHEMA }) },
          requestState: 'asked-name',
        });
      }
      if (state === 'asked-name') {
        const name = answers.who?.content?.name;
        return v2.inputRequired({
          inputRequests: {
            word: v2.inputRequired.createMessage({
              messages: [{ role: 'user', content: { type: 'text', text: `one word for ${name}` } }], maxTokens: 5,
            }),
          },
          requestState: `asked-word:${name}`,
        });
      }
      return text(`${state.slice('asked-word:'.length)}|${answers.word?.content?.text}`);
    });
    s.registerTool('count', { inputSchema: z.object({ steps: z.number() }) }, async ({ steps }, ctx) => {
      const token = ctx.mcpReq._meta?.progressToken;
      for (let i = 1; i <= steps; i++) {
        await sleep(30);
        if (token !== undefined) {
          await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
        }
      }
      await sleep(30);  // as in the 2025 server below
      return text(`counted ${steps}`);
    });
    s.registerTool('long', { inputSchema: z.object({}) }, async (_args, ctx) => longCall(ctx.mcpReq.signal));
    s.registerTool('upload_data_source', { inputSchema: z.object(UPLOAD_SCHEMA) }, async ({ data_base64 }, ctx) => {
      if (ctx.mcpReq.inputResponses?.confirm?.content?.ok !== true) {
        return v2.inputRequired({
          inputRequests: { confirm: v2.inputRequired.elicit({ message: 'Upload?', requestedSchema: CONFIRM_SCHEMA }) },
        });
      }
      return text(digest(data_base64));
    });
    s.registerTool('add_tool', { inputSchema: z.object({ name: z.string() }) }, async ({ name }) => {
      seen.extraTools.push(name);
      handler.notify.toolsChanged();
      return text('added');
    });
    s.registerTool('touch', { inputSchema: z.object({ uri: z.string() }) }, async ({ uri }) => {
      handler.notify.resourceUpdated(uri);
      return text('touched');
    });
    for (const name of seen.extraTools) s.registerTool(name, { inputSchema: z.object({}) }, async () => text(name));
    for (const r of ['a', 'b']) {
      s.registerResource(r, `res://${r}`, {}, async () => ({ contents: [{ uri: `res://${r}`, text: r }] }));
    }
    return s;
  };
  handler = v2.createMcpHandler(factory, { legacy: 'reject', keepAliveMs: 0 });
  // Node's http server in front of the web-standard handler; a closed connection aborts
  // the request (that is how 2026-07-28 cancels over HTTP).
  return http.createServer(async (req, res) => {
    const abort = new AbortController();
    res.on('close', () => { if (!res.writableFinished) abort.abort(); });
    const chunks = [];
    for await (const c of req) chunks.push(c);
    if (req.headers['mcp-method'] === 'server/discover') seen.discovers++;
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method, headers, signal: abort.signal,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks),
    });
    const response = await handler.fetch(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (!response.body) { res.end(); return; }
    const reader = response.body.getReader();
    abort.signal.addEventListener('abort', () => reader.cancel().catch(() => {}));
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        res.write(value);
      }
    } catch { /* the client went away */ }
    res.end();
  });
}

// ------------------------------------------------------------ 2025 server (SDK 1.32)

function legacyServer() {
  const s = new LegacyServer({ name: 'pairings-legacy', version: '1.0.0' }, { capabilities: CAPABILITIES });
  const subscribed = new Set();
  s.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text: t }) => text(t));
  s.registerTool('ask', { inputSchema: {} }, async (_args, extra) => {
    const who = await extra.sendRequest({ method: 'elicitation/create', params: { message: 'Your name?', requestedSchema: NAME_SCHEMA } }, ElicitResultSchema);
    const word = await extra.sendRequest({
      method: 'sampling/createMessage',
      params: { messages: [{ role: 'user', content: { type: 'text', text: `one word for ${who.content?.name}` } }], maxTokens: 5 },
    }, CreateMessageResultSchema);
    return text(`${who.content?.name}|${word.content?.text}`);
  });
  s.registerTool('count', { inputSchema: { steps: z.number() } }, async ({ steps }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      await sleep(30);
      if (token !== undefined) {
        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
      }
    }
    // SDK clients handle notifications a microtask later than responses: a result in the
    // same read as the last progress would overtake it. Leave a gap.
    await sleep(30);
    return text(`counted ${steps}`);
  });
  s.registerTool('long', { inputSchema: {} }, async (_args, extra) => longCall(extra.signal));
  s.registerTool('upload_data_source', { inputSchema: UPLOAD_SCHEMA }, async ({ data_base64 }, extra) => {
    const ok = await extra.sendRequest({ method: 'elicitation/create', params: { message: 'Upload?', requestedSchema: CONFIRM_SCHEMA } }, ElicitResultSchema);
    return ok.content?.ok === true ? text(digest(data_base64)) : text('not confirmed');
  });
  s.registerTool('add_tool', { inputSchema: { name: z.string() } }, async ({ name }) => {
    s.registerTool(name, { inputSchema: {} }, async () => text(name));  // announces list_changed
    return text('added');
  });
  s.registerTool('touch', { inputSchema: { uri: z.string() } }, async ({ uri }) => {
    if (subscribed.has(uri)) await s.server.sendResourceUpdated({ uri });
    return text('touched');
  });
  for (const r of ['a', 'b']) {
    s.registerResource(r, `res://${r}`, {}, async () => ({ contents: [{ uri: `res://${r}`, text: r }] }));
  }
  s.server.setRequestHandler(SubscribeRequestSchema, async (req) => { subscribed.add(req.params.uri); return {}; });
  s.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => { subscribed.delete(req.params.uri); return {}; });
  return s;
}

function startLegacyServer() {
  const transports = new Map();
  return http.createServer(async (req, res) => {
    const sid = req.headers['mcp-session-id'];
    let t = sid ? transports.get(sid) : undefined;
    if (!t) {
      if (sid || req.method !== 'POST') { res.writeHead(404).end(); return; }
      t = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => transports.set(id, t),
      });
      t.onclose = () => transports.delete(t.sessionId);
      await legacyServer().connect(t);
    }
    await t.handleRequest(req, res);
  });
}

// ------------------------------------------------------------ clients

const elicitAnswer = (params) => ({
  action: 'accept', content: params?.message === 'Upload?' ? { ok: true } : { name: 'Ada' },
});
const uploadDir = fs.mkdtempSync(path.join(os.tmpdir(), 'claribi-pairings-'));
const BRIDGE_ARGS = ['--log-level', process.env.PAIRINGS_LOG || 'warn', '--upload-dir', uploadDir];
// The bridges' state dir (the remembered era), this run's own.
const BRIDGE_ENV = { ...getDefaultEnvironment(), XDG_STATE_HOME: path.join(uploadDir, 'state') };
const SAMPLE_ANSWER = { role: 'assistant', content: { type: 'text', text: 'bright' }, model: 'pairings' };

async function connectLegacy(url) {
  const transport = new TappedStdioTransport({ command: bridge, args: [...BRIDGE_ARGS, url], env: BRIDGE_ENV, stderr: 'inherit' });
  const client = new LegacyClient({ name: 'pairings-legacy-client', version: '1.0.0' },
    { capabilities: { elicitation: { form: {} }, sampling: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (req) => elicitAnswer(req.params));
  client.setRequestHandler(CreateMessageRequestSchema, async () => SAMPLE_ANSWER);
  await client.connect(transport);
  const counts = { toolsChanged: 0, updated: [] };
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => { counts.toolsChanged++; });
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => { counts.updated.push(n.params.uri); });
  return {
    transport, counts,
    listTools: () => client.listTools(),
    call: (name, args, opts) => client.callTool({ name, arguments: args }, undefined, opts),
    // The 2025 way to change what one hears: subscribe to resources one at a time.
    changeFilter: async (step) => { await client.subscribeResource({ uri: step === 1 ? 'res://a' : 'res://b' }); },
    close: () => client.close(),
  };
}

async function connectModern(url) {
  const transport = new ModernStdio({ command: bridge, args: [...BRIDGE_ARGS, url], env: BRIDGE_ENV, stderr: 'inherit' });
  const client = new ModernClient({ name: 'pairings-modern-client', version: '1.0.0' },
    { capabilities: { elicitation: { form: {} }, sampling: {} }, versionNegotiation: { mode: 'auto' } });
  client.setRequestHandler('elicitation/create', async (req) => elicitAnswer(req.params));
  client.setRequestHandler('sampling/createMessage', async () => SAMPLE_ANSWER);
  const counts = { toolsChanged: 0, updated: [] };
  client.setNotificationHandler('notifications/tools/list_changed', () => { counts.toolsChanged++; });
  client.setNotificationHandler('notifications/resources/updated', (n) => { counts.updated.push(n.params.uri); });
  await client.connect(transport);
  check(client.getNegotiatedProtocolVersion?.() === '2026-07-28' || client._negotiatedProtocolVersion === '2026-07-28',
    `the modern client negotiated 2026-07-28 through the bridge (got ${client._negotiatedProtocolVersion})`);
  let subscription;
  return {
    transport, counts, sdk: client,
    listTools: () => client.listTools(),
    call: (name, args, opts) => client.callTool({ name, arguments: args }, opts),
    // The 2026-07-28 way: a new listen stream with the new filter replaces the old one.
    changeFilter: async (step) => {
      const uris = step === 0 ? [] : step === 1 ? ['res://a'] : ['res://a', 'res://b'];
      const next = await client.listen({ toolsListChanged: true, ...(uris.length && { resourceSubscriptions: uris }) });
      if (subscription) await subscription.close();
      subscription = next;
      check(next.honoredFilter.toolsListChanged === true, `listen honored toolsListChanged: ${JSON.stringify(next.honoredFilter)}`);
    },
    close: async () => { if (subscription) await subscription.close(); await client.close(); },
  };
}

// Bridges this process started (the session one and the SDK's throwaway probe sibling) that
// still run; other tests' bridges running in parallel do not count.
function bridgesRunning() {
  let out = '';
  try {
    out = execFileSync('ps', ['--ppid', String(process.pid), '-o', 'stat=,args=']).toString();
  } catch { return 0; }
  return out.split('\n').filter((l) => l.includes(bridge) && !l.trim().startsWith('Z')).length;
}

// ------------------------------------------------------------ scenarios

const server = serverEra === 'modern' ? startModernServer() : startLegacyServer();
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/mcp`;
const before = bridgesRunning();
const results = [];
async function scenario(name, fn) {
  const t0 = Date.now();
  try {
    await withTimeout(fn(), 20000, name);
    results.push(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push(`FAIL ${name}: ${e.message}`);
  }
}

let c;
await scenario('connect', async () => { c = clientEra === 'modern' ? await connectModern(url) : await connectLegacy(url); });
if (c) {
  if (clientEra === 'modern') await scenario('listen before the first filter change', () => c.changeFilter(0));
  await scenario('list and call tools', async () => {
    const names = (await c.listTools()).tools.map((t) => t.name);
    for (const n of ['echo', 'ask', 'count', 'long']) check(names.includes(n), `tools/list has ${n}: ${names}`);
    const r = await c.call('echo', { text: 'héllo' });
    check(r.content[0].text === 'héllo', `echo answered ${JSON.stringify(r)}`);
  });
  await scenario('elicitation round then sampling round', async () => {
    const r = await c.call('ask', {});
    check(r.content?.[0]?.text === 'Ada|bright', `ask answered ${JSON.stringify(r)}`);
  });
  await scenario('progress', async () => {
    const got = [];
    const r = await c.call('count', { steps: 4 }, { onprogress: (p) => got.push(p.progress) });
    check(r.content[0].text === 'counted 4', `count answered ${JSON.stringify(r)}`);
    check(JSON.stringify(got) === '[1,2,3,4]', `progress seen ${JSON.stringify(got)}`);
  });
  await scenario('a file sent by path survives a question round', async () => {
    const file = path.join(uploadDir, 'data.csv');
    const data = randomBytes(300000);
    fs.writeFileSync(file, data);
    const r = await c.call('upload_data_source', { name: 'pairing', format: 'csv', data_path: file });
    const want = `${createHash('sha256').update(data).digest('hex')} ${data.length}`;
    check(r.content?.[0]?.text === want, `upload answered ${JSON.stringify(r).slice(0, 300)}`);
  });
  await scenario('cancellation of a long call reaches the server', async () => {
    const abort = new AbortController();
    const call = c.call('long', {}, { signal: abort.signal }).then(() => 'answered', (e) => `rejected: ${e.message}`);
    const t0 = Date.now();
    while (seen.longStarted === 0 && Date.now() - t0 < 5000) await sleep(20);
    check(seen.longStarted === 1, 'the long call started on the server');
    abort.abort('the user stopped it');
    check((await call).startsWith('rejected'), 'the client saw its call cancelled');
    while (seen.longAborted === 0 && Date.now() - t0 < 8000) await sleep(20);
    check(seen.longAborted === 1, `the server saw the call stop (aborted ${seen.longAborted})`);
  });
  await scenario('list change delivered once after the filter changed twice', async () => {
    await c.changeFilter(1);
    await c.changeFilter(2);
    const before = c.counts.toolsChanged;
    await c.call('add_tool', { name: 'late_tool' });
    await c.call('touch', { uri: 'res://b' });
    const t0 = Date.now();
    while ((c.counts.toolsChanged === before || c.counts.updated.length === 0) && Date.now() - t0 < 5000) await sleep(20);
    await sleep(500);  // room for a duplicate to show up
    check(c.counts.toolsChanged - before === 1, `tools/list_changed came ${c.counts.toolsChanged - before} time(s)`);
    check(JSON.stringify(c.counts.updated) === '["res://b"]', `resources/updated: ${JSON.stringify(c.counts.updated)}`);
    const names = (await c.listTools()).tools.map((t) => t.name);
    check(names.includes('late_tool'), `the new tool is listed: ${names}`);
  });
  if (clientEra === 'modern' && serverEra === 'modern') {
    await scenario('server/discover is asked again once its ttlMs (0 here) ran out', async () => {
      const before = seen.discovers;
      const r = await c.sdk.request({ method: 'server/discover', params: {} });
      check(r.supportedVersions?.includes('2026-07-28'), `discover answered ${JSON.stringify(r)}`);
      check(seen.discovers === before + 1, `the remote saw ${seen.discovers - before} discover(s)`);
    });
  }
  await scenario('stdout carried only JSON-RPC', async () => {
    check(!c.transport.badLines?.length, `non-JSON-RPC lines: ${c.transport.badLines}`);
  });
  await c.close().catch(() => {});
  await scenario('a second start on the remembered era', async () => {
    const eraFiles = fs.readdirSync(path.join(uploadDir, 'state', 'claribi-bridge', 'era'));
    check(eraFiles.length === 1, `one remembered era: ${eraFiles}`);
    const before = seen.discovers;
    const again = clientEra === 'modern' ? await connectModern(url) : await connectLegacy(url);
    const r = await again.call('echo', { text: 'again' });
    check(r.content[0].text === 'again', `echo answered ${JSON.stringify(r)}`);
    await again.close();
    if (clientEra === 'legacy' && serverEra === 'modern') {
      check(seen.discovers === before + 1, 'a 2025 client of a modern remote is answered from the probe');
    }
  });
}
await scenario('no bridge left running', async () => {
  const t0 = Date.now();
  while (bridgesRunning() > before && Date.now() - t0 < 3000) await sleep(50);
  check(bridgesRunning() === before, `${bridgesRunning() - before} bridge process(es) still running`);
});
fs.rmSync(uploadDir, { recursive: true, force: true });
server.closeAllConnections?.();
server.close();
console.log(`pairing: ${clientEra} client × ${serverEra} server`);
for (const r of results) console.log(r);
const failed = results.filter((r) => r.startsWith('FAIL')).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
