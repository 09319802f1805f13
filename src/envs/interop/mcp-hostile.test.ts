// MCP servers that misbehave (test/fixtures/mcp/rogue-server.ts): junk on stdout, crashes between
// calls, huge results and listings, children that ignore SIGTERM, names that hide the
// environment's tools. A server's failure is the environment's (InfraError), a tool's failure the
// model's to read, nothing outlives the connection, and the rollout never takes unbounded input.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it, type TestContext } from 'node:test';
import { z } from 'zod';
import { InfraError, InputError } from '../../core/index.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { defineEnvironment, defineTool } from '../define.ts';
import { instantiate } from '../instance.ts';
import { connectMcpTools, MAX_RESULT_CHARS, MAX_SERVER_TOOLS, withMcpTools, type McpConnection, type McpServerSpec } from './mcp-client.ts';
import { processesWithArgument } from '../../../test/support/processes.ts';
import { waitFor } from '../../../test/support/wait.ts';

const ROGUE = fileURLToPath(new URL('../../../test/fixtures/mcp/rogue-server.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const scratch = mkdtempSync(join(tmpdir(), 'gauntlet-mcp-hostile-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const signal = new AbortController().signal;
const { bwrap } = await sandboxAvailability();

let started = 0;
/** The rogue server; its last argument (`spec.args.at(-1)`) tags its process in /proc for this test alone. */
function rogue(env: Record<string, string> = {}): McpServerSpec & { args: string[] } {
  const tag = `rogue-${process.pid}-${++started}`;
  return { name: 'rogue', command: process.execPath, args: ['--import', import.meta.resolve('tsx'), ROGUE, tag], env, readOnlyPaths: [PROJECT_ROOT], cwd: PROJECT_ROOT };
}
const tagOf = (spec: { args: string[] }) => spec.args.at(-1)!;

/** A tool list the rogue server offers instead of its own. */
function toolsFile(tools: unknown[]): string {
  const path = join(scratch, `tools-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(tools));
  return path;
}


for (const sandbox of ['none', 'bwrap'] as const) {
  const skip = (t: TestContext) => {
    if (sandbox === 'bwrap' && !bwrap.available) t.skip(`bwrap unavailable here: ${bwrap.reason}`);
    return sandbox === 'bwrap' && !bwrap.available;
  };

  describe(`misbehaving MCP servers (${sandbox === 'none' ? 'host process' : 'inside bubblewrap'})`, () => {
    it('log lines, invalid messages and replies to unknown ids on stdout are skipped; calls still answer', async (t) => {
      if (skip(t)) return;
      const connection = await connectMcpTools({ servers: [rogue({ ROGUE_MODE: 'junk' })], sandbox });
      try {
        assert.deepEqual(await connection.call('rogue__echo', { text: 'one' }, { signal }), { ok: true, content: 'one' });
        assert.deepEqual(await connection.call('rogue__echo', { text: 'two' }, { signal }), { ok: true, content: 'two' });
      } finally {
        await connection.close();
      }
    });

    it('a server that exited after a call is an environment infrastructure error on the next call, not a tool error for the model', async (t) => {
      if (skip(t)) return;
      const server = rogue({ ROGUE_MODE: 'crash-after' });
      const connection = await connectMcpTools({ servers: [server], sandbox });
      try {
        assert.deepEqual(await connection.call('rogue__echo', { text: 'a' }, { signal }), { ok: true, content: 'a' });
        // The server exits right after answering; the next call must not be charged to the model.
        await waitFor(() => processesWithArgument(tagOf(server)).length === 0, 'the server to exit');
        const outcome = await connection.call('rogue__echo', { text: 'b' }, { signal }).catch((error: unknown) => error);
        assert.ok(outcome instanceof InfraError, `got ${JSON.stringify(outcome)}`);
        assert.equal(outcome.source, 'environment');
        assert.match(outcome.message, /MCP server "rogue" (is no longer running|closed the connection)/);
      } finally {
        await connection.close();
      }
    });

    it("a huge result is cut for the model, saying so", async (t) => {
      if (skip(t)) return;
      const connection = await connectMcpTools({ servers: [rogue({ ROGUE_HUGE_BYTES: String(MAX_RESULT_CHARS * 3) })], sandbox });
      try {
        const outcome = await connection.call('rogue__huge', {}, { signal });
        assert.ok(outcome.ok);
        assert.ok(outcome.content.length < MAX_RESULT_CHARS + 100, `got ${outcome.content.length} characters`);
        assert.match(outcome.content, new RegExp(`\\[… output cut: ${MAX_RESULT_CHARS * 3} characters in all\\]$`));
      } finally {
        await connection.close();
      }
    });

    it('a server that ignores SIGTERM and the end of stdin, and its own child, are gone once the connection closes', async (t) => {
      if (skip(t)) return;
      const marker = `rogue-child-${process.pid}-${sandbox}`;
      const server = rogue({ ROGUE_MODE: 'stubborn', ROGUE_MARKER: marker });
      const connection = await connectMcpTools({ servers: [server], sandbox });
      try {
        assert.deepEqual(await connection.call('rogue__echo', { text: 'a' }, { signal }), { ok: true, content: 'a' });
        await waitFor(() => processesWithArgument(marker).length > 0, 'the server to start its child');
      } finally {
        await connection.close();
      }
      await waitFor(() => processesWithArgument(marker).length === 0 && processesWithArgument(tagOf(server)).length === 0, 'the server and its child to be gone');
    });
  });
}

describe('MCP tool listings that cannot go to a model', () => {
  const refused = async (tools: unknown[], pattern: RegExp) => {
    await assert.rejects(connectMcpTools({ servers: [rogue({ ROGUE_TOOLS_FILE: toolsFile(tools) })] }), (error: unknown) => {
      assert.ok(error instanceof InfraError, String(error));
      assert.equal(error.source, 'environment');
      assert.equal(error.retryable, false);
      assert.match(error.message, pattern);
      return true;
    });
  };

  it('more tools than a model can be offered are refused when the server starts', async () => {
    const many = Array.from({ length: MAX_SERVER_TOOLS + 1 }, (_, i) => ({ name: `t${i}`, inputSchema: { type: 'object' } }));
    await refused(many, new RegExp(`MCP server "rogue" .* failed to start: its tool list cannot be offered to a model: it lists ${MAX_SERVER_TOOLS + 1} tools \\(at most ${MAX_SERVER_TOOLS}\\)`));
  });

  it('a tool whose description and schema are enormous is refused, naming it', async () => {
    await refused([{ name: 'bloated', description: 'd'.repeat(2_000_000), inputSchema: { type: 'object' } }], /its tool "bloated" takes 1954 KiB as JSON/);
  });

  it('MCP tools named like the environment\'s own tools are refused instead of hiding them, and the servers stop', async () => {
    const env = defineEnvironment({
      name: 'clash',
      description: 'an environment whose own tool has the name an MCP tool would get',
      schema: 'CREATE TABLE t (id INTEGER PRIMARY KEY)',
      startTime: '2026-01-05T09:00:00Z',
      seed: () => undefined,
      tools: { rogue__echo: defineTool({ description: 'The environment\'s own.', input: z.object({}), run: () => 'own' }) },
      checks: {},
      tasks: () => [],
      destructive: () => [],
    });
    const server = rogue();
    const connection: McpConnection = await connectMcpTools({ servers: [server] });
    const environment = instantiate(env);
    try {
      assert.throws(() => withMcpTools(environment, connection), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.message, /^mcpServers: MCP tools rogue__echo have the names of clash's own tools/);
        return true;
      });
      await waitFor(() => processesWithArgument(tagOf(server)).length === 0, 'the refused servers to stop');
    } finally {
      await environment.close();
      await connection.close();
    }
  });
});
