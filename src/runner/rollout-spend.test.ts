import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RunConfig, rolloutIdFor, type ModelCall, type RolloutId, type RunId } from '../core/index.ts';
import { openStore, type SqliteStore } from '../store/index.ts';
import { turnCall } from '../store/test-support.ts';
import { counterCatalog } from '../../test/support/counter-env.ts';
import { functionModel, goldenModel } from '../../test/support/models.ts';
import { scraped } from '../../test/support/prometheus.ts';
import { createMetrics } from './metrics.ts';
import { selectTasks } from './resolve.ts';
import { executeRun } from './run.ts';

const config = RunConfig.parse({ envs: ['counter'], taskIds: ['counter/a'], model: 'test', epochs: 1, concurrency: 1, seed: 7, maxAttempts: 2 });
const fresh = { resolved: { config, tasks: selectTasks(config, counterCatalog) } };
const base = { catalog: counterCatalog, sleep: async () => {}, threads: 0 };
/** The golden model's attempt: three calls of 10 prompt and 5 completion tokens, two tool calls. */
const golden = { modelCalls: 3, toolCalls: 2, promptTokens: 30, completionTokens: 15 };

/** What attempt 1 of a process that died mid-rollout left: two agent calls, a judge's and a tool call, no record. */
function storeDeadAttempt(store: SqliteStore, ids: { runId: RunId; rolloutId: RolloutId }): void {
  const recorder = store.recorder({ ...ids, attempt: 1 });
  const usage = (promptTokens: number, completionTokens: number): Partial<ModelCall> => ({
    response: { message: { role: 'assistant', content: '', toolCalls: [] }, finishReason: 'stop', usage: { promptTokens, completionTokens } },
  });
  recorder.event('rollout_started', { taskId: 'counter/a', attempt: 1, scaffold: 'interleaved', model: 'test' });
  recorder.modelCall(turnCall(ids, 0, usage(40, 4)));
  recorder.event('tool_call', { id: 'c0', name: 'increment', arguments: '{"id":"a"}' });
  recorder.event('tool_result', { id: 'c0', ok: true, content: 'ok' });
  recorder.modelCall(turnCall(ids, 1, usage(60, 6)));
  recorder.modelCall(turnCall(ids, 100_000, { ...usage(1000, 100), purpose: 'judge', parentId: null }));
}

describe('what a rollout spent, across processes', () => {
  it('counts the attempts a process stored before it died and the run was resumed, judges left out', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-spend-')), 'g.db');
    const before = openStore(path);
    // A run created, then its process gone mid-rollout: attempt 1's calls and events are stored, no record.
    const first = await executeRun({ ...base, store: before, model: goldenModel, run: fresh, signal: AbortSignal.abort() });
    assert.equal(first.rollouts, 0);
    const rolloutId = rolloutIdFor(first.runId, 'counter/a', 0);
    storeDeadAttempt(before, { runId: first.runId, rolloutId });
    before.close();

    const store = openStore(path);
    const metrics = await createMetrics('run');
    try {
      const resumed = await executeRun({ ...base, store, model: goldenModel, run: { resume: first.runId }, onRollout: metrics.onRollout });
      const rollout = store.getRollout(rolloutId)!;
      assert.equal(rollout.status, 'scored');
      assert.equal(rollout.attempt, 2);
      const spent = { attempts: 2, modelCalls: 2 + golden.modelCalls, toolCalls: 1 + golden.toolCalls, promptTokens: 100 + golden.promptTokens, completionTokens: 10 + golden.completionTokens };
      assert.deepEqual(rollout.spent, spent);
      assert.deepEqual(store.runSpend(first.runId), spent);
      assert.deepEqual(resumed.spent, spent);
      assert.deepEqual(rollout.stats.modelCalls, golden.modelCalls, 'the stats stay the final attempt\'s');
      // The dead process counted none of its attempts: the resumed one counts them when the rollout finishes.
      const s = scraped((await metrics.scrape()).body);
      assert.equal(s.sum('gauntlet_model_calls_total'), spent.modelCalls);
      assert.equal(s.sum('gauntlet_prompt_tokens_total'), spent.promptTokens);
    } finally {
      store.close();
    }
  });

  it('keeps the spend of an infra_error record that a resume replaces, and counts it once in metrics', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-spend-')), 'g.db');
    const store = openStore(path);
    try {
      // Two agent calls, each answered, then the endpoint gone: an infra_error record that spent tokens.
      let answered = 0;
      const flaky = functionModel('test:flaky', async (_i, request, signal) => {
        if (answered++ < 2) return goldenModel.complete(request, { signal });
        return { ok: false, kind: 'connection', message: 'connection refused', retryable: true };
      });
      const firstMetrics = await createMetrics('run');
      const first = await executeRun({ ...base, store, model: flaky, run: fresh, onRollout: firstMetrics.onRollout });
      assert.equal(first.infraErrors, 1);
      const rolloutId = rolloutIdFor(first.runId, 'counter/a', 0);
      const replaced = store.getRollout(rolloutId)!.spent!;
      assert.equal(replaced.attempts, 2);
      assert.ok(replaced.promptTokens > 0, 'the failed attempts spent tokens');

      const retriedMetrics = await createMetrics('run');
      const retried = await executeRun({ ...base, store, model: goldenModel, run: { resume: first.runId, retryInfraErrors: true }, onRollout: retriedMetrics.onRollout });
      const rollout = store.getRollout(rolloutId)!;
      assert.equal(rollout.status, 'scored');
      assert.equal(rollout.attempt, 3);
      const spent = { attempts: 3, modelCalls: replaced.modelCalls + golden.modelCalls, toolCalls: replaced.toolCalls + golden.toolCalls, promptTokens: replaced.promptTokens + golden.promptTokens, completionTokens: replaced.completionTokens + golden.completionTokens };
      assert.deepEqual(rollout.spent, spent);
      assert.deepEqual(store.runSpend(first.runId), spent, 'the replaced record\'s attempts are still counted');
      assert.deepEqual(retried.spent, spent);
      // The first process counted the infra_error record when it finished; the second counts only what came after.
      const before = scraped((await firstMetrics.scrape()).body);
      const after = scraped((await retriedMetrics.scrape()).body);
      for (const [metric, field] of [['gauntlet_model_calls_total', 'modelCalls'], ['gauntlet_tool_calls_total', 'toolCalls'], ['gauntlet_prompt_tokens_total', 'promptTokens'], ['gauntlet_completion_tokens_total', 'completionTokens']] as const) {
        assert.equal(before.sum(metric), replaced[field], `${metric} of the first process`);
        assert.equal(before.sum(metric) + after.sum(metric), spent[field], `${metric} over both processes`);
      }
    } finally {
      store.close();
    }
  });
});
