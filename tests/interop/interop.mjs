// Interop: the official TypeScript SDK client drives claribi-bridge over stdio; the bridge
// talks to the official server-everything over streamable HTTP or HTTP+SSE on loopback.
// Usage: node interop.mjs BRIDGE_BINARY streamableHttp|sse
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema,
  LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { startEverything, TappedStdioTransport, check, withTimeout } from './common.mjs';

const [bridge, mode = 'streamableHttp'] = process.argv.slice(2);
if (!bridge) { console.error('usage: interop.mjs BRIDGE streamableHttp|sse'); process.exit(2); }

const results = [];
async function step(name, fn) {
  const t0 = performance.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${(performance.now() - t0).toFixed(0)} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

// Arguments for a tool from its input schema: defaults, first enum value, or a plain value.
function argumentsFor(tool) {
  const special = {
    'trigger-long-running-operation': { duration: 1, steps: 3 },
    'gzip-file-as-resource': { name: 'hello.txt.gz', data: 'data:text/plain;base64,aGVsbG8=', outputType: 'resource' },
    'trigger-url-elicitation': { url: 'https://example.com/consent' },
    'get-resource-reference': { resourceType: 'Text', resourceId: 1 },
  };
  if (special[tool.name]) return special[tool.name];
  const args = {};
  const props = tool.inputSchema?.properties ?? {};
  for (const key of tool.inputSchema?.required ?? []) {
    const p = props[key] ?? {};
    if (p.default !== undefined) args[key] = p.default;
    else if (p.enum) args[key] = p.enum[0];
    else if (p.type === 'number' || p.type === 'integer') args[key] = p.minimum ?? 2;
    else if (p.type === 'boolean') args[key] = false;
    else args[key] = 'interop test';
  }
  return args;
}

const server = await startEverything(mode);
const transport = new TappedStdioTransport({
  command: bridge,
  args: ['--log-level', 'warn', server.url],
  stderr: 'inherit',
});
const client = new Client(
  { name: 'claribi-interop', version: '1.0.0' },
  { capabilities: { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } } },
);
const seen = { sampling: 0, elicitation: 0, roots: 0, logs: 0, updates: [] };
client.setRequestHandler(CreateMessageRequestSchema, async () => {
  seen.sampling++;
  return { model: 'interop-model', role: 'assistant', content: { type: 'text', text: 'sampled reply' } };
});
client.setRequestHandler(ElicitRequestSchema, async (req) => {
  seen.elicitation++;
  if (req.params.mode === 'url') return { action: 'decline' };
  return { action: 'accept', content: { name: 'Ada', check: true, email: 'ada@example.com', integer: 3 } };
});
client.setRequestHandler(ListRootsRequestSchema, async () => {
  seen.roots++;
  return { roots: [{ uri: 'file:///tmp', name: 'tmp' }] };
});
client.setNotificationHandler(LoggingMessageNotificationSchema, () => { seen.logs++; });
client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => { seen.updates.push(n.params.uri); });

try {
  await step('initialize through the bridge', async () => {
    await withTimeout(client.connect(transport), 15000, 'initialize');
    check(client.getServerVersion()?.name, 'server info');
  });

  let tools = [];
  await step('list every tool', async () => {
    tools = (await client.listTools()).tools;
    check(tools.length >= 10, `expected many tools, got ${tools.length}`);
  });

  for (const tool of tools) {
    if (tool.execution?.taskSupport === 'required') {
      await step(`call task tool ${tool.name}`, async () => {
        const stream = client.experimental.tasks.callToolStream({ name: tool.name, arguments: argumentsFor(tool) });
        let final;
        for await (const message of stream) {
          if (message.type === 'result') final = message.result;
          if (message.type === 'error') throw message.error;
        }
        check(final, 'a final task result');
      });
      continue;
    }
    await step(`call tool ${tool.name}`, async () => {
      const r = await withTimeout(client.callTool({ name: tool.name, arguments: argumentsFor(tool) }), 30000, tool.name);
      check(Array.isArray(r.content), 'content array');
      check(!r.isError, `tool error: ${JSON.stringify(r.content).slice(0, 300)}`);
      // Toggles switch something on: switch it off again so later steps start from rest.
      if (tool.name.startsWith('toggle-')) await client.callTool({ name: tool.name, arguments: {} });
    });
  }

  await step('sampling round trip', async () => {
    check(seen.sampling > 0, 'the sampling tool asked the client to sample');
  });
  await step('elicitation round trip', async () => {
    check(seen.elicitation > 0, 'the elicitation tool asked the client');
  });

  await step('resources: list, read, templates', async () => {
    const list = await client.listResources();
    check(list.resources.length > 0, 'resources listed');
    for (const r of list.resources.slice(0, 5)) {
      const read = await client.readResource({ uri: r.uri });
      check(read.contents.length > 0, `contents of ${r.uri}`);
    }
    await client.listResourceTemplates();
  });

  await step('resource subscription update', async () => {
    const list = await client.listResources();
    const uri = list.resources[0].uri;
    await client.subscribeResource({ uri });
    await client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    const deadline = Date.now() + 15000;
    while (!seen.updates.includes(uri) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    await client.unsubscribeResource({ uri });
    check(seen.updates.includes(uri), `notifications/resources/updated for ${uri}`);
  });

  await step('get every prompt', async () => {
    const { prompts } = await client.listPrompts();
    check(prompts.length > 0, 'prompts listed');
    for (const p of prompts) {
      const args = {};
      for (const a of p.arguments ?? []) if (a.required) args[a.name] = a.name === 'resourceId' || a.name === 'resourceType' ? (a.name === 'resourceType' ? 'Text' : '1') : 'interop';
      const r = await client.getPrompt({ name: p.name, arguments: args });
      check(r.messages.length > 0, `messages of ${p.name}`);
    }
  });

  await step('progress notifications', async () => {
    const progress = [];
    await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 4 } }, undefined,
      { onprogress: (p) => progress.push(p.progress) });
    check(progress.length >= 3, `progress updates: ${progress.length}`);
  });

  await step('log notifications', async () => {
    await client.setLoggingLevel('debug');
    await client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    const deadline = Date.now() + 15000;
    while (seen.logs === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    check(seen.logs > 0, 'notifications/message received');
  });

  await step('cancel a long call, then keep serving', async () => {
    const controller = new AbortController();
    const t0 = performance.now();
    const call = client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } },
      undefined, { signal: controller.signal });
    setTimeout(() => controller.abort('interop cancel'), 500);
    let rejected = false;
    try { await call; } catch { rejected = true; }
    check(rejected, 'the cancelled call was rejected');
    check(performance.now() - t0 < 5000, 'cancellation was prompt');
    const echo = await client.callTool({ name: 'echo', arguments: { message: 'after cancel' } });
    check(JSON.stringify(echo.content).includes('after cancel'), 'echo after cancel');
  });

  await step('many calls in flight at once', async () => {
    const calls = [];
    for (let i = 0; i < 64; i++) calls.push(client.callTool({ name: 'get-sum', arguments: { a: i, b: 1 } }));
    const all = await withTimeout(Promise.all(calls), 20000, '64 concurrent calls');
    all.forEach((r, i) => check(JSON.stringify(r.content).includes(`${i + 1}`), `sum ${i}`));
  });

  await step('a slow call does not delay a fast one', async () => {
    const slow = client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 3, steps: 3 } });
    const t0 = performance.now();
    await client.callTool({ name: 'echo', arguments: { message: 'fast' } });
    const fast = performance.now() - t0;
    await slow;
    check(fast < 1000, `fast call took ${fast.toFixed(0)} ms while a slow one ran`);
  });

  await step('roots and ping', async () => {
    await client.ping();
    await client.sendRootsListChanged();
  });
} finally {
  const pid = transport.pid;
  await client.close().catch(() => {});
  server.stop();
  await step('every stdout line is a JSON-RPC message', async () => {
    check(transport.stdoutLines.length > 20, `lines seen: ${transport.stdoutLines.length}`);
    check(transport.badLines.length === 0, `bad lines: ${JSON.stringify(transport.badLines)}`);
  });
  void pid;
}

const failed = results.filter((r) => !r.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
