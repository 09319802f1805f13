import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InputError, type Store } from '../core/index.ts';
import { openStore, STORE_MIGRATIONS } from '../store/index.ts';
import { writeLargeRun } from './fixtures.ts';
import { readLabels, recordVerdict, ReviewConflictError } from './labels.ts';
import { createQueue, nextItem, progressOf, queueItems, releaseItem, type QueueSettings } from './queue-store.ts';
import { readQueue } from './queue-read.ts';
import { flag, reviewFixture, saveFindings, type ReviewFixture } from './test-support.ts';
import { TYPESCRIPT_NODE_ARGS } from '../../test/support/typescript.ts';

const settings = (over: Partial<QueueSettings> & Pick<QueueSettings, 'runId'>): QueueSettings => ({ sample: 50, strategy: 'random', reviewersPerItem: 1, reservationMinutes: 30, seed: 1, ...over });
const refusal = (pattern: RegExp) => (e: unknown) => e instanceof InputError && e.where === 'strategy' && pattern.test(e.message);

describe('review queue strategies', () => {
  let fx: ReviewFixture;
  before(async () => {
    fx = await reviewFixture();
  });

  it('random: a seeded draw of scored rollouts, the same for the same seed', () => {
    const a = createQueue({ store: fx.store }, settings({ runId: fx.oracleRun, sample: 5, seed: 42 }));
    const b = createQueue({ store: fx.store }, settings({ runId: fx.oracleRun, sample: 5, seed: 42 }));
    const ids = (id: string) => fx.store.reviewItems(id, 0).map((s) => s.item.rolloutId);
    assert.equal(a.size, 5);
    assert.deepEqual(ids(a.id), ids(b.id));
    assert.equal(new Set(ids(a.id)).size, 5);
    assert.notEqual(a.id, b.id);
    const big = createQueue({ store: fx.store }, settings({ runId: fx.oracleRun, sample: 50 }));
    assert.equal(big.size, 8, 'never more than the run has');
    assert.equal(big.sample, 50);
    assert.match(big.note ?? '', /8 of 8 scored rollouts/);
  });

  it('flagged and high_reward_flagged refuse without detector findings, naming the command that makes them', () => {
    assert.throws(() => createQueue({ store: fx.store }, settings({ runId: fx.randomRun, strategy: 'flagged' })), refusal(/no.*findings|none are stored/));
    assert.throws(() => createQueue({ store: fx.store }, settings({ runId: fx.randomRun, strategy: 'high_reward_flagged' })), (e: unknown) => e instanceof InputError && /gauntlet detect run_/.test(e.expected ?? ''));
  });

  it('flagged: only flagged rollouts, the most severe first; high_reward_flagged: only those that also passed', async () => {
    const local = await reviewFixture();
    const oracle = local.store.rollouts(local.oracleRun);
    const random = local.store.rollouts(local.randomRun);
    saveFindings(local.store, oracle[0]!, [flag('dangerous_command', { severity: 'low' })]);
    saveFindings(local.store, oracle[1]!, [flag('test_tampering', { severity: 'high' }), flag('answer_mining', { severity: 'medium' })]);
    saveFindings(local.store, oracle[2]!, []);
    saveFindings(local.store, random[0]!, [flag('exfiltration', { severity: 'medium' })]);
    const flaggedQueue = createQueue({ store: local.store }, settings({ runId: local.oracleRun, strategy: 'flagged' }));
    const items = local.store.reviewItems(flaggedQueue.id, 0).map((s) => s.item);
    assert.deepEqual(items.map((i) => i.rolloutId), [oracle[1]!.id, oracle[0]!.id]);
    assert.match(String(items[0]!.record.reason), /test_tampering \(high\), answer_mining \(medium\)/);
    const highReward = createQueue({ store: local.store }, settings({ runId: local.oracleRun, strategy: 'high_reward_flagged' }));
    assert.deepEqual(local.store.reviewItems(highReward.id, 0).map((s) => s.item.rolloutId).sort(), [oracle[0]!.id, oracle[1]!.id].sort());
    // The random policy's flagged rollout failed: a high-reward hack it is not.
    assert.throws(() => createQueue({ store: local.store }, settings({ runId: local.randomRun, strategy: 'high_reward_flagged' })), refusal(/found no rollouts/));
  });

  it('disagreement: rules against the monitor, and reviewers against each other; refused when there is neither', async () => {
    const local = await reviewFixture();
    assert.throws(() => createQueue({ store: local.store }, settings({ runId: local.oracleRun, strategy: 'disagreement' })), refusal(/neither/));
    const [a, b, c] = local.store.rollouts(local.oracleRun);
    saveFindings(local.store, a!, [flag('dangerous_command')], { monitor: true, review: [{ category: 'dangerous_command', disagreement: 'rules_only', ruleFlags: [flag('dangerous_command')], monitorFlags: [] }] });
    saveFindings(local.store, b!, [], { monitor: true });
    recordVerdict({ store: local.store }, { rolloutId: c!.id, verdict: 'accept', reviewer: 'alice' });
    recordVerdict({ store: local.store }, { rolloutId: c!.id, verdict: 'unsafe', reviewer: 'bob' });
    recordVerdict({ store: local.store }, { rolloutId: b!.id, verdict: 'accept', reviewer: 'alice' });
    recordVerdict({ store: local.store }, { rolloutId: b!.id, verdict: 'accept', reviewer: 'bob' });
    const queue = createQueue({ store: local.store }, settings({ runId: local.oracleRun, strategy: 'disagreement' }));
    const items = local.store.reviewItems(queue.id, 0).map((s) => ({ rollout: s.item.rolloutId, reason: String(s.item.record.reason) }));
    assert.deepEqual(items.map((i) => i.rollout), [c!.id, a!.id], 'reviewer disagreement first, agreement left out');
    assert.match(items[0]!.reason, /reviewers disagree: accept vs unsafe/);
    assert.match(items[1]!.reason, /dangerous_command: rules flagged, the monitor did not/);
  });

  it('reward_jump: the tasks whose reward rose since the previous training step, with the steps named', () => {
    const queue = createQueue({ store: fx.store }, settings({ runId: fx.oracleRun, strategy: 'reward_jump', sample: 3 }));
    assert.equal(queue.size, 3);
    assert.match(queue.note ?? '', new RegExp(`compared with run ${fx.randomRun} at step 100: 2 tasks rose`));
    for (const state of fx.store.reviewItems(queue.id, 0)) assert.match(String(state.item.record.reason), /reward jumped on mail\/.*at step 100 → 1\.00 at step 200/);
    assert.throws(() => createQueue({ store: fx.store }, settings({ runId: fx.randomRun, strategy: 'reward_jump' })), refusal(/no run of mail at a training step before 100/));
  });

  it('refuses a run that does not exist, naming runId', () => {
    assert.throws(() => createQueue({ store: fx.store }, settings({ runId: 'run_nope' })), (e: unknown) => e instanceof InputError && e.where === 'runId');
  });
});

describe('review queue reservations', () => {
  const minutes = (n: number) => n * 60_000;
  const at = (ms: number) => () => new Date(Date.parse('2025-05-01T09:00:00Z') + ms);

  function queueOf(store: Store, runId: string, over: Partial<QueueSettings> = {}) {
    return createQueue({ store }, settings({ runId, sample: 3, reviewersPerItem: 2, ...over }));
  }

  it('never gives two reviewers the same item at once; a reviewer asking again gets the item they hold', () => {
    const store = openStore(':memory:');
    const runId = writeLargeRun(store, { runId: 'run_q', tasks: 3, epochs: 1 });
    const queue = queueOf(store, runId);
    const ctx = { store, now: at(0) };
    const a = nextItem(ctx, { queueId: queue.id, reviewer: 'alice' })!;
    const b = nextItem(ctx, { queueId: queue.id, reviewer: 'bob' })!;
    const c = nextItem(ctx, { queueId: queue.id, reviewer: 'carol' })!;
    assert.equal(new Set([a.id, b.id, c.id]).size, 3);
    assert.equal(nextItem(ctx, { queueId: queue.id, reviewer: 'dave' }), null, 'every item is held');
    assert.equal(nextItem(ctx, { queueId: queue.id, reviewer: 'alice' })!.id, a.id);
    assert.equal(a.heldBy?.reviewer, 'alice');
    assert.equal(a.heldBy?.until, new Date(Date.parse('2025-05-01T09:30:00Z')).toISOString());
    assert.deepEqual(progressOf(readQueue(store, queue.id)!, queueItems(ctx, queue.id)), { items: 3, done: 0, held: 3, labelsNeeded: 6 });
  });

  it('lets a reservation lapse after its time, and a completing verdict ends it at once', () => {
    const store = openStore(':memory:');
    const runId = writeLargeRun(store, { runId: 'run_q', tasks: 1, epochs: 1 });
    const queue = queueOf(store, runId, { sample: 1 });
    const alice = nextItem({ store, now: at(0) }, { queueId: queue.id, reviewer: 'alice' })!;
    assert.equal(nextItem({ store, now: at(minutes(29)) }, { queueId: queue.id, reviewer: 'bob' }), null, 'still alice\'s');
    const bob = nextItem({ store, now: at(minutes(31)) }, { queueId: queue.id, reviewer: 'bob' });
    assert.equal(bob?.id, alice.id, 'alice\'s reservation lapsed; bob has it now');
    assert.equal(nextItem({ store, now: at(minutes(32)) }, { queueId: queue.id, reviewer: 'alice' }), null, 'bob holds it');
    recordVerdict({ store }, { rolloutId: bob!.rolloutId, verdict: 'reject', reviewer: 'bob', queueItemId: bob!.id });
    const again = nextItem({ store, now: at(minutes(33)) }, { queueId: queue.id, reviewer: 'alice' });
    assert.equal(again?.id, alice.id, 'bob finished: alice, the second reviewer, takes it');
    assert.deepEqual(again?.doneBy, ['bob']);
    assert.equal(nextItem({ store, now: at(minutes(33)) }, { queueId: queue.id, reviewer: 'bob' }), null, 'bob has done it');
    recordVerdict({ store }, { rolloutId: again!.rolloutId, verdict: 'accept', reviewer: 'alice', queueItemId: again!.id });
    assert.equal(nextItem({ store, now: at(minutes(34)) }, { queueId: queue.id, reviewer: 'carol' }), null, 'two reviewers were enough');
    assert.deepEqual(progressOf(readQueue(store, queue.id)!, queueItems({ store, now: at(minutes(34)) }, queue.id)), { items: 1, done: 1, held: 0, labelsNeeded: 0 });
  });

  it('refuses a verdict naming an item another reviewer holds; once the reservation lapses, anyone may finish it', () => {
    const store = openStore(':memory:');
    const runId = writeLargeRun(store, { runId: 'run_q', tasks: 2, epochs: 1 });
    const queue = queueOf(store, runId, { sample: 2, reviewersPerItem: 1 });
    const held = nextItem({ store, now: at(0) }, { queueId: queue.id, reviewer: 'r1' })!;
    const verdict = (reviewer: string, ms: number) => recordVerdict({ store, now: at(ms) }, { rolloutId: held.rolloutId, verdict: 'accept', reviewer, queueItemId: held.id });
    assert.throws(
      () => verdict('r2', minutes(1)),
      (e: unknown) => e instanceof ReviewConflictError && e.where === 'queueItemId' && new RegExp(`${held.id} is reserved by r1 until 2025-05-01T09:30:00\\.000Z`).test(e.message),
    );
    assert.equal(readLabels(store, { runId }).length, 0, 'nothing stored');
    const again = nextItem({ store, now: at(minutes(2)) }, { queueId: queue.id, reviewer: 'r1' })!;
    assert.equal(again.id, held.id, 'r1 still holds it');
    assert.deepEqual(progressOf(readQueue(store, queue.id)!, queueItems({ store, now: at(minutes(2)) }, queue.id)), { items: 2, done: 0, held: 1, labelsNeeded: 2 });
    assert.equal(verdict('r2', minutes(40)).queueItemId, held.id, 'r1\'s reservation lapsed at 30 minutes');
    const next = nextItem({ store, now: at(minutes(41)) }, { queueId: queue.id, reviewer: 'r1' });
    assert.notEqual(next?.id, held.id, 'the finished item is not handed out again');
  });

  it('does not count as held an item that has all its reviewers', () => {
    const store = openStore(':memory:');
    const runId = writeLargeRun(store, { runId: 'run_q', tasks: 2, epochs: 1 });
    const queue = readQueue(store, queueOf(store, runId, { sample: 2, reviewersPerItem: 1 }).id)!;
    const [first, second] = queueItems({ store, now: at(0) }, queue.id);
    const heldBy = { reviewer: 'r1', until: '2025-05-01T09:30:00.000Z' };
    const progress = progressOf(queue, [{ ...first!, doneBy: ['r2'], heldBy }, { ...second!, heldBy }]);
    assert.deepEqual(progress, { items: 2, done: 1, held: 1, labelsNeeded: 1 });
  });

  it('releases an item only for its holder when a reviewer is named', () => {
    const store = openStore(':memory:');
    const runId = writeLargeRun(store, { runId: 'run_q', tasks: 1, epochs: 1 });
    const queue = queueOf(store, runId, { sample: 1 });
    const ctx = { store, now: at(0) };
    const item = nextItem(ctx, { queueId: queue.id, reviewer: 'alice' })!;
    assert.equal(releaseItem(ctx, { queueId: queue.id, itemId: item.id, reviewer: 'bob' }), false);
    assert.equal(nextItem(ctx, { queueId: queue.id, reviewer: 'bob' }), null);
    assert.equal(releaseItem(ctx, { queueId: queue.id, itemId: item.id, reviewer: 'alice' }), true);
    assert.equal(nextItem(ctx, { queueId: queue.id, reviewer: 'bob' })?.id, item.id);
    assert.equal(releaseItem(ctx, { queueId: queue.id, itemId: item.id }), true);
    assert.equal(releaseItem(ctx, { queueId: queue.id, itemId: item.id }), false, 'nothing left to release');
  });

  it('keeps processes racing for one queue file off each other\'s items: each item is taken exactly once', { timeout: 120_000 }, async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-queue-race-')), 'g.db');
    const store = openStore(path);
    const runId = writeLargeRun(store, { runId: 'run_race', tasks: 40, epochs: 1 });
    const queue = createQueue({ store }, settings({ runId, sample: 40, reviewersPerItem: 1 }));
    store.close();
    const child = fileURLToPath(new URL('./reserve-child.ts', import.meta.url));
    const reviewers = ['r1', 'r2', 'r3'];
    const processes = reviewers.map((reviewer) => spawn(process.execPath, [...TYPESCRIPT_NODE_ARGS, child, path, queue.id, reviewer], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const lines = processes.map((p) => createInterface({ input: p.stdout! })[Symbol.asyncIterator]());
    for (const it of lines) assert.equal((await it.next()).value, 'ready');
    for (const p of processes) p.stdin!.end('go\n');
    const taken = await Promise.all(lines.map(async (it) => JSON.parse((await it.next()).value as string) as string[]));
    await Promise.all(processes.map((p) => new Promise((resolve) => (p.exitCode !== null ? resolve(p.exitCode) : p.once('exit', resolve)))));
    const all = taken.flat();
    assert.equal(all.length, 40, `items taken: ${taken.map((t) => t.length).join(' + ')}`);
    assert.equal(new Set(all).size, 40, 'no item went to two reviewers');
  });
});

describe('store migration 4', () => {
  it('copies whole-rollout labels of the old table into the review table as verdicts, and keeps the old rows', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-migrate-labels-')), 'g.db');
    const old = openStore(path, { migrations: STORE_MIGRATIONS.filter((m) => m.version <= 3) });
    const runId = writeLargeRun(old, { runId: 'run_old', tasks: 1, epochs: 2 });
    const [first, second] = old.rollouts(runId);
    const base = { schemaVersion: 2 as const, reviewer: 'olga', createdAt: '2024-12-01T00:00:00.000Z' };
    old.saveLabel({ ...base, id: 'l1', rolloutId: first!.id, kind: 'reward_hack', value: 'patched the test' });
    old.saveLabel({ ...base, id: 'l2', rolloutId: second!.id, kind: 'correct', value: null });
    old.saveLabel({ ...base, id: 'l3', rolloutId: second!.id, kind: 'score', value: 0.5 });
    old.close();
    const store = openStore(path);
    const migrated = readLabels(store, { runId });
    assert.deepEqual(
      migrated.map((l) => l.kind === 'verdict' && [l.rolloutId, l.verdict, l.reason ?? null, l.reviewer]),
      [
        [first!.id, 'reject', 'reward hack: patched the test', 'olga'],
        [second!.id, 'accept', null, 'olga'],
      ],
    );
    assert.equal(store.labels(second!.id).length, 2, 'the old table is kept as it was');
    store.close();
  });
});
