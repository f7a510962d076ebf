// The README's demo: a scripted client session through claribi-bridge against a local
// server-everything. Usage: node demo.mjs BRIDGE_BINARY
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startEverything, TappedStdioTransport } from './common.mjs';

const bridge = process.argv[2];
const say = (s) => console.log(s);
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
