import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ModelCall, Store } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { groupAdvantages } from '../advantages/index.ts';
import { exportRun, resolveTarget } from '../export/index.ts';
import { startFakeEngine, type FakeEngine } from '../fake-engine/index.ts';
import { RolloutServiceClient } from './client.ts';
import type { StreamLine } from './schemas.ts';
import { startRolloutService, type RolloutService, type RolloutServiceOptions } from './service.ts';
import { buttonsCatalog, buttonTask, Gate, isSlow, manualClock, sampledToolWalk, turnOf, until } from './test-support.ts';

type GroupLine = Extract<StreamLine, { type: 'group' }>;
type Stats = Awaited<ReturnType<RolloutService['core']['stats']>>;

const fast = [buttonTask('fast-a'), buttonTask('fast-b')];
const slow = [buttonTask('slow-a', { slow: true }), buttonTask('slow-b', { slow: true })];

async function collect(client: RolloutServiceClient, id: string): Promise<StreamLine[]> {
  const lines: StreamLine[] = [];
  for await (const line of client.stream(id)) lines.push(line);
  return lines;
}

const groupsOf = (lines: StreamLine[]) => lines.filter((l): l is GroupLine => l.type === 'group');

interface Session {
  service: RolloutService;
  client: RolloutServiceClient;
  store: Store;
  stats: () => Stats;
}

async function session(engine: FakeEngine, options: Partial<RolloutServiceOptions> & { tasks: ReturnType<typeof buttonTask>[]; fetch?: typeof fetch }): Promise<Session> {
  const store = openStore(':memory:');
  const { tasks, fetch: fetchImpl, ...rest } = options;
  const service = await startRolloutService({
    store,
    run: { envs: ['buttons'], model: `openai:${engine.url}#${engine.model}`, groupSize: 2, concurrency: 8, seed: 7 },
    catalog: buttonsCatalog(tasks),
    port: 0,
    window: 0,
    modelEnvironment: { env: {}, ...(fetchImpl ? { fetch: fetchImpl } : {}) },
    ...rest,
  });
  return { service, store, client: new RolloutServiceClient(service.url), stats: () => service.core.stats() };
}

describe('gauntlet serve-rollouts: batches of finished groups over HTTP', () => {
  let engine: FakeEngine;
  before(async () => {
    engine = await startFakeEngine({ policy: sampledToolWalk() });
  });
  after(() => engine.close());

  it('streams B groups of G rollouts whose rows hold the engine token ids, group-relative advantages and versions, as the export writes them', async () => {
    const { service, client, store, stats } = await session(engine, { tasks: fast });
    try {
      const batch = await client.requestBatch({ groups: 2, groupSize: 2, policyVersion: 0 });
      assert.deepEqual({ groups: batch.groups, groupSize: batch.groupSize, format: batch.format }, { groups: 2, groupSize: 2, format: { target: 'generic', variant: 'segments' } });
      const lines = await collect(client, batch.id);
      assert.deepEqual(lines.map((l) => l.type), ['group', 'group', 'done']);
      const groups = groupsOf(lines);
      assert.deepEqual(groups.map((g) => g.seq), [0, 1]);
      for (const group of groups) {
        assert.equal(group.rollouts.length, 2);
        assert.deepEqual(group.advantages, groupAdvantages(group.rewards, 'grpo'));
        assert.deepEqual(group.policyVersions, { min: 0, max: 0 });
        assert.deepEqual(group.lag, { min: 0, max: 0 });
        for (const rollout of group.rollouts) {
          const calls = store.modelCalls(rollout.rolloutId);
          assert.ok(rollout.calls.length >= 2, 'a tool turn and an answer at least');
          assert.ok(rollout.calls.every((c) => c.policyVersion === 0 && c.lag === 0));
          const stored = rollout.calls.map((c) => calls.find((call) => call.id === c.modelCallId) as ModelCall);
          // Rows carry the engine's own ids: the first prompt and every completion, at their spans.
          const rows = group.rows.filter((r) => (r as { rollout_id: string }).rollout_id === rollout.rolloutId) as { token_ids: number[]; calls: { model_call_id: string; completion_start: number; end: number; policy_version: string }[] }[];
          assert.equal(rows.length, 1, 'an intact conversation is one segment');
          const row = rows[0]!;
          assert.deepEqual(row.token_ids.slice(0, stored[0]!.response!.tokens!.promptIds!.length), stored[0]!.response!.tokens!.promptIds);
          for (const span of row.calls) {
            const call = stored.find((c) => c.id === span.model_call_id)!;
            assert.equal(call.response?.tokens?.source, 'engine');
            assert.deepEqual(row.token_ids.slice(span.completion_start, span.end), call.response?.tokens?.completionIds);
            assert.equal(span.policy_version, '0');
          }
        }
      }
      const figures = stats();
      assert.equal(figures.groups.served, 2);
      const callCount = groups.reduce((n, g) => n + g.rollouts.reduce((m, r) => m + r.calls.length, 0), 0);
      assert.deepEqual(figures.lag.calls, { '0': callCount });
      assert.deepEqual(figures.lag.groups, { '0': 2 });
      await service.close();
      // The same rollouts through `gauntlet export --for generic` give exactly the streamed rows.
      const exported: object[] = [];
      await exportRun({ store, runId: service.runId, target: resolveTarget('generic'), format: 'jsonl', output: null, stdout: (text) => void exported.push(...text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as object)) });
      const streamed = groups.flatMap((g) => g.rows);
      const key = (r: object) => (r as { sample_id: string }).sample_id;
      assert.deepEqual([...streamed].sort((a, b) => key(a).localeCompare(key(b))), [...exported].sort((a, b) => key(a).localeCompare(key(b))));
      assert.equal(store.getRun(service.runId)?.status, 'finished');
    } finally {
      await service.close();
    }
  });

  it('tags each call with the version that produced it across announcements, and never hands out a call more than maxStaleness behind', async () => {
    const next = await startFakeEngine({ policy: sampledToolWalk(2), model: 'policy-v1' });
    // Holds each slow rollout's second call, after it was routed: the version is fixed, the answer is not back.
    const gate = new Gate((body) => isSlow(body) && turnOf(body) === 1);
    const { service, client, store, stats } = await session(engine, { tasks: slow, fetch: gate.fetch, maxStaleness: 1 });
    const seen: GroupLine[] = [];
    try {
      // 1. A rollout spans versions: two calls at v0 (the engine at hand), the rest at v1 (the announced endpoint).
      const first = await client.requestBatch({ groups: 1, policyVersion: 0, tasks: ['buttons/slow-a'], format: 'verl' });
      const reading = collect(client, first.id);
      await gate.heldAtLeast(2);
      const announced = await client.announce({ version: 1, baseUrl: next.url, model: next.model });
      assert.deepEqual({ version: announced.version, previous: announced.previous, dropped: announced.droppedGroups, cancelled: announced.cancelledGroups }, { version: 1, previous: 0, dropped: 0, cancelled: 0 });
      gate.release();
      const [spanning] = groupsOf(await reading);
      assert.ok(spanning);
      seen.push(spanning);
      assert.deepEqual({ versions: spanning.policyVersions, lag: spanning.lag, current: spanning.currentVersion }, { versions: { min: 0, max: 1 }, lag: { min: 0, max: 1 }, current: 1 });
      for (const rollout of spanning.rollouts) {
        assert.deepEqual(rollout.policyVersions, { min: 0, max: 1 });
        assert.deepEqual(rollout.calls.map((c) => c.policyVersion), rollout.calls.map((c) => (c.index < 2 ? 0 : 1)));
        assert.ok(rollout.calls.every((c) => c.lag === 1 - c.policyVersion));
        for (const call of store.modelCalls(rollout.rolloutId)) {
          assert.match(call.model, new RegExp(`#${call.policyVersion === '0' ? engine.model : next.model}$`), `call ${call.index} names the endpoint that served it`);
        }
      }
      const verlRows = spanning.rows as { min_global_steps: number; max_global_steps: number }[];
      assert.ok(verlRows.length >= 2 && verlRows.every((r) => r.min_global_steps === 0 && r.max_global_steps === 1));

      // 2. A running group two versions behind can never qualify: cancelled, stored as cancelled, replaced.
      const second = await client.requestBatch({ groups: 1, policyVersion: 1, tasks: ['buttons/slow-b'] });
      const reading2 = collect(client, second.id);
      await gate.heldAtLeast(2);
      assert.equal((await client.announce({ version: 2 })).cancelledGroups, 0, 'one version behind is within the bound');
      assert.equal((await client.announce({ version: 3 })).cancelledGroups, 1);
      gate.release({ stop: true });
      const [replacement] = groupsOf(await reading2);
      assert.ok(replacement);
      seen.push(replacement);
      assert.deepEqual(replacement.policyVersions, { min: 3, max: 3 });
      const cancelled = store.rollouts(service.runId).filter((r) => r.status === 'cancelled');
      assert.equal(cancelled.length, 2);
      assert.ok(cancelled.every((r) => r.taskId === 'buttons/slow-b'));

      // 3. A finished group nobody read yet is dropped once it falls out of the bound.
      const third = await client.requestBatch({ groups: 1, policyVersion: 3, tasks: ['buttons/slow-a'] });
      await until(() => stats().queue.groupsReady === 1, 'the group finished with no reader attached');
      assert.equal((await client.announce({ version: 4 })).droppedGroups, 0);
      assert.equal((await client.announce({ version: 5 })).droppedGroups, 1);
      const [fresh] = groupsOf(await collect(client, third.id));
      assert.ok(fresh);
      seen.push(fresh);
      assert.deepEqual(fresh.policyVersions, { min: 5, max: 5 });

      const figures = stats();
      assert.deepEqual({ dropped: figures.staleness.droppedGroups, cancelled: figures.staleness.cancelledGroups }, { dropped: 1, cancelled: 1 });
      assert.deepEqual(figures.groups.cancelled, { stale: 1 });
      assert.ok(Object.keys(figures.lag.calls).every((lag) => Number(lag) <= 1), JSON.stringify(figures.lag.calls));
      assert.ok(seen.every((g) => g.lag.max <= 1 && g.rollouts.every((r) => r.calls.every((c) => c.lag <= 1))));
      assert.deepEqual(service.core.policy().history.map((h) => h.version), [0, 1, 2, 3, 4, 5]);
    } finally {
      gate.release({ stop: true });
      await service.close();
      await next.close();
    }
  });

  it('hands out the first groups to finish within the window and measures the bias that allows, bounded by W/(B+W)', async () => {
    const clock = manualClock();
    const gate = new Gate(isSlow);
    const tasks = [fast[0]!, slow[0]!];
    const { service, client, stats } = await session(engine, { tasks, fetch: gate.fetch, window: 2, now: clock.now });
    try {
      const first = await client.requestBatch({ groups: 2, policyVersion: 0 });
      const lines = await collect(client, first.id);
      assert.deepEqual(groupsOf(lines).map((g) => g.taskId), ['buttons/fast-a', 'buttons/fast-a'], 'the slow groups did not stall the batch');
      clock.advance(1000);
      let figures = stats();
      assert.equal(figures.groups.started, 4);
      const tv = figures.bias.tasks.totalVariation as number;
      assert.ok(tv > 0, 'the window let fast tasks crowd out slow ones');
      assert.ok(tv <= 2 / (2 + 2) + 1e-12 && tv <= (figures.bias.tasks.bound as number) + 1e-12, `TV ${tv} within the window's bound`);
      assert.deepEqual(figures.bias.tasks.rows.map((r) => [r.key, r.started, r.served]), [['buttons/fast-a', 2, 2], ['buttons/slow-a', 2, 0]]);
      assert.deepEqual(figures.bias.difficulty.rows.map((r) => [r.key, r.servedShare]), [['easy', 1], ['hard', 0]]);
      assert.equal(figures.bias.length.started.stillRunning, 2);
      assert.ok((figures.bias.length.served.meanMs as number) < (figures.bias.length.started.meanMs as number), 'served groups are the quick ones');

      // The slow leftovers finish for the next batch (no version changed, so they are within the bound).
      gate.release({ stop: true });
      await until(() => stats().queue.groupsReady === 2, 'the slow leftovers finished');
      figures = stats();
      assert.ok((figures.bias.length.settled.meanTurns as number) > (figures.bias.length.served.meanTurns as number), 'slow tasks take more turns');
      const next = await client.requestBatch({ groups: 2, policyVersion: 0 });
      assert.deepEqual(groupsOf(await collect(client, next.id)).map((g) => g.taskId), ['buttons/slow-a', 'buttons/slow-a']);
      assert.deepEqual(stats().batches.map((b) => [b.startedForIt, b.servedFromEarlier]), [[4, 0], [2, 2]]);
    } finally {
      gate.release({ stop: true });
      await service.close();
    }
  });

  it('with a window of 0 serves exactly the groups it started: no bias, at the price of waiting for the slowest', async () => {
    const gate = new Gate(isSlow);
    const { service, client, stats } = await session(engine, { tasks: [fast[0]!, slow[0]!], fetch: gate.fetch, window: 0 });
    try {
      const batch = await client.requestBatch({ groups: 2, policyVersion: 0 });
      const reading = collect(client, batch.id);
      await until(() => stats().groups.served === 1, 'the fast group was handed out');
      assert.equal((await client.batch(batch.id)).state, 'open', 'the batch waits for the slow group');
      assert.equal(stats().groups.started, 2);
      gate.release({ stop: true });
      assert.deepEqual(groupsOf(await reading).map((g) => g.taskId), ['buttons/fast-a', 'buttons/slow-a']);
      const figures = stats();
      assert.deepEqual({ tv: figures.bias.tasks.totalVariation, bound: figures.bias.tasks.bound }, { tv: 0, bound: 0 });
    } finally {
      gate.release({ stop: true });
      await service.close();
    }
  });
});
