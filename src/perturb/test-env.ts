// A small environment for the perturbation tests, defined like any other: a key/value store with
// tools whose parameters cover what the tool perturbations reshape (defaults, an enum, a boolean,
// a required string), and one task whose golden solution writes two keys and submits.
import { z } from 'zod';
import { stableStringify, Task, type Environment, type ToolOutcome } from '../core/index.ts';
import { defineCheck, defineEnvironment, defineTool, instantiate, ToolError, type EnvironmentDefinition } from '../envs/index.ts';
import type { PerturbedEpisode } from './apply.ts';

const SCHEMA = 'CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, mode TEXT NOT NULL, pinned INTEGER NOT NULL);';

export const kvEnvironment: EnvironmentDefinition = defineEnvironment({
  name: 'kv',
  description: 'A key/value store for perturbation tests.',
  schema: SCHEMA,
  startTime: '2026-03-16T09:00:00Z',
  seed: (ctx) => {
    const rows = ctx.rng.int(3, 6);
    for (let i = 0; i < rows; i++) ctx.db.prepare("INSERT INTO kv (key, value, mode, pinned) VALUES (?, ?, 'plain', 0)").run(`seed_${i}`, `v${ctx.rng.int(0, 1000)}`);
  },
  tools: {
    list_keys: defineTool({
      description: 'List every key with its value. Results are sorted by key.',
      input: z.object({ prefix: z.string().default(''), limit: z.number().int().min(1).max(100).default(50) }),
      run: ({ prefix, limit }, { db }) => ({
        keys: db.prepare('SELECT key, value, mode, pinned FROM kv WHERE key LIKE ? ORDER BY key LIMIT ?').all(`${prefix}%`, limit) as { key: string; value: string }[],
      }),
    }),
    put_value: defineTool({
      description: 'Store a value under a key, replacing any earlier one.',
      input: z.object({
        item_key: z.string().min(1).describe('the key to write'),
        value: z.string().describe('the value'),
        mode: z.enum(['plain', 'secret']).default('plain'),
        pinned: z.boolean().default(false),
      }),
      run: ({ item_key, value, mode, pinned }, { db }) => {
        db.prepare('INSERT OR REPLACE INTO kv (key, value, mode, pinned) VALUES (?, ?, ?, ?)').run(item_key, value, mode, pinned ? 1 : 0);
        return `stored ${item_key}`;
      },
    }),
    read_value: defineTool({
      description: 'Read the value of one key.',
      input: z.object({ item_key: z.string().min(1) }),
      run: ({ item_key }, { db }) => {
        const row = db.prepare('SELECT value FROM kv WHERE key = ?').get(item_key) as { value: string } | undefined;
        if (!row) throw new ToolError(`no key ${item_key}; call list_keys to see them`);
        return row.value;
      },
    }),
    submit: defineTool({ description: 'Finish.', input: z.object({ answer: z.string().optional() }), run: ({ answer }) => ({ content: 'submitted', ...(answer ? { answer } : {}) }), endsEpisode: true }),
  },
  checks: {
    kv_equals: defineCheck({
      kind: 'outcome',
      description: 'The key holds the value, mode and pin.',
      params: z.object({ key: z.string(), value: z.string(), mode: z.enum(['plain', 'secret']).default('plain'), pinned: z.boolean().default(false) }),
      run: ({ key, value, mode, pinned }, { db }) => {
        const row = db.prepare('SELECT value, mode, pinned FROM kv WHERE key = ?').get(key) as { value: string; mode: string; pinned: number } | undefined;
        const ok = row !== undefined && row.value === value && row.mode === mode && row.pinned === (pinned ? 1 : 0);
        return ok ? { passed: true } : { passed: false, detail: `${key} is ${JSON.stringify(row ?? null)}` };
      },
    }),
  },
  tasks: () => [kvTask],
  destructive: () => [{ tool: 'put_value', arguments: { item_key: 'alpha', value: 'wrong' } }],
});

export const kvTask: Task = Task.parse({
  id: 'kv/store-two',
  env: 'kv',
  instruction: 'Store "one" under alpha as a pinned secret. Then store "two" under beta. Use put_value for both.',
  systemPrompt: 'You manage the kv store of Robin Hale.',
  verifier: {
    checks: [
      { check: 'kv_equals', key: 'alpha', value: 'one', mode: 'secret', pinned: true },
      { check: 'kv_equals', key: 'beta', value: 'two' },
      { check: 'answer_contains', values: ['done'] },
      { check: 'table_unchanged', table: 'kv', key: 'key', except: ['alpha', 'beta'] },
    ],
  },
  golden: {
    steps: [
      { tool: 'list_keys', arguments: {} },
      { tool: 'put_value', arguments: { item_key: 'alpha', value: 'one', mode: 'secret', pinned: true } },
      { tool: 'put_value', arguments: { item_key: 'beta', value: 'two' } },
      { tool: 'submit', arguments: { answer: 'done' } },
    ],
  },
  tags: { domain: 'kv', difficulty: 'easy' },
});

export interface KvReplay {
  passed: boolean;
  outcomes: ToolOutcome[];
  state: string;
  environment: Environment;
}

/**
 * Plays an episode's golden solution through its wrapped environment (kv unless told) as the oracle would (a
 * submit ends it; else the answer and follow-up answers), verifies, and leaves the environment open
 * for more calls (close it).
 */
export async function replayKv(episode: PerturbedEpisode, seed = 1, definition: EnvironmentDefinition = kvEnvironment): Promise<KvReplay> {
  const environment = episode.wrapEnvironment(instantiate(definition));
  await environment.reset(episode.task, { seed: episode.worldSeed(seed) });
  const signal = new AbortController().signal;
  const outcomes: ToolOutcome[] = [];
  let answer: string | null = episode.task.golden.answer ?? 'Done.';
  for (const step of episode.task.golden.steps) {
    const outcome = await environment.call(step.tool, step.arguments, { signal });
    outcomes.push(outcome);
    if (outcome.ok && outcome.endsEpisode) {
      answer = outcome.answer ?? null;
      break;
    }
  }
  const verdict = await environment.verify({ answer, messages: [] });
  return { passed: verdict.passed, outcomes, state: stableStringify(await environment.snapshot()), environment };
}
