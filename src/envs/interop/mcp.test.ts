import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it, type TestContext } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { InfraError, Task } from '../../core/index.ts';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { defineCheck, defineEnvironment, defineTool, ToolError } from '../define.ts';
import { instantiate } from '../instance.ts';
import { rowsOf } from '../state.ts';
import { connectMcpTools, withMcpTools, type McpServerSpec } from './mcp-client.ts';
import { createEnvironmentMcpServer } from './mcp-server.ts';
import { processesWithArgument } from '../../../test/support/processes.ts';
import { TYPESCRIPT_NODE_ARGS } from '../../../test/support/typescript.ts';

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
const echo = (name = 'echo', env: Record<string, string> = {}): McpServerSpec => ({ name, command: process.execPath, args: [...TYPESCRIPT_NODE_ARGS, ECHO_SERVER], env });
const PROBE_SERVER = fileURLToPath(new URL('../../../test/fixtures/mcp/probe-server.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const { bwrap } = await sandboxAvailability();

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


describe('MCP servers inside bubblewrap', () => {
  const requireBwrap = (t: TestContext) => {
    if (!bwrap.available) t.skip(`bwrap unavailable here: ${bwrap.reason}`);
    return bwrap.available;
  };

  it('lists and answers tools as the same server does on the host', async (t) => {
    if (!requireBwrap(t)) return;
    const connection = await connectMcpTools({ servers: [echo('echo', { ECHO_PREFIX: '> ' })], sandbox: 'bwrap' });
    try {
      assert.deepEqual(connection.tools.map((tool) => tool.name), ['echo__echo', 'echo__add', 'echo__fail']);
      assert.deepEqual(await connection.call('echo__echo', { text: 'boxed' }, { signal }), { ok: true, content: '> boxed' });
      assert.deepEqual(await connection.call('echo__add', { a: 2, b: 3 }, { signal }), { ok: true, content: '5', data: { sum: 5 } });
    } finally {
      await connection.close();
    }
  });

  it('has no network, a read-only host, its own /tmp and an unprivileged uid, where the host process has network and write access', async (t) => {
    if (!requireBwrap(t)) return;
    let connections = 0;
    const listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as AddressInfo;
    // The server's working directory: writable on the host, shown read-only in the sandbox.
    const cwd = mkdtempSync(join(tmpdir(), 'gauntlet-mcp-cwd-'));
    chmodSync(cwd, 0o755);
    const probe: McpServerSpec = { name: 'probe', command: process.execPath, args: ['--import', import.meta.resolve('tsx'), PROBE_SERVER], cwd, readOnlyPaths: [PROJECT_ROOT] };
    const text = async (connection: Awaited<ReturnType<typeof connectMcpTools>>, tool: string, args: Record<string, unknown>) => {
      const outcome = await connection.call(`probe__${tool}`, args, { signal });
      assert.ok(outcome.ok, JSON.stringify(outcome));
      return outcome.content;
    };
    const open: { close(): Promise<void> }[] = [];
    try {
      const onHost = await connectMcpTools({ servers: [probe] });
      open.push(onHost);
      const boxed = await connectMcpTools({ servers: [probe], sandbox: 'bwrap' });
      open.push(boxed);
      assert.equal(await text(onHost, 'connect', { host: '127.0.0.1', port }), 'connected');
      assert.equal(await text(onHost, 'write', { path: join(cwd, 'host.txt') }), 'written');
      assert.equal(connections, 1);

      assert.match(await text(boxed, 'connect', { host: '127.0.0.1', port }), /^error (ECONNREFUSED|ENETUNREACH)$/);
      assert.equal(connections, 1, 'the host listener never saw the sandboxed server');
      const whoami = JSON.parse(await text(boxed, 'whoami', {})) as { uid: number; interfaces: string[] };
      assert.deepEqual(whoami.interfaces, ['lo'], 'only its own loopback');
      assert.equal(whoami.uid, bwrap.runAs?.uid ?? process.getuid?.());
      assert.equal(await text(boxed, 'write', { path: join(cwd, 'boxed.txt') }), 'error EROFS');
      assert.equal(await text(boxed, 'write', { path: join(PROJECT_ROOT, 'planted.txt') }), 'error EROFS');
      assert.match(await text(boxed, 'write', { path: '/usr/planted.txt' }), /^error (EROFS|EACCES)$/);
      const scratch = `/tmp/gauntlet-mcp-scratch-${process.pid}.txt`;
      assert.equal(await text(boxed, 'write', { path: scratch }), 'written', 'its own /tmp is writable');
      assert.equal(existsSync(scratch), false, 'and is not the host\'s /tmp');
      assert.equal(existsSync(join(cwd, 'boxed.txt')), false);
    } finally {
      await Promise.all(open.map((connection) => connection.close()));
      listener.close();
      rmSync(cwd, { recursive: true, force: true });
    }
    assert.deepEqual(processesWithArgument(PROBE_SERVER), [], 'closing stops both servers');
  });

  it('a server that cannot start in the sandbox is an environment infrastructure error with its stderr', async (t) => {
    if (!requireBwrap(t)) return;
    await assert.rejects(
      connectMcpTools({ servers: [{ name: 'broken', command: process.execPath, args: ['-e', 'console.error("no config found"); process.exit(3)'] }], sandbox: 'bwrap' }),
      (error: unknown) => {
        assert.ok(error instanceof InfraError);
        assert.equal(error.source, 'environment');
        assert.match(error.message, /^MCP server "broken" \(.+\) failed to start inside bubblewrap: .*; its stderr: no config found/);
        return true;
      },
    );
    await assert.rejects(connectMcpTools({ servers: [{ name: 'ghost', command: 'no-such-mcp-server-gauntlet' }], sandbox: 'bwrap' }), /failed to start inside bubblewrap: command: "no-such-mcp-server-gauntlet" not found/);
  });
});
