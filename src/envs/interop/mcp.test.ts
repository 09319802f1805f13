import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { InfraError, Task } from '../../core/index.ts';
import { defineCheck, defineEnvironment, defineTool, ToolError } from '../define.ts';
import { instantiate } from '../instance.ts';
import { rowsOf } from '../state.ts';
import { connectMcpTools, withMcpTools, type McpServerSpec } from './mcp-client.ts';
import { createEnvironmentMcpServer } from './mcp-server.ts';

const tally = defineEnvironment({
  name: 'tally',
  description: 'a test environment with one running total',
  schema: 'CREATE TABLE tally (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)',
  startTime: '2026-01-05T09:00:00Z',
  seed: ({ db }) => void db.prepare('INSERT INTO tally VALUES (1, 0)').run(),
  tools: {
    add: defineTool({
      description: 'Add n to the total.',
      input: z.object({ n: z.number().int() }),
      run: ({ n }, { db }) => {
        db.prepare('UPDATE tally SET total = total + ?').run(n);
        return { total: (db.prepare('SELECT total FROM tally').get() as { total: number }).total };
      },
    }),
    reset: defineTool({
      description: 'Set the total back to zero (a tool name OpenEnv reserves).',
      input: z.object({}),
      run: (_input, { db }) => {
        db.prepare('UPDATE tally SET total = 0').run();
        return 'total is 0';
      },
    }),
    boom: defineTool({ description: 'Always fails.', input: z.object({}), run: () => { throw new ToolError('boom: nothing to blow up'); } }),
    submit: defineTool({ description: 'Finish.', input: z.object({ answer: z.string() }), endsEpisode: true, run: ({ answer }) => ({ content: 'submitted', answer }) }),
  },
  checks: {
    total_is: defineCheck({
      kind: 'outcome',
      description: 'the total has a value',
      params: z.object({ value: z.number().int() }),
      run: ({ value }, { final }) => ({ passed: rowsOf(final, 'tally')[0]?.total === value }),
    }),
  },
  tasks: () => [],
  destructive: () => [],
});

const task = Task.parse({
  id: 'tally-1',
  env: 'tally',
  instruction: 'Bring the total to 5.',
  verifier: { checks: [{ check: 'total_is', value: 5 }] },
  golden: { steps: [{ tool: 'add', arguments: { n: 5 } }] },
  tags: { domain: 'test', difficulty: 'easy' },
});

const signal = new AbortController().signal;
const ECHO_SERVER = fileURLToPath(new URL('../../../test/fixtures/mcp/echo-server.ts', import.meta.url));
const echo = (name = 'echo', env: Record<string, string> = {}): McpServerSpec => ({ name, command: process.execPath, args: ['--import', 'tsx', ECHO_SERVER], env });

function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}

describe('an environment served over MCP', () => {
  it('lists the episode tools with JSON Schema inputs, renaming reserved names, and calls them', async () => {
    const environment = instantiate(tally);
    const { server, names } = await createEnvironmentMcpServer({ environment, task, seed: 1 });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'test', version: '0' });
    await server.connect(serverSide);
    await client.connect(clientSide);
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name), ['add', 'reset_tool', 'boom', 'submit']);
      assert.equal(names.get('reset_tool'), 'reset');
      const add = tools.find((t) => t.name === 'add')!;
      assert.equal(add.description, 'Add n to the total.');
      assert.deepEqual(add.inputSchema.required, ['n']);
      assert.equal((add.inputSchema.properties as Record<string, { type: string }>).n!.type, 'integer');
      assert.match(client.getInstructions() ?? '', /Bring the total to 5/);

      const added = (await client.callTool({ name: 'add', arguments: { n: 5 } })) as CallToolResult;
      assert.equal(added.isError, undefined);
      assert.deepEqual(added.structuredContent, { total: 5 });
      assert.equal((await environment.verify({ answer: null })).passed, true);

      const failed = (await client.callTool({ name: 'boom', arguments: {} })) as CallToolResult;
      assert.equal(failed.isError, true);
      assert.equal(text(failed), 'boom: nothing to blow up');
      assert.deepEqual(failed._meta, { 'gauntlet/kind': 'tool_error' });

      const invalid = (await client.callTool({ name: 'add', arguments: { n: 'five' } })) as CallToolResult;
      assert.equal(invalid.isError, true);
      assert.match(text(invalid), /invalid arguments for add/);

      const unknown = (await client.callTool({ name: 'reset', arguments: {} })) as CallToolResult;
      assert.equal(unknown.isError, true);
      assert.match(text(unknown), /unknown tool "reset"/);

      assert.equal(text((await client.callTool({ name: 'reset_tool', arguments: {} })) as CallToolResult), 'total is 0');
      const submitted = (await client.callTool({ name: 'submit', arguments: { answer: 'done' } })) as CallToolResult;
      assert.deepEqual(submitted._meta, { 'gauntlet/endsEpisode': true, 'gauntlet/answer': 'done' });
    } finally {
      await client.close();
      await environment.close();
    }
  });
});

describe('tools from MCP servers over stdio', () => {
  const open: { close(): Promise<void> }[] = [];
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
  });

  it('lists prefixed tools and turns results and errors into tool outcomes', async () => {
    const connection = await connectMcpTools({ servers: [echo('echo', { ECHO_PREFIX: '> ' })] });
    open.push(connection);
    assert.deepEqual(connection.tools.map((t) => t.name), ['echo__echo', 'echo__add', 'echo__fail']);
    assert.deepEqual(connection.tools[0]!.parameters, { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] });
    assert.deepEqual(await connection.call('echo__echo', { text: 'hi' }, { signal }), { ok: true, content: '> hi' });
    assert.deepEqual(await connection.call('echo__add', { a: 2, b: 3 }, { signal }), { ok: true, content: '5', data: { sum: 5 } });
    assert.deepEqual(await connection.call('echo__fail', {}, { signal }), { ok: false, kind: 'tool_error', error: 'the fail tool always fails' });
    assert.equal((await connection.call('echo__nope', {}, { signal })).ok, false);
    assert.deepEqual(await connection.call('echo__echo', [1], { signal }), { ok: false, kind: 'invalid_arguments', error: 'echo__echo: arguments must be an object' });
  });

  it('a server that fails to start is an environment infrastructure error with its stderr', async () => {
    await assert.rejects(
      connectMcpTools({ servers: [{ name: 'broken', command: process.execPath, args: ['-e', 'console.error("no config found"); process.exit(3)'] }] }),
      (error: unknown) => {
        assert.ok(error instanceof InfraError);
        assert.equal(error.source, 'environment');
        assert.match(error.message, /^MCP server "broken" \(.+\) failed to start: .*; its stderr: no config found/);
        return true;
      },
    );
  });

  it('bad server names are input errors', async () => {
    await assert.rejects(connectMcpTools({ servers: [echo('has space')] }), /servers\.0\.name: "has space" is not a valid server name/);
  });

  it('withMcpTools adds the MCP tools to an environment and routes calls by name', async () => {
    const connection = await connectMcpTools({ servers: [echo()] });
    const environment = withMcpTools(instantiate(tally), connection);
    try {
      await environment.reset(task, { seed: 1 });
      assert.deepEqual(environment.tools().map((t) => t.name), ['add', 'reset', 'boom', 'submit', 'echo__echo', 'echo__add', 'echo__fail']);
      assert.deepEqual(await environment.call('echo__echo', { text: 'routed' }, { signal }), { ok: true, content: 'routed' });
      assert.equal((await environment.call('add', { n: 5 }, { signal })).ok, true);
      assert.equal((await environment.verify({ answer: null })).passed, true);
    } finally {
      await environment.close();
    }
  });
});
