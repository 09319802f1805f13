import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { DefectError, Task, type Environment } from '../core/index.ts';
import { defineEnvironment, defineTool, ToolError } from './define.ts';
import { ImageCache, type Image } from './images.ts';
import { instantiate } from './instance.ts';
import { rowsOf } from './state.ts';

let fixedRuns = 0;

/** Rows from the task (fixed part), rows from the seed, and tools that write, fail or add a table. */
const ledger = defineEnvironment({
  name: 'ledger',
  description: 'a test environment whose worlds start from cached images',
  schema: 'CREATE TABLE entries (id TEXT PRIMARY KEY, source TEXT NOT NULL, value INTEGER NOT NULL)',
  startTime: '2026-01-05T09:00:00Z',
  seedFixed: ({ db, task, ids }) => {
    fixedRuns += 1;
    const names = z.object({ fixed: z.array(z.string()) }).parse(task.initialState).fixed;
    for (const name of names) db.prepare(`INSERT INTO entries VALUES (?, 'task', 0)`).run(name);
    db.prepare(`INSERT INTO entries VALUES (?, 'task', 0)`).run(ids.next('e'));
  },
  seed: ({ db, rng, ids }) => {
    for (let i = 0; i < 3; i++) db.prepare(`INSERT INTO entries VALUES (?, 'seed', ?)`).run(ids.next('e'), rng.int(0, 1000));
  },
  tools: {
    add: defineTool({
      description: 'Add an entry.',
      input: z.object({ id: z.string() }),
      run: ({ id }, { db }) => {
        db.prepare(`INSERT INTO entries VALUES (?, 'agent', 1)`).run(id);
        return 'added';
      },
    }),
    clear_then_fail: defineTool({
      description: 'Deletes everything, then fails.',
      input: z.object({}),
      run: (_input, { db }) => {
        db.prepare('DELETE FROM entries').run();
        throw new ToolError('boom');
      },
    }),
    add_table: defineTool({
      description: 'Creates an empty table.',
      input: z.object({}),
      run: (_input, { db }) => {
        db.exec('CREATE TABLE notes (text TEXT)');
        return 'created';
      },
    }),
    look: defineTool({ description: 'Counts entries.', input: z.object({}), run: (_input, { db }) => String(db.prepare('SELECT COUNT(*) FROM entries').pluck().get()) }),
  },
  checks: {},
  tasks: () => [],
  destructive: () => [],
});

function ledgerTask(fixed: string[], id = 'ledger/t'): Task {
  return Task.parse({ id, env: 'ledger', instruction: 'x', initialState: { fixed }, verifier: { checks: [{ check: 'answer_contains', text: 'x' }] }, golden: { steps: [] }, tags: { domain: 'test', difficulty: 'easy' } });
}

async function ids(env: Environment): Promise<string[]> {
  return rowsOf(await env.snapshot(), 'entries').map((r) => `${String(r.source)}:${String(r.id)}`);
}

const signal = new AbortController().signal;

function image(bytes: number): Image {
  return { bytes: Buffer.alloc(bytes), tables: { schema: 1, shapes: [] }, ids: {} };
}

describe('episode databases from images', () => {
  it('gives two episodes of the same task and seed the same world, and neither sees the other\'s writes', async () => {
    const task = ledgerTask(['alpha', 'beta']);
    const first = instantiate(ledger);
    const second = instantiate(ledger);
    await first.reset(task, { seed: 7 });
    await second.reset(task, { seed: 7 });
    const start = await ids(first);
    assert.deepEqual(await ids(second), start);
    assert.deepEqual(start, ['task:alpha', 'task:beta', 'task:e_0001', 'seed:e_0002', 'seed:e_0003', 'seed:e_0004'], 'the seed\'s ids continue after the fixed part\'s');
    assert.equal((await first.call('add', { id: 'from-first' }, { signal })).ok, true);
    assert.deepEqual(await ids(second), start, 'the second episode does not see the first one\'s write');
    await first.close();
    const third = instantiate(ledger);
    await third.reset(task, { seed: 7 });
    assert.deepEqual(await ids(third), start, 'a later episode starts from the task\'s world, not from what an earlier one left');
    await Promise.all([second.close(), third.close()]);
  });

  it('runs seedFixed once per distinct task content, not once per episode', async () => {
    const before = fixedRuns;
    const task = ledgerTask(['once']);
    for (const seed of [1, 2, 3]) {
      const env = instantiate(ledger);
      await env.reset(task, { seed });
      await env.close();
    }
    assert.equal(fixedRuns - before, 1);
    const changed = instantiate(ledger);
    await changed.reset(ledgerTask(['once', 'more']), { seed: 1 });
    assert.deepEqual((await ids(changed)).slice(0, 2), ['task:once', 'task:more']);
    assert.equal(fixedRuns - before, 2, 'different fixtures build a new image');
    await changed.close();
  });

  it('reports a failing seedFixed as a defect of the environment, naming the task', async () => {
    const env = instantiate(ledger);
    const bad = Task.parse({ ...ledgerTask([], 'ledger/bad'), initialState: { fixed: 'not a list' } });
    await assert.rejects(env.reset(bad, { seed: 1 }), (error: unknown) => error instanceof DefectError && /ledger\/bad/.test(error.message));
  });

  it('snapshots follow writes, rolled-back calls and new tables, and keep the state at reset for verify', async () => {
    const env = instantiate(ledger);
    await env.reset(ledgerTask(['keep']), { seed: 3 });
    const initial = await env.snapshot();
    assert.equal((await env.call('look', {}, { signal })).ok, true);
    assert.deepEqual(await env.snapshot(), initial, 'reads change nothing');
    assert.equal((await env.call('clear_then_fail', {}, { signal })).ok, false);
    assert.deepEqual(await env.snapshot(), initial, 'a failed call leaves no change behind');
    await env.call('add', { id: 'new' }, { signal });
    const after = await env.snapshot();
    assert.equal(rowsOf(after, 'entries').length, rowsOf(initial, 'entries').length + 1);
    await env.call('add_table', {}, { signal });
    assert.deepEqual(Object.keys(await env.snapshot()), ['entries', 'notes'], 'a table created mid-episode shows up');
    assert.equal(rowsOf(initial, 'entries').length, 5, 'the reset snapshot still shows the state at reset');
    await env.close();
  });
});

describe('ImageCache', () => {
  it('drops the least recently used images once past its byte budget', () => {
    const cache = new ImageCache(300);
    cache.set('a', image(100));
    cache.set('b', image(100));
    cache.set('c', image(100));
    assert.ok(cache.get('a'), 'reading a makes it the most recent');
    cache.set('d', image(100));
    assert.equal(cache.get('b'), undefined);
    assert.ok(cache.get('a') && cache.get('c') && cache.get('d'));
    assert.equal(cache.size, 3);
  });

  it('keeps an image larger than the whole budget until the next one arrives', () => {
    const cache = new ImageCache(50);
    cache.set('big', image(100));
    assert.ok(cache.get('big'));
    cache.set('next', image(10));
    assert.equal(cache.get('big'), undefined);
    assert.ok(cache.get('next'));
  });
});
