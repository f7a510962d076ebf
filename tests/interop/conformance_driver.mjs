// Plays the desktop client for the official conformance suite: the suite appends its mock
// server's URL; we launch claribi-bridge on it over stdio and act out the scenario named by
// MCP_CONFORMANCE_SCENARIO with the official SDK client.
// For auth scenarios the bridge logs in by itself: $BROWSER is browser-follow.sh (a curl
// that follows the redirects, after BROWSER_FOLLOW_DELAY seconds), secrets go to a
// file store under a throwaway HOME, and the scenario's context (MCP_CONFORMANCE_CONTEXT)
// becomes the flags and `key set` calls a user would make.
// Usage (by the suite): node conformance_driver.mjs BRIDGE_BINARY SERVER_URL
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createHash } from 'node:crypto';
import { ElicitRequestSchema, ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { TappedStdioTransport, check, here } from './common.mjs';

const [bridge, url] = process.argv.slice(2);
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? 'initialize';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT || '{}');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'claribi-conformance-'));
const env = {
  ...process.env,
  HOME: home,
  XDG_STATE_HOME: path.join(home, 'state'),
  BROWSER: path.join(here, 'browser-follow.sh'),
};
const common = ['--credential-store', 'file', '--log-level', process.env.CLARIBI_LOG_LEVEL || 'info'];
const keySet = (flag, value) =>
  execFileSync(bridge, [...common, 'key', 'set', flag, url], { input: value, env, stdio: ['pipe', 'ignore', 'inherit'] });

const flags = [];
if (scenario === 'auth/pre-registration') {
  flags.push('--client-id', context.client_id);
  keySet('--client-secret', context.client_secret);
} else if (scenario === 'auth/basic-cimd') {
  flags.push('--client-metadata-url', 'https://conformance-test.local/client-metadata.json');
} else if (scenario.startsWith('auth/client-credentials')) {
  flags.push('--client-credentials', '--client-id', context.client_id);
  if (context.private_key_pem) keySet('--client-key', context.private_key_pem);
  else keySet('--client-secret', context.client_secret);
} else if (scenario === 'auth/wif-jwt-bearer') {
  // The workload's OIDC token, as a CI system or a cloud leaves it in a file.
  const file = path.join(home, 'workload.jwt');
  fs.writeFileSync(file, `${context.valid_jwt}\n`, { mode: 0o600 });
  flags.push('--client-id', context.client_id, '--workload-token-file', file);
} else if (context.idp_token_endpoint) {
  flags.push('--client-id', context.client_id, '--idp-token-endpoint', context.idp_token_endpoint,
    '--idp-client-id', context.idp_client_id);
  keySet('--client-secret', context.client_secret);
  keySet('--idp-token', context.idp_id_token);
}
const transport = new TappedStdioTransport({ command: bridge, args: [...common, ...flags, url], env, stderr: 'inherit' });
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
  if (scenario.startsWith('sep-2640-')) {
    await actAsSkillsHost(client, scenario);
    throw null;  // nothing else to do: close and report
  }
  const { tools } = await client.listTools();
  const call = async (name, args) => {
    const r = await client.callTool({ name, arguments: args });
    console.error(`driver: ${name} -> ${JSON.stringify(r.content).slice(0, 200)}`);
    return r;
  };
  if (context.toolCalls) {
    // The scenario says what to call with which arguments (http-custom-headers).
    for (const c of context.toolCalls) await call(c.name, c.arguments);
  } else if (scenario === 'json-schema-2020-12-preservation') {
    // Round-trip the focal tool's schema, as received, through the echo tool.
    const focal = tools.find((t) => t.name !== 'json_schema_echo');
    await call('json_schema_echo', { schema: focal.inputSchema });
  } else if (scenario !== 'json-schema-ref-no-deref') {  // that one only lists
    const sample = { add_numbers: { a: 5, b: 3 }, valid_tool: { region: 'us-west1' } };
    for (const tool of tools) await call(tool.name, sample[tool.name] ?? {});
  }
  if (scenario === 'http-standard-headers') {
    // Every method that has a standard header, once.
    const { resources } = await client.listResources();
    for (const r of resources) await client.readResource({ uri: r.uri });
    const { prompts } = await client.listPrompts();
    for (const p of prompts) await client.getPrompt({ name: p.name });
  }
} catch (e) {
  if (e !== null) {
    console.error(`driver (${scenario}) failed: ${e.stack || e}`);
    code = 1;
  }
} finally {
  await client.close().catch(() => {});
}
try {
  check(transport.badLines.length === 0, `non-JSON-RPC stdout lines: ${JSON.stringify(transport.badLines)}`);
} catch (e) {
  console.error(String(e));
  code = 1;
}
fs.rmSync(home, { recursive: true, force: true });
process.exit(code);

// The skills extension (SEP-2640) asks things of the host, which the bridge carries: the
// driver lists skills through it (an extension method the bridge passes on unchanged),
// never reads a file ahead of need, and verifies a SKILL.md it reads against the listed
// entry (size, digest, frontmatter) before reading anything the skill refers to.
async function actAsSkillsHost(c, name) {
  const { skills = [] } = await c.request({ method: 'skills/list', params: {} }, ResultSchema);
  console.error(`driver: skills/list -> ${skills.length} skill(s)`);
  if (name === 'sep-2640-client-no-prefetch') return;
  for (const entry of skills) {
    const read = await c.readResource({ uri: entry.uri });
    const text = read.contents?.[0]?.text ?? '';
    const listed = entry.resources?.find((r) => r.uri === entry.uri) ?? {};
    const digest = `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
    const front = Object.fromEntries(
      (text.match(/^---\n([\s\S]*?)\n---/)?.[1] ?? '').split('\n')
        .map((l) => l.match(/^(\w+):\s*(.*)$/)).filter(Boolean).map((m) => [m[1], m[2]]));
    const problems = [
      listed.size !== undefined && Buffer.byteLength(text, 'utf8') !== listed.size && 'size',
      listed.digest !== undefined && digest !== listed.digest && 'digest',
      Object.entries(entry.frontmatter ?? {}).some(([k, v]) => front[k] !== v) && 'frontmatter',
    ].filter(Boolean);
    if (problems.length > 0) {
      console.error(`driver: ${entry.uri} fails verification (${problems.join(', ')}); not loaded`);
      continue;
    }
    for (const r of entry.resources ?? []) if (r.uri !== entry.uri) await c.readResource({ uri: r.uri });
  }
}
