import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { Task, type JsonObject } from '../core/index.ts';
import { defineCheck, defineEnvironment, defineTool, defineWorldEvent, ToolError } from './define.ts';
import { instantiate } from './instance.ts';
import { rowsOf } from './state.ts';

const counter = defineEnvironment({
  name: 'counter',
  description: 'a test environment with named counters',
  schema: 'CREATE TABLE counters (id TEXT PRIMARY KEY, value INTEGER NOT NULL, updated_at TEXT NOT NULL)',
  startTime: '2026-01-05T09:00:00Z',
  seed: ({ db, clock, rng }) => {
    for (const id of ['a', 'b', 'c']) db.prepare('INSERT INTO counters VALUES (?, ?, ?)').run(id, rng.int(0, 100), clock.now().toISOString());
  },
  tools: {
    increment: defineTool({
      description: 'Add one to a counter.',
      input: z.object({ id: z.string() }),
      run: ({ id }, { db, clock }) => {
        const changed = db.prepare('UPDATE counters SET value = value + 1, updated_at = ? WHERE id = ?').run(clock.now().toISOString(), id);
        if (changed.changes === 0) throw new ToolError(`no counter ${id}`);
        return { ok: true };
      },
    }),
    explode: defineTool({
      description: 'Changes a row, then fails.',
      input: z.object({}),
      run: (_input, { db }) => {
        db.prepare('UPDATE counters SET value = -1').run();
        throw new ToolError('boom');
      },
    }),
    submit: defineTool({ description: 'Finish.', input: z.object({ answer: z.string() }), endsEpisode: true, run: ({ answer }) => ({ content: 'submitted', answer }) }),
  },
  checks: {
    counter_is: defineCheck({
      kind: 'outcome',
      description: 'counter has a value',
      params: z.object({ id: z.string(), delta: z.number().int() }),
      run: ({ id, delta }, { initial, final }) => {
        const before = rowsOf(initial, 'counters').find((r) => r.id === id)?.value as number;
        const after = rowsOf(final, 'counters').find((r) => r.id === id)?.value as number;
        return { passed: after - before === delta, detail: `${id}: ${before} -> ${after}` };
      },
    }),
  },
  events: {
    bump: defineWorldEvent({
      description: 'someone else bumps a counter',
      params: z.object({ id: z.string() }),
      apply: ({ id }, { db }) => void db.prepare('UPDATE counters SET value = value + 10 WHERE id = ?').run(id),
    }),
  },
  tasks: () => [],
  destructive: () => [{ tool: 'explode', arguments: {} }],
});

const task = Task.parse({
  id: 'counter-1',
  env: 'counter',
  instruction: 'Increment a twice.',
  verifier: { checks: [{ check: 'counter_is', id: 'a', delta: 2 }, { check: 'table_unchanged', table: 'counters', except: ['a'] }] },
  golden: { steps: [{ tool: 'increment', arguments: { id: 'a' } }, { tool: 'increment', arguments: { id: 'a' } }] },
  tags: { domain: 'test', difficulty: 'easy' },
});

async function instantiateAndSnapshot(seed: number): Promise<JsonObject[]> {
  const env = instantiate(counter);
  await env.reset(task, { seed });
  const rows = (await env.snapshot()).counters as JsonObject[];
  await env.close();
  return rows;
}

describe('defined environments', () => {
  const signal = new AbortController().signal;

  it('passes the golden path and fails when an invariant breaks', async () => {
    const env = instantiate(counter);
    await env.reset(task, { seed: 1 });
    for (const step of task.golden.steps) assert.equal((await env.call(step.tool, step.arguments, { signal })).ok, true);
    assert.equal((await env.verify({ answer: null })).passed, true);
    await env.call('increment', { id: 'b' }, { signal });
    const outcome = await env.verify({ answer: null });
    assert.equal(outcome.passed, false);
    assert.equal(outcome.checks.find((c) => c.kind === 'invariant')?.passed, false);
    await env.close();
  });

  it('reports bad arguments and unknown tools as values, and rolls back failed calls', async () => {
    const env = instantiate(counter);
    await env.reset(task, { seed: 1 });
    const before = await env.snapshot();
    assert.deepEqual(await env.call('nope', {}, { signal }), { ok: false, kind: 'unknown_tool', error: 'unknown tool "nope"; available: increment, explode, submit' });
    const bad = await env.call('increment', { id: 3 }, { signal });
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.error : '', /id: .*expected string/i);
    const boom = await env.call('explode', {}, { signal });
    assert.deepEqual(boom, { ok: false, kind: 'tool_error', error: 'boom' });
    assert.deepEqual((await env.snapshot()).counters, before.counters);
  });

  it('refuses arguments the tool does not take, with the bad type named too, and changes nothing', async () => {
    const env = instantiate(counter);
    await env.reset(task, { seed: 1 });
    const before = await env.snapshot();
    assert.deepEqual(await env.call('increment', { id: 'a', by: 2 }, { signal }), { ok: false, kind: 'invalid_arguments', error: 'invalid arguments for increment:\nunknown key "by"; expected one of id' });
    const both = await env.call('increment', { Id: 'a' }, { signal });
    assert.ok(!both.ok && /^invalid arguments for increment:\nid: .*expected (a )?string.*\nunknown key "Id" \(did you mean "id"\?\)/s.test(both.error), JSON.stringify(both));
    assert.deepEqual((await env.snapshot()).counters, before.counters);
    await env.close();
  });

  it('hands out each snapshot of the seeded state as a copy: changing one changes neither later snapshots nor the verdict', async () => {
    const env = instantiate(counter);
    await env.reset(task, { seed: 1 });
    const first = await env.snapshot();
    const rows = first.counters as JsonObject[];
    rows[0]!.value = 999;
    rows.pop();
    const again = (await env.snapshot()).counters as JsonObject[];
    assert.equal(again.length, 3);
    assert.notEqual(again[0]!.value, 999);
    for (const step of task.golden.steps) await env.call(step.tool, step.arguments, { signal });
    assert.equal((await env.verify({ answer: null })).passed, true);
    await env.close();
  });

  it('gives identical states for the same seed and different ones for another seed', async () => {
    const states = [];
    for (const seed of [7, 7, 8]) {
      const env = instantiate(counter);
      await env.reset(task, { seed });
      await env.call('increment', { id: 'a' }, { signal });
      states.push(JSON.stringify(await env.snapshot()));
    }
    assert.equal(states[0], states[1]);
    assert.notEqual(states[0], states[2]);
  });

  it('pictures the seeded state before the first tool call changes it, and calls a change outside tool calls a defect', async () => {
    // The first call writes: the verdict's `initial` must still be the world as seeded.
    const env = instantiate(counter);
    await env.reset(task, { seed: 7 });
    const seededA = (await instantiateAndSnapshot(7)).find((r) => r.id === 'a')!.value as number;
    await env.call('increment', { id: 'a' }, { signal });
    await env.call('increment', { id: 'a' }, { signal });
    const outcome = await env.verify({ answer: null });
    assert.equal(outcome.passed, true);
    assert.equal(outcome.checks[0]!.detail, `a: ${seededA} -> ${seededA + 2}`);
    await env.close();

    // A statement compiled while seeding and run afterwards writes unseen: the world can no longer be pictured as seeded.
    let kept: Database.Statement | undefined;
    const leaky = defineEnvironment({ ...counter, name: 'leaky', seed: (ctx) => void (counter.seed(ctx), (kept = ctx.db.prepare('UPDATE counters SET value = 0'))) });
    const other = instantiate(leaky);
    await other.reset({ ...task, env: 'leaky' }, { seed: 7 });
    kept!.run();
    await assert.rejects(other.call('increment', { id: 'a' }, { signal }), /written after reset by a statement kept from before it/);
    await other.close();
  });

  it('pictures the seeded world just before the first write, never for calls that only read', async () => {
    const prepared: string[] = [];
    const watched = defineEnvironment({
      ...counter,
      name: 'watched',
      seed: (ctx) => {
        counter.seed(ctx);
        const prepare = ctx.db.prepare;
        ctx.db.prepare = ((sql: string) => (prepared.push(sql), prepare.call(ctx.db, sql))) as typeof ctx.db.prepare;
      },
      tools: {
        ...counter.tools,
        peek: defineTool({ description: 'Read a counter.', input: z.object({ id: z.string() }), run: ({ id }, { db }) => ({ content: String((db.prepare('SELECT value FROM counters WHERE id = ?').get(id) as { value: number }).value) }) }),
      },
    });
    const pictures = () => prepared.filter((sql) => sql.startsWith('SELECT * FROM')).length;
    const env = instantiate(watched);
    await env.reset({ ...task, env: 'watched' }, { seed: 7 });
    prepared.length = 0;
    const seededA = Number(((await env.call('peek', { id: 'a' }, { signal })) as { content: string }).content);
    await env.call('peek', { id: 'b' }, { signal });
    assert.equal(pictures(), 0, 'reads took no picture');
    // Read-only so far: the verdict's `initial` is the world as it stands.
    const unchanged = await env.verify({ answer: null });
    assert.equal(unchanged.checks[0]!.detail, `a: ${seededA} -> ${seededA}`);
    await env.call('increment', { id: 'a' }, { signal });
    assert.equal(pictures(), 2, 'the first write pictured the seeded tables once (verify read them once before)');
    await env.call('increment', { id: 'a' }, { signal });
    assert.equal(pictures(), 2);
    const outcome = await env.verify({ answer: null });
    assert.equal(outcome.checks[0]!.detail, `a: ${seededA} -> ${seededA + 2}`);
    assert.equal(outcome.passed, true);
    await env.close();
  });

  it('fires scheduled world events on the seeded clock', async () => {
    const env = instantiate(counter);
    const moving = Task.parse({ ...task, initialState: { schedule: [{ event: 'bump', afterCalls: 1, params: { id: 'c' } }] } });
    await env.reset(moving, { seed: 1 });
    const before = rowsOf(await env.snapshot(), 'counters').find((r) => r.id === 'c')?.value as number;
    await env.call('increment', { id: 'a' }, { signal });
    const after = rowsOf(await env.snapshot(), 'counters').find((r) => r.id === 'c')?.value as number;
    assert.equal(after, before + 10);
  });

  it('publishes JSON Schema for tool inputs and marks submit tools', async () => {
    const env = instantiate(counter);
    await env.reset(task, { seed: 1 });
    const spec = env.tools().find((t) => t.name === 'increment');
    assert.deepEqual(spec?.parameters.required, ['id']);
    const submitted = await env.call('submit', { answer: '42' }, { signal });
    assert.deepEqual(submitted, { ok: true, content: 'submitted', answer: '42', endsEpisode: true });
  });

  it('takes reward terms named like Object.prototype members as the terms they are', async () => {
    const named = defineEnvironment({
      ...counter,
      name: 'named-rewards',
      checks: {
        ...counter.checks,
        rewards_of: defineCheck({ kind: 'outcome', description: 'reports named reward terms', params: z.object({}), run: () => ({ passed: true, rewards: { constructor: 1, toString: 0.5 } }) }),
      },
    });
    const env = instantiate(named);
    await env.reset({ ...task, env: 'named-rewards', verifier: { checks: [{ check: 'rewards_of' }] } }, { seed: 1 });
    const outcome = await env.verify({ answer: null });
    assert.deepEqual({ ...outcome.rewards }, { constructor: 1, toString: 0.5 });
  });
});
