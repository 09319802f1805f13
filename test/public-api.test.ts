// The package's public face: define an environment and run it, using only what src/index.ts exports.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { createModelClient, defineCheck, defineEnvironment, defineTool, executeRun, openStore, RunConfig, Task, ToolError } from '../src/index.ts';

const greetings = defineEnvironment({
  name: 'greetings',
  description: 'people to greet',
  schema: 'CREATE TABLE people (id TEXT PRIMARY KEY, greeted INTEGER NOT NULL DEFAULT 0)',
  startTime: '2026-01-01T09:00:00Z',
  seed: ({ db }) => void db.prepare(`INSERT INTO people (id) VALUES ('ada'), ('grace')`).run(),
  tools: {
    greet: defineTool({
      description: 'Greet someone.',
      input: z.object({ person: z.string() }),
      run: ({ person }, { db }) => {
        if (db.prepare('UPDATE people SET greeted = 1 WHERE id = ?').run(person).changes === 0) throw new ToolError(`nobody called ${person}`);
        return `greeted ${person}`;
      },
    }),
  },
  checks: {
    greeted: defineCheck({
      kind: 'outcome',
      description: 'exactly these people were greeted',
      params: z.object({ people: z.array(z.string()) }),
      run: ({ people }, { db }) => {
        const greeted = (db.prepare('SELECT id FROM people WHERE greeted = 1 ORDER BY id').all() as { id: string }[]).map((r) => r.id);
        return { passed: JSON.stringify(greeted) === JSON.stringify([...people].sort()), detail: greeted.join(', ') };
      },
    }),
  },
  tasks: () => [
    Task.parse({
      id: 'greetings/ada',
      env: 'greetings',
      instruction: 'Say hello to Ada, and only to Ada.',
      verifier: { checks: [{ check: 'greeted', people: ['ada'] }] },
      golden: { steps: [{ tool: 'greet', arguments: { person: 'ada' } }] },
      tags: { domain: 'social', difficulty: 'easy' },
    }),
  ],
  destructive: () => [{ tool: 'greet', arguments: { person: 'grace' } }],
});

describe('public API', () => {
  it('defines an environment and runs the oracle and a do-nothing policy on it', async () => {
    const store = openStore(':memory:');
    const run = (model: string) =>
      createModelClient(model).then((client) =>
        executeRun({
          store,
          model: client,
          catalog: { names: () => ['greetings'], get: () => greetings },
          run: { resolved: { tasks: greetings.tasks(), config: RunConfig.parse({ envs: ['greetings'], model, epochs: 2, concurrency: 2, seed: 1 }) } },
        }),
      );
    assert.equal((await run('oracle')).passRate, 1);
    assert.equal((await run('noop')).passRate, 0);
    store.close();
  });
});
