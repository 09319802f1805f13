// A CPU-bound environment for the worker-scaling bench: each tool call spins a deterministic
// integer hash for a fixed number of rounds on the main thread, as a heavy environment step does,
// so the figure measures how work spreads over worker processes, not how long a model takes.
import { z } from 'zod';
import { Task } from '../../core/index.ts';
import { defineCheck, defineEnvironment, defineTool, rowsOf, type EnvironmentDefinition } from '../../envs/index.ts';

/** xorshift32 for `rounds` × 100,000 steps: pure CPU, the same answer every time. */
export function crunch(seed: number, rounds: number): number {
  let x = seed | 0 || 1;
  for (let i = 0; i < rounds * 100_000; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x >>> 0;
}

export function burnTasks(options: { tasks: number; steps: number; rounds: number }): Task[] {
  return Array.from({ length: options.tasks }, (_, i) =>
    Task.parse({
      id: `burn/t${i}`,
      env: 'burn',
      instruction: `Crunch ${options.steps} times.`,
      verifier: { checks: [{ check: 'crunched', count: options.steps }] },
      golden: { steps: Array.from({ length: options.steps }, (_, s) => ({ tool: 'crunch', arguments: { seed: i * 1000 + s + 1, rounds: options.rounds } })), answer: 'done' },
      limits: { maxTurns: options.steps + 2, deadlineMs: 600_000 },
      tags: { domain: 'bench', difficulty: 'easy' },
    }),
  );
}

export function burnEnvironment(tasks: Task[]): EnvironmentDefinition {
  return defineEnvironment({
    name: 'burn',
    description: 'CPU-bound steps (the worker-scaling bench)',
    schema: 'CREATE TABLE results (seed INTEGER PRIMARY KEY, value INTEGER NOT NULL)',
    startTime: '2026-01-05T09:00:00Z',
    seed: () => {},
    tools: {
      crunch: defineTool({
        description: 'Spin a deterministic hash and record it.',
        input: z.object({ seed: z.number().int(), rounds: z.number().int().positive().max(10_000) }),
        run: ({ seed, rounds }, { db }) => {
          const value = crunch(seed, rounds);
          db.prepare('INSERT OR REPLACE INTO results VALUES (?, ?)').run(seed, value);
          return String(value);
        },
      }),
    },
    checks: {
      crunched: defineCheck({
        kind: 'outcome',
        description: 'every step recorded its hash',
        params: z.object({ count: z.number().int() }),
        run: ({ count }, { final }) => ({ passed: rowsOf(final, 'results').length === count }),
      }),
    },
    tasks: () => tasks,
    destructive: () => [],
  });
}
