// A tiny environment for tests of the loop, runner and store: named counters in SQLite.
import { z } from 'zod';
import { Task } from '../../src/core/index.ts';
import { defineCheck, defineEnvironment, defineTool, ToolError } from '../../src/envs/index.ts';
import { rowsOf } from '../../src/envs/index.ts';

export const counterTasks: Task[] = ['a', 'b', 'c'].map((id) =>
  Task.parse({
    id: `counter/${id}`,
    env: 'counter',
    instruction: `Increment counter ${id} twice.`,
    verifier: { checks: [{ check: 'counter_delta', id, delta: 2 }, { check: 'table_unchanged', table: 'counters', except: [id] }] },
    golden: { steps: [{ tool: 'increment', arguments: { id } }, { tool: 'increment', arguments: { id } }], answer: 'done' },
    tags: { domain: id === 'c' ? 'other' : 'counting', difficulty: 'easy' },
    limits: { maxTurns: 10, deadlineMs: 5000 },
  }),
);

export const counterEnv = defineEnvironment({
  name: 'counter',
  description: 'named counters (tests)',
  schema: 'CREATE TABLE counters (id TEXT PRIMARY KEY, value INTEGER NOT NULL)',
  startTime: '2026-01-05T09:00:00Z',
  seed: ({ db, rng }) => {
    for (const id of ['a', 'b', 'c']) db.prepare('INSERT INTO counters VALUES (?, ?)').run(id, rng.int(0, 100));
  },
  tools: {
    increment: defineTool({
      description: 'Add one to a counter.',
      input: z.object({ id: z.string() }),
      run: ({ id }, { db }) => {
        if (db.prepare('UPDATE counters SET value = value + 1 WHERE id = ?').run(id).changes === 0) throw new ToolError(`no counter ${id}`);
        return 'ok';
      },
    }),
    reset_counter: defineTool({
      description: 'Set a counter to zero.',
      input: z.object({ id: z.string() }),
      run: ({ id }, { db }) => {
        db.prepare('UPDATE counters SET value = 0 WHERE id = ?').run(id);
        return 'ok';
      },
    }),
    hang: defineTool({
      description: 'Never returns (tests the watchdog).',
      input: z.object({}),
      run: () => new Promise<string>(() => {}),
    }),
  },
  checks: {
    counter_delta: defineCheck({
      kind: 'outcome',
      description: 'a counter moved by delta',
      params: z.object({ id: z.string(), delta: z.number().int() }),
      run: ({ id, delta }, { initial, final }) => {
        const before = rowsOf(initial, 'counters').find((r) => r.id === id)?.value as number;
        const after = rowsOf(final, 'counters').find((r) => r.id === id)?.value as number;
        return { passed: after - before === delta, detail: `${before} -> ${after}` };
      },
    }),
  },
  tasks: () => counterTasks,
  destructive: () => ['a', 'b', 'c'].map((id) => ({ tool: 'reset_counter', arguments: { id } })),
});

/** A catalog holding only the counter environment, for runs in tests. */
export const counterCatalog = { names: () => ['counter'], get: () => counterEnv };
