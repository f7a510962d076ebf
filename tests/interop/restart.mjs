// A restarted server-everything (streamable HTTP) must not strand the bridge: it answers an
// unknown Mcp-Session-Id with HTTP 400, and the bridge opens a new session (replaying the
// client's initialize), sends the call again, and reopens the GET stream on the new session.
// Also after the bridge was stopped (SIGSTOP, as in a laptop's sleep) across the restart.
// Usage: node restart.mjs BRIDGE_BINARY
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startEverything, TappedStdioTransport, check, withTimeout } from './common.mjs';

const [bridge] = process.argv.slice(2);
if (!bridge) { console.error('usage: restart.mjs BRIDGE'); process.exit(2); }

let server = await startEverything('streamableHttp');
const transport = new TappedStdioTransport({ command: bridge, args: ['--log-level', 'warn', server.url], stderr: 'inherit' });
const client = new Client({ name: 'claribi-restart', version: '1.0.0' }, { capabilities: {} });
const logs = [];
client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => { logs.push(String(n.params.data)); });
let failed = 0;

async function step(name, fn) {
  const t0 = performance.now();
  try {
    await fn();
    console.log(`ok   ${name} (${(performance.now() - t0).toFixed(0)} ms)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

async function echo(text) {
  const r = await withTimeout(client.callTool({ name: 'echo', arguments: { message: text } }), 10000, 'echo');
  check(!r.isError && JSON.stringify(r.content).includes(text), `echo answered ${JSON.stringify(r)}`);
}

async function restart() {
  await server.kill();
  server = await startEverything('streamableHttp', { port: server.port });
}

// The GET stream is back when a log message sent outside any request arrives on it.
async function getStreamCarriesLogs() {
  logs.length = 0;
  await withTimeout(client.callTool({ name: 'toggle-simulated-logging', arguments: {} }), 10000, 'toggle');
  const deadline = Date.now() + 12000;
  while (Date.now() < deadline && !logs.some((l) => l.includes('SessionId'))) {
    await new Promise((r) => setTimeout(r, 100));
  }
  check(logs.some((l) => l.includes('SessionId')), `no log message on the GET stream (saw ${logs.length})`);
  await withTimeout(client.callTool({ name: 'toggle-simulated-logging', arguments: {} }), 10000, 'toggle off');
}

await withTimeout(client.connect(transport), 10000, 'connect');
await step('echo before any restart', () => echo('before'));
await step('echo after a restart, with no failure seen by the client', async () => {
  await restart();
  await echo('after restart');
});
await step('the GET stream comes back on the new session', getStreamCarriesLogs);
await step('echo after a restart while the bridge was stopped (SIGSTOP/SIGCONT)', async () => {
  process.kill(transport.pid, 'SIGSTOP');
  await restart();
  process.kill(transport.pid, 'SIGCONT');
  await echo('after sleep');
  await echo('and again');
});
await step('five restarts in a row', async () => {
  for (let i = 0; i < 5; i++) {
    await restart();
    await echo(`restart ${i}`);
  }
});
await step('stdout carried only JSON-RPC', () => check(transport.badLines.length === 0, transport.badLines.join('\n')));
await client.close();
await server.kill();
console.log(failed ? `${failed} failed` : 'all passed');
process.exit(failed ? 1 : 0);
