// Tools of an external MCP server used inside an environment during a run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunConfig } from '../src/core/index.ts';
import { executeRun } from '../src/runner/index.ts';
import { openStore } from '../src/store/index.ts';
import { counterCatalog, counterTasks } from './support/counter-env.ts';
import { assistant, functionModel, reply } from './support/models.ts';
import { TYPESCRIPT_NODE_ARGS } from './support/typescript.ts';

describe('MCP tools in a run', () => {
  it('offers the server\'s tools beside the environment\'s and routes calls to it', async () => {
    let offered: string[] = [];
    const model = functionModel('test:mcp', (i, request) => {
      offered = request.tools.map((t) => t.name);
      if (i === 0) return reply(assistant({ toolCalls: [{ id: 'm1', name: 'echo__add', arguments: { a: 2, b: 3 }, argumentsText: '{"a":2,"b":3}' }] }));
      return reply(assistant({ content: 'done' }));
    });
    const store = openStore(':memory:');
    const summary = await executeRun({
      store,
      model,
      catalog: counterCatalog,
      run: {
        resolved: {
          tasks: counterTasks.slice(0, 1),
          config: RunConfig.parse({
        envs: ['counter'],
        model: 'test',
        epochs: 1,
        concurrency: 1,
        seed: 1,
        maxAttempts: 1,
        mcpServers: [{ name: 'echo', command: process.execPath, args: [...TYPESCRIPT_NODE_ARGS, 'test/fixtures/mcp/echo-server.ts'] }],
          }),
        },
      },
    });
    assert.equal(summary.scored, 1, JSON.stringify(store.rollouts(summary.runId)[0]?.error));
    assert.ok(offered.includes('increment') && offered.includes('echo__add'), offered.join(', '));
    const calls = store.modelCalls(store.rollouts(summary.runId)[0]!.id);
    const toolReply = calls[1]!.request.messages.at(-1)!;
    assert.equal(toolReply.role, 'tool');
    assert.match(toolReply.content, /5/);
  });
});
