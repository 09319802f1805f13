// The browser's API client and schemas (web/src/api) against the real server: every endpoint the
// web app calls answers in the shape the app checks, so a change on either side fails here with
// the endpoint and field named, not as a blank page.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DETECTION_CATEGORIES as CORE_CATEGORIES, TerminationReason } from '../../src/core/index.ts';
import { startApiServer, type ApiServer } from '../../src/server/api/index.ts';
import { openStore } from '../../src/store/index.ts';
import { Api, ApiError } from '../../web/src/api/client.ts';
import { DETECTION_CATEGORIES, TERMINATION_REASONS } from '../../web/src/api/constants.ts';
import { runRealRuns, writeEvalReport, writeLongTrajectory } from './fixtures.ts';

describe('the web client against the API server', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-contract-'));
  const store = openStore(join(dir, 'store.sqlite'));
  let server: ApiServer;
  let api: Api;
  let runs: Awaited<ReturnType<typeof runRealRuns>>;
  let long: ReturnType<typeof writeLongTrajectory>;

  before(async () => {
    runs = await runRealRuns(store, { tasks: 2, epochs: 2 });
    long = writeLongTrajectory(store, { turns: 12 });
    writeEvalReport(store, { runIds: [runs.oracleRunId, runs.randomRunId], name: 'eval-mail.json' });
    server = await startApiServer({ store, port: 0, webRoot: join(dir, 'no-web') });
    api = new Api({ baseUrl: server.url });
  });
  after(async () => {
    await server?.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mirrors the detection categories and termination reasons of src/core', () => {
    assert.deepEqual([...DETECTION_CATEGORIES], [...CORE_CATEGORIES]);
    assert.deepEqual([...TERMINATION_REASONS], TerminationReason.options);
  });

  it('reads whether the store takes labels', async () => {
    assert.deepEqual(await api.storeAccess(), { readOnly: false, reason: null });
  });

  it('reads runs, a run, its rollouts, a trajectory and its siblings', async () => {
    const list = await api.listRuns({ limit: 10 });
    assert.deepEqual(new Set(list.items.map((r) => r.id)), new Set([runs.oracleRunId, runs.randomRunId, long.runId]));
    assert.deepEqual((await api.listRuns({ model: 'oracle' })).items.map((r) => r.id), [runs.oracleRunId]);
    const run = await api.run(runs.oracleRunId);
    assert.equal(run.summary.pooledPassRate, 1);
    assert.equal(run.perTask.length, 2);
    const page = await api.rollouts(runs.oracleRunId, { limit: 3 });
    assert.equal(page.items.length, 3);
    const next = await api.rollouts(runs.oracleRunId, { limit: 3, cursor: page.nextCursor });
    assert.equal(next.items.length, 1);
    const detail = await api.rollout(long.rolloutId);
    assert.equal(detail.steps.length, 12);
    assert.ok(detail.steps.slice(1).every((s) => s.request.delta), 'later steps carry only their new messages');
    assert.equal(detail.siblings.length, 1);
    assert.equal(detail.detections.examined, true);
    assert.equal((await api.siblings(long.rolloutId)).items[0]!.id, detail.siblings[0]!.id);
  });

  it('stores verdicts, step ratings and preferences, and reads them back with history', async () => {
    const detail = await api.rollout(long.rolloutId);
    const step = await api.labelStep({ rolloutId: long.rolloutId, callId: detail.steps[3]!.callId, rating: -1, flag: 'dangerous_command', reviewer: 'bo' });
    assert.equal(step.kind, 'step');
    const verdict = await api.labelVerdict({ rolloutId: long.rolloutId, verdict: 'unsafe', reason: 'pipes curl into sh', reviewer: 'bo' });
    assert.equal(verdict.kind, 'verdict');
    const preference = await api.labelPreference({
      taskId: detail.rollout.taskId,
      leftRolloutId: long.rolloutId,
      rightRolloutId: detail.siblings[0]!.id,
      shownOrder: ['right', 'left'],
      choice: 'A',
      reviewer: 'bo',
    });
    assert.equal(preference.kind === 'preference' && preference.preferredRolloutId, detail.siblings[0]!.id);
    const labels = await api.labels(long.rolloutId);
    assert.deepEqual(labels.items.map((l) => l.kind).sort(), ['preference', 'step', 'verdict']);
    const kto = await api.exportLabels({ format: 'kto', zeroSteps: 'drop' });
    assert.equal((JSON.parse(kto.trim()) as { label: boolean }).label, false);
  });

  it('creates a queue, reserves and releases an item, and reports agreement and monitoring', async () => {
    const queue = await api.createQueue({
      runId: runs.randomRunId,
      sample: 2,
      strategy: 'random',
      reviewersPerItem: 2,
      rubric: { fields: [{ name: 'effort', type: 'numeric', min: 0, max: 5, required: true }] },
    });
    assert.equal(queue.progress.items, 2);
    assert.equal((await api.queues()).items.length, 1);
    const { item } = await api.nextQueueItem(queue.id, 'bo');
    assert.ok(item);
    assert.equal((await api.queue(queue.id)).items.find((i) => i.id === item.id)!.heldBy!.reviewer, 'bo');
    await api.releaseQueueItem(queue.id, item.id, 'bo');
    assert.equal((await api.queue(queue.id)).items.find((i) => i.id === item.id)!.heldBy, null);
    const stats = await api.reviewStats({ runId: long.runId });
    assert.deepEqual(stats.scope.reviewers, ['bo']);
    const monitoring = await api.monitoring({ env: 'mail' });
    assert.deepEqual(monitoring.points.map((p) => p.policyVersion), ['step-100', 'step-200']);
  });

  it('lists and reads reports, and validates a task', async () => {
    const reports = await api.reports();
    assert.deepEqual(reports.items.map((r) => [r.name, r.kind]), [['eval-mail.json', 'eval']]);
    const report = await api.report('eval-mail.json');
    assert.equal(report.kind, 'eval');
    const invalid = await api.validateTask({ id: 'x', env: 'mail' });
    assert.equal(invalid.valid, false);
    assert.ok(invalid.problems.some((p) => p.field === 'task.instruction'), JSON.stringify(invalid.problems));
  });

  it('turns a refused request into an ApiError naming the endpoint and field', async () => {
    const error = await api.labelStep({ rolloutId: long.rolloutId, callId: 'nope', rating: 1, reviewer: '' }).catch((e: unknown) => e);
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 400);
    assert.equal(error.field, 'reviewer');
    assert.match(error.message, /^POST \/api\/labels\/step: /);
  });
});
