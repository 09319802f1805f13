// Numbers JSON has no word for (NaN, ±Infinity): what the store keeps exactly, what it refuses
// (naming the record and field), and how a run reads whose rewards an older Gauntlet stored as null.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { DefectError, RunConfig, SCHEMA_VERSION, StoredDataError, type Message, type ModelCall, type Rollout, type RolloutId, type Run, type RunId } from '../core/index.ts';
import { exportRunJsonl } from './export.ts';
import { openStore, type SqliteStore } from './sqlite-store.ts';
import { scoredRollout, turnCall } from './test-support.ts';

const runId = 'run_nf' as RunId;
const rolloutId = 'ro_nf' as RolloutId;
const ids = { runId, rolloutId };
const identity = { runId, rolloutId, attempt: 1 };
const exportedRun: Run = {
  schemaVersion: SCHEMA_VERSION,
  id: runId,
  createdAt: '2026-01-01T00:00:00.000Z',
  gauntletVersion: 'test',
  config: RunConfig.parse({ envs: ['counter'], model: 'scripted', epochs: 1, concurrency: 1, seed: 1 }),
  status: 'finished',
  finishedAt: '2026-01-01T00:00:01.000Z',
};

function tempPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'gauntlet-nonfinite-')), 'g.db');
}

/** Runs `work` on a new store file, closing the store once `work` (and any promise it returns) is done. */
function withStore<T>(work: (store: SqliteStore, path: string) => T, options: Parameters<typeof openStore>[1] = {}): T {
  const path = tempPath();
  const store = openStore(path, options);
  let result: T;
  try {
    result = work(store, path);
  } catch (error) {
    store.close();
    throw error;
  }
  if (result instanceof Promise) return result.finally(() => store.close()) as T;
  store.close();
  return result;
}

/** A turn whose engine reported token ids and these logprobs. */
function withLogprobs(index: number, logprobs: number[]): ModelCall {
  const call = turnCall(ids, index);
  return { ...call, response: { ...call.response!, tokens: { source: 'engine', promptIds: [1, 2], completionIds: logprobs.map((_, i) => 10 + i), completionLogprobs: logprobs } } };
}

describe('store: non-finite numbers in model calls', () => {
  it('keeps a −∞ completion logprob (a token of probability 0) exactly, as it keeps the wire body that carried it', () => {
    withStore((store) => {
      const call = withLogprobs(0, [-0.25, Number.NEGATIVE_INFINITY, -3]);
      call.wire = { url: 'http://engine/v1/chat/completions', request: { model: 'm' }, status: 200, response: { choices: [{ logprobs: { content: [{ logprob: -0.25 }, { logprob: Number.NEGATIVE_INFINITY }, { logprob: -3 }] } }] } };
      store.recorder(identity).modelCall(call);
      const [read] = store.modelCalls(rolloutId);
      assert.deepEqual(read!.response!.tokens!.completionLogprobs, [-0.25, Number.NEGATIVE_INFINITY, -3]);
      assert.deepEqual(read!.wire, call.wire);
    });
  });

  it('keeps ±∞ and NaN in what is kept verbatim, in every column, and in the later calls that keep those messages', () => {
    withStore((store) => {
      // The model wrote 1e999 in its arguments (JSON.parse reads Infinity); the tool's result came back in a later turn.
      const args = { n: Number.POSITIVE_INFINITY, m: [1, Number.NEGATIVE_INFINITY] };
      const assistant: Message = { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'count', arguments: args, argumentsText: '{"n": 1e999, "m": [1, -1e999]}' }], provider: { api: 'in-process', message: { nan: Number.NaN } } };
      const first: Message[] = [{ role: 'user', content: 'count' }];
      const second: Message[] = [...first, assistant, { role: 'tool', toolCallId: 'c1', name: 'count', content: 'ok', isError: false }];
      const wire0 = [{ role: 'user', content: 'count' }];
      const wire1 = [...wire0, { role: 'assistant', tool_calls: [{ id: 'c1', function: { name: 'count', arguments: args } }] }, { role: 'tool', content: 'ok' }];
      const calls = [
        turnCall(ids, 0, { request: { messages: first, tools: [], sampling: {} }, response: { message: assistant, finishReason: 'tool_calls', usage: {} }, wire: { url: 'u', request: { messages: wire0 }, status: 200, response: { args } } }),
        turnCall(ids, 1, { request: { messages: second, tools: [], sampling: {} }, wire: { url: 'u', request: { messages: wire1 }, status: 200 } }),
        // Keeps both message lists of call 1 as its base.
        turnCall(ids, 2, { request: { messages: [...second, { role: 'user', content: 'again' }], tools: [], sampling: {} }, wire: { url: 'u', request: { messages: [...wire1, { role: 'user', content: 'again' }] }, status: 200 } }),
        // Keeps them too, and adds numbers of its own: checked with the kept ones in place.
        turnCall(ids, 3, { request: { messages: second, tools: [], sampling: {} }, wire: { url: 'u', request: { messages: [...wire1, { role: 'user', v: Number.NaN }] }, status: 200 } }),
      ];
      const recorder = store.recorder(identity);
      for (const call of calls) recorder.modelCall(call);
      assert.deepEqual(store.modelCalls(rolloutId), calls);
    });
  });

  it('lists them in the record export, whose JSON has null there', () => {
    withStore((store) => {
      store.createRun(exportedRun, []);
      store.recorder(identity).modelCall(withLogprobs(0, [-0.25, Number.NEGATIVE_INFINITY]));
      store.commitRollout(scoredRollout({ id: rolloutId, runId }));
      const [line] = [...exportRunJsonl(store, runId)];
      const record = JSON.parse(line!) as { modelCalls: ModelCall[]; $nonFinite: unknown };
      assert.deepEqual(record.modelCalls[0]!.response!.tokens!.completionLogprobs, [-0.25, null]);
      assert.deepEqual(record.$nonFinite, [[['modelCalls', 0, 'response', 'tokens', 'completionLogprobs', 1], '-Infinity']]);
    });
  });

  it('does not share an earlier call’s wire message that holds a number JSON writes as null with one that holds null', () => {
    withStore((store) => {
      const recorder = store.recorder(identity);
      const request = { messages: [{ role: 'user', content: 'x' }] as Message[], tools: [], sampling: {} };
      const calls = [
        turnCall(ids, 0, { request, wire: { url: 'u', request: { messages: [{ role: 'user', v: Number.NaN }] }, status: 200 } }),
        turnCall(ids, 1, { request, wire: { url: 'u', request: { messages: [{ role: 'user', v: null }, { role: 'user', v: 1 }] }, status: 200 } }),
        turnCall(ids, 2, { request, wire: { url: 'u', request: { messages: [{ role: 'user', v: Number.NaN }, { role: 'user', v: 1 }] }, status: 200 } }),
      ];
      for (const call of calls) recorder.modelCall(call);
      assert.deepEqual(store.modelCalls(rolloutId), calls);
    });
  });

  it('refuses a NaN or +∞ logprob, naming the call, its rollout and the field; the attempt goes on storing', () => {
    withStore((store) => {
      const recorder = store.recorder(identity);
      assert.throws(
        () => recorder.modelCall(withLogprobs(0, [-1, Number.NaN])),
        (error: unknown) => error instanceof DefectError && /model call \S+ \(rollout ro_nf, attempt 1\): response\.tokens\.completionLogprobs\.1 is NaN: a logprob cannot be NaN/.test(error.message),
      );
      assert.throws(() => recorder.modelCall(withLogprobs(0, [Number.POSITIVE_INFINITY])), /completionLogprobs\.0 is Infinity/);
      recorder.modelCall(withLogprobs(0, [-1]));
      recorder.modelCall(withLogprobs(1, [-2]));
      assert.deepEqual(
        store.modelCalls(rolloutId).map((c) => c.response?.tokens?.completionLogprobs),
        [[-1], [-2]],
      );
    });
  });

  it('refuses a non-finite number in a field with a meaning of its own (a token count, a latency), naming it', () => {
    withStore((store) => {
      const recorder = store.recorder(identity);
      const counted = turnCall(ids, 0);
      counted.response = { ...counted.response!, usage: { promptTokens: Number.POSITIVE_INFINITY } };
      assert.throws(() => recorder.modelCall(counted), /response\.usage\.promptTokens is Infinity/);
      assert.throws(() => recorder.modelCall(turnCall(ids, 0, { latencyMs: Number.NaN })), /: latencyMs is NaN/);
      assert.equal(store.modelCalls(rolloutId).length, 0);
    });
  });

  it('reads a list of non-finite numbers edited by hand as a StoredDataError naming it, never as a record rebuilt wrong', () => {
    withStore((store, path) => {
      store.recorder(identity).modelCall(withLogprobs(0, [Number.NEGATIVE_INFINITY]));
      store.flush();
      const db = new Database(path);
      const { json } = db.prepare(`SELECT json FROM model_calls`).get() as { json: string };
      for (const [edited, problem] of [
        [json.replace('"-Infinity"', '"-Inf"'), /\$nonFinite\.json\.0: is/],
        [json.replace('[["response","tokens","completionLogprobs",0]', '[["response","tokens","completionIds",0]'), /completionIds\.0, which does not hold null/],
        [json.replace('"-Infinity"', '"Infinity"'), /response\.tokens\.completionLogprobs\.0: holds Infinity: a logprob cannot be Infinity/],
      ] as const) {
        assert.notEqual(edited, json);
        db.prepare(`UPDATE model_calls SET json = ?`).run(edited);
        assert.throws(() => store.modelCalls(rolloutId), (error: unknown) => error instanceof StoredDataError && problem.test(error.message));
      }
      db.close();
    });
  });
});

describe('store: non-finite numbers in rollouts and events', () => {
  it('refuses a rollout whose reward term, total or verifier reward is not finite, naming it, and stays usable', async () => {
    await withStore(async (store) => {
      const base = scoredRollout({ id: 'ro_1' as RolloutId, runId });
      const bad: [Rollout, RegExp][] = [
        [{ ...base, rewardTerms: [{ name: 'verifier.accuracy', value: Number.NaN, weight: 1, source: 'verifier' }] }, /rollout ro_1: rewardTerms\.0\.value is NaN/],
        [{ ...base, reward: Number.POSITIVE_INFINITY }, /rollout ro_1: reward is Infinity/],
        [{ ...base, score: Number.NaN }, /rollout ro_1: score is NaN/],
        [{ ...base, verifier: { passed: true, score: 1, checks: [], rewards: { accuracy: Number.NaN } } }, /verifier\.rewards\.accuracy is NaN/],
      ];
      const refused = (problem: RegExp) => (error: unknown) => error instanceof DefectError && problem.test(error.message);
      for (const [rollout, problem] of bad) assert.throws(() => store.commitRollout(rollout), refused(problem));
      // Written on a thread of its own, the same: refused before anything is handed over.
      assert.ok(store.writeOffThread());
      for (const [rollout, problem] of bad) await assert.rejects(store.commitRolloutsAsync([rollout]), refused(problem));
      await store.commitRolloutsAsync([base]);
      assert.deepEqual(store.rollouts(runId), [base]);
    });
  });

  it('keeps non-finite numbers a reward term quotes (the arguments a model wrote) and a world event’s parameters', () => {
    withStore((store) => {
      const rollout: Rollout = {
        ...scoredRollout({ id: rolloutId, runId }),
        reward: 1,
        rewardTerms: [{ name: 'repeated_calls', value: 1, weight: -0.1, source: 'process', detail: { examples: [{ tool: 'count', arguments: { n: Number.POSITIVE_INFINITY } }] } }],
      };
      const recorder = store.recorder(identity);
      recorder.event('world_event', { event: 'clock', params: { drift: Number.NaN, limit: Number.NEGATIVE_INFINITY } });
      store.commitRollout(rollout);
      assert.deepEqual(store.rollouts(runId), [rollout]);
      assert.deepEqual(store.events(rolloutId)[0]!.data, { event: 'clock', params: { drift: Number.NaN, limit: Number.NEGATIVE_INFINITY } });
    });
  });
});

describe('store: a run whose stored reward an older Gauntlet damaged', () => {
  /** Two scored rollouts; the first's row edited as Gauntlet before this fix wrote a NaN term: `value` and the total null. */
  function damagedRun(store: SqliteStore, path: string, edit: (json: string) => string): { intact: Rollout } {
    const damaged: Rollout = { ...scoredRollout({ id: 'ro_a' as RolloutId, runId }), reward: 1, rewardTerms: [{ name: 'outcome', value: 1, weight: 1, source: 'verifier' }, { name: 'verifier.accuracy', value: 0.5, weight: 0, source: 'verifier' }] };
    const intact: Rollout = { ...scoredRollout({ id: 'ro_b' as RolloutId, runId, epoch: 1 }), reward: 1, rewardTerms: [{ name: 'outcome', value: 1, weight: 1, source: 'verifier' }] };
    store.commitRollouts([damaged, intact]);
    const db = new Database(path);
    const { json } = db.prepare(`SELECT json FROM rollouts WHERE id = 'ro_a'`).get() as { json: string };
    const edited = edit(json);
    assert.notEqual(edited, json);
    db.prepare(`UPDATE rollouts SET json = ? WHERE id = 'ro_a'`).run(edited);
    db.close();
    return { intact };
  }

  it('reads the run: that rollout as an error whose reward is unavailable, with one warning naming it; the others as stored', () => {
    const warnings: string[] = [];
    withStore(
      (store, path) => {
        const { intact } = damagedRun(store, path, (json) => json.replace('"value":0.5', '"value":null').replace('"reward":1', '"reward":null'));
        const [a, b] = store.rollouts(runId);
        assert.deepEqual(b, intact);
        assert.equal(a!.status, 'error');
        assert.equal(a!.terminationReason, 'error');
        assert.deepEqual([a!.score, a!.passed, a!.reward], [null, null, null]);
        assert.match(a!.error!.message, /reward is unavailable: rewardTerms\.1\.value \(term "verifier\.accuracy"\), reward \(the total\) are null where a number belongs.*stored as scored, passed/);
        assert.deepEqual(a!.rewardTerms.map((t) => t.name), ['outcome'], 'the intact term stays');
        assert.deepEqual(a!.verifier, { passed: true, score: 1, checks: [] });
        // Every way of reading it agrees, and the warning is given once.
        assert.equal(store.getRollout('ro_a')!.status, 'error');
        const outcomes = store.rolloutOutcomes(runId);
        assert.deepEqual(outcomes.map((o) => [o.id, o.status, o.score, o.passed]), [['ro_a', 'error', null, null], ['ro_b', 'scored', 1, true]]);
        assert.match(outcomes[0]!.error!.message, /reward is unavailable/);
        assert.equal(warnings.length, 1);
        assert.match(warnings[0]!, /rollout ro_a: the reward is unavailable: .*It reads as an error, never a score; the stored row is unchanged/);
      },
      { warn: (message) => warnings.push(message) },
    );
  });

  it('reads a damaged verifier reward the same way, dropping only that reward from the verifier outcome', () => {
    withStore(
      (store, path) => {
        damagedRun(store, path, (json) => json.replace('"checks":[]}', '"checks":[],"rewards":{"accuracy":null,"speed":0.5}}'));
        const a = store.getRollout('ro_a')!;
        assert.equal(a.status, 'error');
        assert.match(a.error!.message, /verifier\.rewards\.accuracy is null/);
        assert.deepEqual(a.verifier?.rewards, { speed: 0.5 });
      },
      { warn: () => {} },
    );
  });
});
