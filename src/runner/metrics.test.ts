import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError, RunConfig, type ModelResult } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { counterCatalog } from '../../test/support/counter-env.ts';
import { assistant, functionModel, goldenModel, reply } from '../../test/support/models.ts';
import { scrape, scraped } from '../../test/support/prometheus.ts';
import { checkMetricsEndpoint, createMetrics, serveMetrics } from './metrics.ts';
import { selectTasks } from './resolve.ts';
import { executeRun } from './run.ts';

const config = RunConfig.parse({ envs: ['counter'], model: 'test', epochs: 2, concurrency: 4, seed: 7, maxAttempts: 1 });

/** Holds every rollout's first model call until `release`; `heldAtLeast(n)` resolves once n are held. */
function firstCallGate() {
  const held: (() => void)[] = [];
  const watchers: { count: number; resolve: () => void }[] = [];
  let open = false;
  return {
    wait: (): Promise<void> => {
      if (open) return Promise.resolve();
      return new Promise<void>((resolve) => {
        held.push(resolve);
        for (const w of watchers.filter((w) => held.length >= w.count)) w.resolve();
      });
    },
    heldAtLeast: (count: number): Promise<void> => (held.length >= count ? Promise.resolve() : new Promise((resolve) => watchers.push({ count, resolve }))),
    release: () => {
      open = true;
      for (const go of held.splice(0)) go();
    },
  };
}

describe('Prometheus metrics', () => {
  it('counts a run as its summary does: passes, failures, infra errors as infra errors, and the stats of every rollout', async () => {
    const store = openStore(':memory:');
    const gate = firstCallGate();
    // counter/a: the golden steps (passes); counter/b: the endpoint fails (infra_error);
    // counter/c: a call the tool refuses, then an answer without the work (scored, fails).
    const model = functionModel('test:mixed', async (i, request, signal): Promise<ModelResult> => {
      if (i === 0) await gate.wait();
      const user = request.messages.find((m) => m.role === 'user')?.content ?? '';
      if (user.includes('counter b')) return { ok: false, kind: 'http', message: 'HTTP 500', retryable: true };
      if (user.includes('counter c')) {
        return i === 0 ? reply(assistant({ toolCalls: [{ id: 'x', name: 'increment', arguments: { id: 'zzz' }, argumentsText: '{"id":"zzz"}' }] })) : reply(assistant({ content: 'done' }));
      }
      return goldenModel.complete(request, { signal });
    });
    const metrics = await createMetrics('run');
    const endpoint = await serveMetrics(metrics, { port: 0 });
    try {
      const running = executeRun({ store, model, catalog: counterCatalog, sleep: async () => {}, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } }, onRollout: metrics.onRollout, onProgress: metrics.onProgress });
      await gate.heldAtLeast(config.concurrency);
      const during = await scrape(endpoint.url);
      assert.equal(during.sum('gauntlet_rollouts_in_flight'), config.concurrency, 'the rollouts waiting on the model are in flight');
      assert.equal(during.sum('gauntlet_run_rollouts_expected'), 6);
      assert.equal(during.sum('gauntlet_run_rollouts_done'), 0);
      gate.release();
      const summary = await running;

      const after = await scrape(endpoint.url);
      assert.match(after.contentType, /^text\/plain; version=0\.0\.4/);
      assert.equal(after.sum('gauntlet_rollouts_in_flight'), 0);
      assert.equal(after.sum('gauntlet_rollouts_finished_total'), summary.rollouts);
      assert.deepEqual(after.by('gauntlet_rollouts_finished_total', 'status'), { scored: summary.scored, infra_error: summary.infraErrors });
      assert.deepEqual(after.by('gauntlet_rollouts_finished_total', 'termination_reason'), Object.fromEntries(Object.entries(summary.terminationReasons).filter(([, n]) => n > 0)));
      assert.equal(after.sum('gauntlet_rollouts_passed_total'), summary.passed);
      assert.deepEqual([summary.passed, summary.scored, summary.infraErrors], [2, 4, 2]);
      const rollouts = store.rollouts(summary.runId);
      const infraSources: Record<string, number> = {};
      for (const r of rollouts.filter((r) => r.status === 'infra_error')) infraSources[r.error!.source] = (infraSources[r.error!.source] ?? 0) + 1;
      assert.deepEqual(after.by('gauntlet_infra_errors_total', 'source'), infraSources);
      const total = (field: 'modelCalls' | 'toolCalls' | 'toolErrors' | 'promptTokens' | 'completionTokens') => rollouts.reduce((n, r) => n + r.stats[field], 0);
      // Calls and tokens count every attempt: an infra error's failed call was made too.
      const spent = (field: 'modelCalls' | 'toolCalls' | 'promptTokens' | 'completionTokens') => rollouts.reduce((n, r) => n + r.spent![field], 0);
      assert.equal(after.sum('gauntlet_model_calls_total'), spent('modelCalls'));
      assert.equal(spent('modelCalls'), total('modelCalls') + summary.infraErrors, 'each infra error made one failed call, which its stats leave out');
      assert.equal(after.sum('gauntlet_tool_calls_total'), total('toolCalls'));
      assert.equal(after.sum('gauntlet_tool_errors_total'), total('toolErrors'));
      assert.ok(total('toolErrors') >= 2, 'counter/c\'s refused calls are counted');
      assert.equal(after.sum('gauntlet_prompt_tokens_total'), total('promptTokens'));
      assert.equal(after.sum('gauntlet_completion_tokens_total'), total('completionTokens'));
      assert.ok(total('promptTokens') > 0);
      assert.equal(after.sum('gauntlet_rollout_duration_seconds_count'), summary.rollouts);
      assert.equal(after.sum('gauntlet_rollout_duration_seconds_bucket', { le: '+Inf' }), summary.rollouts);
      assert.equal(after.sum('gauntlet_run_rollouts_done'), summary.rollouts);
      // The process's own figures come along; no task, rollout or run id is ever a label.
      for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) assert.match(after.text, new RegExp(`^${name} `, 'm'));
      assert.match(after.text, /^# TYPE nodejs_gc_duration_seconds histogram$/m);
      for (const id of [summary.runId, ...rollouts.flatMap((r) => [r.id, r.taskId])]) assert.ok(!after.text.includes(id), `${id} is not in the metrics`);
      assert.doesNotMatch(after.text, /gauntlet_worker_/, 'a run has no worker figures');
    } finally {
      await endpoint.close();
      store.close();
    }
  });

  it('counts the calls and tokens of retried attempts, which the final record\'s stats leave out', async () => {
    const store = openStore(':memory:');
    const retried = RunConfig.parse({ ...config, epochs: 1, taskIds: ['counter/a'], maxAttempts: 3 });
    // The first attempt's agent works two turns, then the endpoint fails; the second attempt plays the golden steps.
    let attemptOneCalls = 0;
    const model = functionModel('test:flaky', async (_i, request, signal): Promise<ModelResult> => {
      if (attemptOneCalls < 2) {
        attemptOneCalls++;
        return goldenModel.complete(request, { signal });
      }
      if (attemptOneCalls === 2) {
        attemptOneCalls++;
        return { ok: false, kind: 'http', message: 'HTTP 503', retryable: true };
      }
      return goldenModel.complete(request, { signal });
    });
    const metrics = await createMetrics('run');
    try {
      const summary = await executeRun({ store, model, catalog: counterCatalog, sleep: async () => {}, run: { resolved: { config: retried, tasks: selectTasks(retried, counterCatalog) } }, onRollout: metrics.onRollout });
      const [rollout] = store.rollouts(summary.runId);
      assert.equal(rollout!.status, 'scored');
      assert.equal(rollout!.attempt, 2);
      const calls = store.modelCalls(rollout!.id);
      const firstAttempt = calls.filter((c) => c.attempt === 1);
      assert.equal(firstAttempt.length, 3, 'two answered calls and the failed one');
      assert.deepEqual(rollout!.spent, {
        attempts: 2,
        modelCalls: calls.length,
        toolCalls: rollout!.stats.toolCalls + 2,
        promptTokens: calls.reduce((n, c) => n + (c.response?.usage.promptTokens ?? 0), 0),
        completionTokens: calls.reduce((n, c) => n + (c.response?.usage.completionTokens ?? 0), 0),
      });
      assert.ok(rollout!.spent!.modelCalls > rollout!.stats.modelCalls);
      assert.deepEqual(summary.spent, rollout!.spent, 'the run\'s summary adds up its rollouts\' spend');
      const s = scraped((await metrics.scrape()).body);
      assert.equal(s.sum('gauntlet_model_calls_total'), calls.length);
      assert.equal(s.sum('gauntlet_prompt_tokens_total'), rollout!.spent!.promptTokens);
      assert.ok(rollout!.spent!.promptTokens > rollout!.stats.promptTokens, 'the first attempt\'s tokens are counted');
      assert.equal(s.sum('gauntlet_tool_calls_total'), rollout!.spent!.toolCalls);
    } finally {
      store.close();
    }
  });

  it('counts a worker\'s claims, completions and failed jobs', async () => {
    const metrics = await createMetrics('worker');
    const store = openStore(':memory:');
    const one = RunConfig.parse({ ...config, epochs: 1, taskIds: ['counter/a'] });
    const summary = await executeRun({ store, model: goldenModel, catalog: counterCatalog, sleep: async () => {}, run: { resolved: { config: one, tasks: selectTasks(one, counterCatalog) } } });
    const rollout = store.rollouts(summary.runId)[0]!;
    store.close();
    metrics.onRollout({ type: 'started', env: 'counter' });
    metrics.onRollout({ type: 'started', env: 'counter' });
    metrics.onRollout({ type: 'ended', env: 'counter' });
    metrics.onRollout({ type: 'finished', rollout });
    metrics.onWorkerEvent({ type: 'failed', rolloutId: 'r', message: 'down', final: false });
    metrics.onWorkerEvent({ type: 'handed_back', rolloutId: 'r2' });
    const text = (await metrics.scrape()).body;
    const s = scraped(text);
    assert.equal(s.sum('gauntlet_worker_rollouts_claimed_total'), 2);
    assert.equal(s.sum('gauntlet_worker_rollouts_completed_total'), 1);
    assert.equal(s.sum('gauntlet_rollouts_in_flight', { env: 'counter' }), 1);
    assert.deepEqual(s.by('gauntlet_worker_jobs_failed_total', 'final'), { false: 1 });
    assert.equal(s.sum('gauntlet_worker_rollouts_handed_back_total'), 1);
    assert.equal(s.sum('gauntlet_rollouts_passed_total'), 1);
    assert.doesNotMatch(text, /gauntlet_run_rollouts/, 'a worker has no run progress');
  });

  it('serves beyond loopback only with a token, and refuses a scrape without it', async () => {
    assert.throws(() => checkMetricsEndpoint({ port: 0, host: '0.0.0.0' }), (e: unknown) => e instanceof InputError && e.where === '--metrics-host' && /GAUNTLET_TOKEN/.test(e.message));
    await assert.rejects(serveMetrics({ scrape: () => Promise.reject(new Error('never scraped')) }, { port: 0, host: '0.0.0.0' }), InputError);
    assert.throws(() => checkMetricsEndpoint({ port: 0, host: '0.0.0.0', token: ' padded ' }), (e: unknown) => e instanceof InputError && e.where === '--metrics-token');
    checkMetricsEndpoint({ port: 0, host: '0.0.0.0', token: 'sesame' });

    const metrics = await createMetrics('run');
    const endpoint = await serveMetrics(metrics, { port: 0, token: 'sesame' });
    try {
      for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
        const refused = await fetch(endpoint.url, { headers });
        assert.equal(refused.status, 401);
        assert.equal(refused.headers.get('www-authenticate'), 'Bearer');
        assert.doesNotMatch(await refused.text(), /gauntlet_/);
      }
      const ok = await scrape(endpoint.url, { authorization: 'Bearer sesame' });
      assert.match(ok.text, /^# TYPE gauntlet_rollouts_finished_total counter$/m);
      const elsewhere = await fetch(endpoint.url.replace('/metrics', '/other'), { headers: { authorization: 'Bearer sesame' } });
      assert.equal(elsewhere.status, 404);
      await elsewhere.text();
    } finally {
      await endpoint.close();
    }
  });
});
