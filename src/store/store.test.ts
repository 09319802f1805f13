import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { modelCallIdFor, type Message, type ModelCall, type RolloutId, type RunId, type ToolSpec } from '../core/index.ts';
import { latestVersion, STORE_MIGRATIONS } from './migrations.ts';
import { openStore } from './sqlite-store.ts';
import { scoredRollout, turnCall } from './test-support.ts';

const runId = 'run_s' as RunId;
const rolloutId = 'ro_s' as RolloutId;
const tools: ToolSpec[] = [{ name: 'look', description: 'Look around.', parameters: { type: 'object', properties: {} } }];

function call(index: number, messages: Message[], wireMessages?: unknown[]): ModelCall {
  return turnCall({ runId, rolloutId }, index, {
    request: { messages, tools, sampling: { temperature: 0.5 } },
    ...(wireMessages ? { wire: { url: 'http://127.0.0.1/v1/chat/completions', request: { model: 'm', messages: wireMessages as never }, status: 200, response: { ok: index } } } : {}),
  });
}

describe('SQLite store', () => {
  it('rebuilds every request exactly from deltas, whether or not messages are shared objects', () => {
    const store = openStore(':memory:');
    const recorder = store.recorder({ runId, rolloutId, attempt: 1 });
    const history: Message[] = [{ role: 'system', content: 'sys' }, { role: 'user', content: 'hi' }];
    const sent: ModelCall[] = [];
    for (let i = 0; i < 6; i++) {
      // Odd turns send copies (as drop-thinking does), even turns the same objects.
      const messages = i % 2 ? history.map((m) => ({ ...m })) : [...history];
      const wire = messages.map((m) => ({ role: m.role, content: m.content }));
      const c = call(i, messages, wire);
      recorder.modelCall(c);
      sent.push(structuredClone(c));
      history.push({ role: 'assistant', content: `turn ${i}`, toolCalls: [] }, { role: 'user', content: `next ${i}` });
    }
    const stored = store.modelCalls(rolloutId);
    assert.deepEqual(stored, sent);
    store.close();
  });

  it('stores the tool list once per attempt and the growing context as a delta', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-store-'));
    const path = join(dir, 'g.db');
    const store = openStore(path);
    const recorder = store.recorder({ runId, rolloutId, attempt: 1 });
    const history: Message[] = [{ role: 'user', content: 'x'.repeat(1000) }];
    for (let i = 0; i < 20; i++) {
      recorder.modelCall(call(i, [...history]));
      history.push({ role: 'assistant', content: 'y'.repeat(1000), toolCalls: [] });
    }
    store.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT tools_from, length(messages_tail) AS tail FROM model_calls ORDER BY idx').all() as { tools_from: string | null; tail: number }[];
    db.close();
    assert.equal(rows.filter((r) => r.tools_from === null).length, 1);
    assert.ok(rows.slice(1).every((r) => r.tail < 1200), 'each later call stores only its new message');
    const reopened = openStore(path);
    const calls = reopened.modelCalls(rolloutId);
    assert.equal(calls[19]!.request.messages.length, 20);
    assert.deepEqual(calls[19]!.request.tools, tools);
    reopened.close();
  });

  it('refuses a store written by a newer schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-store-'));
    const path = join(dir, 'g.db');
    openStore(path).close();
    const db = new Database(path);
    db.prepare(`UPDATE meta SET value = '99' WHERE key = 'schemaVersion'`).run();
    db.close();
    assert.throws(() => openStore(path), new RegExp(`newer Gauntlet \\(store schema 99; this version reads ${latestVersion(STORE_MIGRATIONS)} or older\\)`));
  });
});

describe('SQLite store: wire bodies', () => {
  it('keeps the wire body\'s repeated tool list once per attempt and rebuilds it in place', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-store-'));
    const path = join(dir, 'g.db');
    const store = openStore(path);
    const recorder = store.recorder({ runId, rolloutId, attempt: 1 });
    const wireTools = [{ type: 'function', function: { name: 'look', description: 'x'.repeat(4000), parameters: { type: 'object' } } }];
    const sent: ModelCall[] = [];
    for (let i = 0; i < 10; i++) {
      const base = call(i, [{ role: 'user', content: 'hi' }]);
      // Adapters build the body afresh each call: equal content, new objects, tools between other keys.
      const c = { ...base, wire: { url: 'http://127.0.0.1/v1/chat/completions', request: { model: 'm', tools: structuredClone(wireTools), messages: [{ role: 'user', content: 'hi' }], stream: true }, status: 200 } };
      recorder.modelCall(c);
      sent.push(structuredClone(c));
    }
    store.close();
    const db = new Database(path, { readonly: true });
    const sizes = db.prepare('SELECT length(json) AS n FROM model_calls ORDER BY idx').all() as { n: number }[];
    db.close();
    assert.ok(sizes[0]!.n > 4000 && sizes.slice(1).every((r) => r.n < 1500), JSON.stringify(sizes));
    const reopened = openStore(path);
    const calls = reopened.modelCalls(rolloutId);
    assert.deepEqual(calls, sent);
    assert.deepEqual(Object.keys(calls[5]!.wire!.request as object), ['model', 'tools', 'messages', 'stream']);
    reopened.close();
  });
});

describe('SQLite store: the write path at high concurrency', () => {
  /** Six calls whose wire messages grow by two per call, as a scaffold sends them. */
  function rowsFor(shared: boolean): unknown[] {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-store-'));
    const path = join(dir, 'g.db');
    const store = openStore(path);
    const recorder = store.recorder({ runId, rolloutId, attempt: 1 });
    const history: Message[] = [{ role: 'system', content: 'sys' }, { role: 'user', content: 'hi' }];
    const wire = history.map((m) => ({ role: m.role, content: m.content }));
    for (let i = 0; i < 6; i++) {
      // Adapters that reuse their wire objects send the same ones again; others build copies.
      recorder.modelCall(call(i, [...history], shared ? [...wire] : structuredClone(wire)));
      history.push({ role: 'assistant', content: `turn ${i}`, toolCalls: [] }, { role: 'user', content: `next ${i}` });
      wire.push({ role: 'assistant', content: `turn ${i}` }, { role: 'user', content: `next ${i}` });
    }
    store.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT * FROM model_calls ORDER BY idx').all();
    db.close();
    return rows;
  }

  it('stores the same rows whether the wire messages are shared objects or fresh copies', () => {
    const shared = rowsFor(true);
    assert.deepEqual(shared, rowsFor(false));
    assert.ok((shared as { wire_messages_keep: number }[]).slice(1).every((r) => r.wire_messages_keep > 0), 'later calls keep the shared prefix');
  });

  it('numbers the next attempt from buffered appends without writing them first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-store-'));
    const path = join(dir, 'g.db');
    const store = openStore(path, { batchSize: 1000, flushMs: 60_000 });
    assert.equal(store.nextAttempt(rolloutId), 1);
    store.recorder({ runId, rolloutId, attempt: 1 }).event('rollout_started', { taskId: 't', attempt: 1, scaffold: 'interleaved', model: 'test' });
    store.recorder({ runId, rolloutId, attempt: 2 }).modelCall({ ...call(0, [{ role: 'user', content: 'hi' }]), id: modelCallIdFor(rolloutId, 2, 0), attempt: 2 });
    assert.equal(store.nextAttempt(rolloutId), 3);
    assert.equal(store.nextAttempt('ro_other'), 1);
    const peek = new Database(path, { readonly: true });
    const written = peek.prepare('SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM model_calls) AS n').get() as { n: number };
    peek.close();
    assert.equal(written.n, 0, 'nothing was flushed to number the attempt');
    store.flush();
    assert.equal(store.nextAttempt(rolloutId), 3);
    store.close();
  });
  it('adds up what a run\'s rollouts spent, every attempt included, and counts an older record by its stats', () => {
    const store = openStore(':memory:');
    assert.deepEqual(store.runSpend(runId), { attempts: 0, modelCalls: 0, toolCalls: 0, promptTokens: 0, completionTokens: 0 });
    const retried = { ...scoredRollout({ id: 'ro_retried' as RolloutId, runId, epoch: 0 }), attempt: 3, spent: { attempts: 3, modelCalls: 7, toolCalls: 4, promptTokens: 900, completionTokens: 60 } };
    const older = scoredRollout({ id: 'ro_older' as RolloutId, runId, epoch: 1 });
    older.stats = { ...older.stats, modelCalls: 2, toolCalls: 1, promptTokens: 100, completionTokens: 10 };
    const elsewhere = { ...scoredRollout({ id: 'ro_other' as RolloutId, runId: 'run_other' as RunId }), spent: { attempts: 1, modelCalls: 50, toolCalls: 0, promptTokens: 1, completionTokens: 1 } };
    store.commitRollouts([retried, older, elsewhere]);
    assert.deepEqual(store.runSpend(runId), { attempts: 4, modelCalls: 9, toolCalls: 5, promptTokens: 1000, completionTokens: 70 });
    assert.deepEqual(store.getRollout('ro_retried')?.spent, retried.spent, 'the record keeps its spend');
    store.close();
  });

  it('adds up what a rollout\'s earlier attempts spent from their stored calls and events, buffered ones included, judges and simulated users left out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-store-'));
    const store = openStore(join(dir, 'g.db'), { batchSize: 1000, flushMs: 60_000 });
    assert.deepEqual(store.attemptsSpend(rolloutId, 5), { attempts: 0, modelCalls: 0, toolCalls: 0, promptTokens: 0, completionTokens: 0 });
    const answered = (attempt: number, index: number, over: Partial<ModelCall>): ModelCall => ({
      ...call(index, [{ role: 'user', content: 'hi' }]),
      id: modelCallIdFor(rolloutId, attempt, index),
      attempt,
      parentId: null,
      response: { message: { role: 'assistant', content: 'ok', toolCalls: [] }, finishReason: 'stop', usage: { promptTokens: 100 * attempt, completionTokens: attempt } },
      ...over,
    });
    const one = store.recorder({ runId, rolloutId, attempt: 1 });
    one.modelCall(answered(1, 0, {}));
    one.modelCall(answered(1, 1, { purpose: 'summary' }));
    one.modelCall(answered(1, 100_000, { purpose: 'judge' }));
    one.modelCall(answered(1, 300_000, { purpose: 'user' }));
    one.event('tool_call', { id: 'c0', name: 'look', arguments: '{}' });
    one.event('tool_result', { id: 'c0', ok: true, content: 'ok' });
    store.flush();
    // Attempt 2 stored nothing (its environment would not start); attempt 3's rows are still buffered.
    const three = store.recorder({ runId, rolloutId, attempt: 3 });
    three.modelCall(answered(3, 0, { response: null, error: { kind: 'http', message: 'HTTP 500' } }));
    three.event('tool_call', { id: 'c1', name: 'look', arguments: '{}' });
    store.recorder({ runId, rolloutId, attempt: 4 }).modelCall(answered(4, 0, {}));
    assert.deepEqual(store.attemptsSpend(rolloutId, 4), { attempts: 3, modelCalls: 3, toolCalls: 2, promptTokens: 200, completionTokens: 2 });
    assert.deepEqual(store.attemptsSpend(rolloutId, 2), { attempts: 1, modelCalls: 2, toolCalls: 1, promptTokens: 200, completionTokens: 2 });
    assert.deepEqual(store.attemptsSpend('ro_other', 4), { attempts: 0, modelCalls: 0, toolCalls: 0, promptTokens: 0, completionTokens: 0 });
    store.close();
  });

  it('counts an attempt whose record a resume replaces, though the attempt stored no calls', () => {
    const store = openStore(':memory:');
    const failed = { ...scoredRollout({ id: rolloutId, runId }), attempt: 2 };
    store.commitRollout(failed);
    assert.deepEqual(store.attemptsSpend(rolloutId, 3), { attempts: 2, modelCalls: 0, toolCalls: 0, promptTokens: 0, completionTokens: 0 });
    store.close();
  });

  it('names the model call whose stored JSON is damaged when adding up earlier attempts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-store-'));
    const path = join(dir, 'g.db');
    const store = openStore(path);
    store.recorder({ runId, rolloutId, attempt: 1 }).modelCall(call(0, [{ role: 'user', content: 'hi' }]));
    store.close();
    const db = new Database(path);
    db.prepare(`UPDATE model_calls SET json = '{not json'`).run();
    db.close();
    const reopened = openStore(path);
    assert.throws(() => reopened.attemptsSpend(rolloutId, 2), (e: unknown) => e instanceof Error && e.name === 'StoredDataError' && e.message.includes(`model call ${modelCallIdFor(rolloutId, 1, 0)}`));
    reopened.close();
  });
});
