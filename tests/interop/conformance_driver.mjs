// Plays the desktop client for the official conformance suite: the suite appends its mock
// server's URL; we launch claribi-bridge on it over stdio and act out the scenario named by
// MCP_CONFORMANCE_SCENARIO with the official SDK client.
// Usage (by the suite): node conformance_driver.mjs BRIDGE_BINARY SERVER_URL
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { TappedStdioTransport, check } from './common.mjs';

const [bridge, url] = process.argv.slice(2);
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? 'initialize';
const transport = new TappedStdioTransport({ command: bridge, args: ['--log-level', 'info', url], stderr: 'inherit' });
const client = new Client({ name: 'claribi-conformance-driver', version: '1.0.0' },
  { capabilities: { sampling: {}, elicitation: { form: { applyDefaults: true } } } });

// A desktop client fills omitted fields with the schema's defaults (SEP-1034).
client.setRequestHandler(ElicitRequestSchema, async (req) => {
  const content = {};
  for (const [name, p] of Object.entries(req.params.requestedSchema?.properties ?? {})) {
    if (p.default !== undefined) content[name] = p.default;
  }
  return { action: 'accept', content };
});

let code = 0;
try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  for (const tool of tools) {
    const args = tool.name === 'add_numbers' ? { a: 5, b: 3 } : {};
    const r = await client.callTool({ name: tool.name, arguments: args });
    console.error(`driver: ${tool.name} -> ${JSON.stringify(r.content).slice(0, 200)}`);
  }
} catch (e) {
  console.error(`driver (${scenario}) failed: ${e.stack || e}`);
  code = 1;
} finally {
  await client.close().catch(() => {});
}
try {
  check(transport.badLines.length === 0, `non-JSON-RPC stdout lines: ${JSON.stringify(transport.badLines)}`);
} catch (e) {
  console.error(String(e));
  code = 1;
}
process.exit(code);
