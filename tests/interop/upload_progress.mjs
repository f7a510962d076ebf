// The official SDK client sends a file by path through claribi-bridge and must receive the
// upload's progress notifications in order. It also offers roots, so the bridge opens the
// client's root for uploads without any --upload-dir.
// Usage: node upload_progress.mjs BRIDGE SERVER_URL ROOT_DIR FILE SHA256
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { pathToFileURL } from 'node:url';
import { TappedStdioTransport, check, withTimeout } from './common.mjs';

const [bridge, url, root, file, sha] = process.argv.slice(2);
const transport = new TappedStdioTransport({ command: bridge, args: ['--log-level', 'warn', url], stderr: 'inherit' });
const client = new Client({ name: 'upload-progress', version: '1.0.0' }, { capabilities: { roots: { listChanged: true } } });
let rootsAsked = 0;
client.setRequestHandler(ListRootsRequestSchema, async () => {
  rootsAsked++;
  return { roots: [{ uri: pathToFileURL(root).href, name: 'uploads' }] };
});
await withTimeout(client.connect(transport), 10000, 'connect');
const { tools } = await client.listTools();
const upload = tools.find((t) => t.name === 'upload_data_source');
check(upload && upload.inputSchema.properties.data_path, 'the upload tool has a data_path twin');
for (let i = 0; i < 50 && rootsAsked === 0; i++) await new Promise((r) => setTimeout(r, 20));
check(rootsAsked > 0, 'the bridge asked the client for its roots');
await new Promise((r) => setTimeout(r, 100));  // the roots answer reaches the bridge

const progress = [];
const result = await withTimeout(client.callTool(
  { name: 'upload_data_source', arguments: { name: 'sdk', data_path: file } }, undefined,
  { onprogress: (p) => progress.push(p), timeout: 60000 }), 60000, 'upload');
check(!result.isError, `upload succeeded: ${JSON.stringify(result)}`);
check(result.content[0].text.startsWith(sha), `server got the file intact: ${result.content[0].text}`);
check(progress.length >= 3, `progress notifications: ${progress.length}`);
for (let i = 1; i < progress.length; i++) check(progress[i].progress > progress[i - 1].progress, 'progress increases');
const last = progress[progress.length - 1];
check(last.progress === last.total, `last progress ${last.progress} of ${last.total}`);
check(transport.badLines.length === 0, `stdout lines that are not JSON-RPC: ${transport.badLines}`);
await client.close();
console.log(JSON.stringify({ notifications: progress.length, last, rootsAsked }));
