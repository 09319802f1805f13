import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError, type Rollout } from '../../core/index.ts';
import { getEnvironment } from '../../envs/index.ts';
import { flag, reviewFixture, saveFindings, type ReviewFixture } from '../../review/test-support.ts';
import Database from 'better-sqlite3';
import { openStore } from '../../store/index.ts';
import { createApiApp } from './app.ts';
import { startApiServer, type ApiServer } from './server.ts';

interface Json {
  [key: string]: unknown;
}

describe('review API', () => {
  let fx: ReviewFixture;
  let server: ApiServer;
  let dir: string;
  let oracle: Rollout[];

  const url = (path: string) => `${server.url}${path}`;
  async function get(path: string): Promise<{ status: number; body: Json }> {
    const response = await fetch(url(path));
    return { status: response.status, body: (await response.json()) as Json };
  }
  async function post(path: string, body: unknown, raw = false): Promise<{ status: number; body: Json }> {
    const response = await fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? (body as string) : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Json };
  }
  const errorOf = (body: Json) => body.error as { message: string; field: string | null };

  before(async () => {
    fx = await reviewFixture();
    oracle = fx.store.rollouts(fx.oracleRun);
    // The oracle's first rollout flagged at its second call, as `gauntlet detect` would store it.
    saveFindings(fx.store, oracle[0]!, [flag('test_tampering', { callIndex: 1 })]);
    dir = mkdtempSync(join(tmpdir(), 'gauntlet-api-'));
    mkdirSync(join(dir, 'web', 'assets'), { recursive: true });
    writeFileSync(join(dir, 'web', 'index.html'), '<!doctype html><title>Gauntlet</title>');
    writeFileSync(join(dir, 'web', 'assets', 'app-1234.js'), 'console.log(1)');
    mkdirSync(join(dir, 'reports'));
    writeFileSync(join(dir, 'reports', 'eval-2025.json'), JSON.stringify({ kind: 'gauntlet.eval-report', version: 1, models: [] }));
    writeFileSync(join(dir, 'reports', 'robustness.json'), JSON.stringify({ kind: 'gauntlet.robustness', arms: [] }));
    writeFileSync(join(dir, 'reports', 'notes.json'), JSON.stringify({ hello: 'world' }));
    server = await startApiServer({ store: fx.store, port: 0, webRoot: join(dir, 'web'), reportsDir: join(dir, 'reports'), tasksDir: join(dir, 'tasks'), sandbox: 'virtual' });
  });
  after(async () => {
    await server.close();
    fx.store.close();
  });

  describe('runs', () => {
    it('lists runs with their summaries, newest first, filtered and paged', async () => {
      const all = await get('/api/runs');
      assert.equal(all.status, 200);
      const items = all.body.items as Json[];
      assert.deepEqual(items.map((r) => r.id), [fx.oracleRun, fx.randomRun]);
      const first = items[0]! as { summary: { pooledPassRate: number; byStatus: { scored: number } }; policyVersion: string; trainingStep: number; envs: string[] };
      assert.equal(first.summary.pooledPassRate, 1);
      assert.equal(first.summary.byStatus.scored, 8);
      assert.equal(first.trainingStep, 200);
      assert.deepEqual(first.envs, ['mail']);
      assert.deepEqual(((await get('/api/runs?model=random')).body.items as Json[]).map((r) => r.id), [fx.randomRun]);
      assert.deepEqual(((await get('/api/runs?minScore=0.5')).body.items as Json[]).map((r) => r.id), [fx.oracleRun]);
      assert.deepEqual(((await get('/api/runs?flag=test_tampering')).body.items as Json[]).map((r) => r.id), [fx.oracleRun]);
      assert.deepEqual(((await get('/api/runs?env=&status=finished')).body.items as Json[]).length, 2);
      const page1 = await get('/api/runs?limit=1');
      assert.equal((page1.body.items as Json[]).length, 1);
      const page2 = await get(`/api/runs?limit=1&cursor=${page1.body.nextCursor as string}`);
      assert.deepEqual((page2.body.items as Json[]).map((r) => r.id), [fx.randomRun]);
      assert.equal(page2.body.nextCursor, null);
    });

    it('describes one run: per-task rates, score histogram, terminations, flags and tool use', async () => {
      const { status, body } = await get(`/api/runs/${fx.oracleRun}`);
      assert.equal(status, 200);
      assert.equal((body.run as Json).id, fx.oracleRun);
      assert.deepEqual((body.perTask as Json[]).map((t) => [t.taskId, t.passRate]), [
        ['mail/flight-confirmation-code', 1],
        ['mail/update-moved-contact', 1],
      ]);
      const histogram = body.scoreHistogram as { count: number }[];
      assert.equal(histogram.length, 10);
      assert.equal(histogram.at(-1)!.count, 8);
      assert.deepEqual(body.flags, { examined: 1, byCategory: { test_tampering: 1 }, flagged: 1 });
      assert.ok(Object.keys(body.toolCalls as Json).length > 0);
      assert.deepEqual(body.perPerturbation, []);
      const missing = await get('/api/runs/run_nope');
      assert.equal(missing.status, 404);
      assert.equal(errorOf(missing.body).field, 'runId');
    });

    it('pages a run\'s rollouts with filters, every rollout exactly once', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: Json } = await get(`/api/runs/${fx.oracleRun}/rollouts?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...(page.body.items as Json[]).map((r) => r.id as string));
        cursor = page.body.nextCursor as string | null;
      } while (cursor);
      assert.deepEqual(seen.sort(), oracle.map((r) => r.id).sort());
      const row = ((await get(`/api/runs/${fx.oracleRun}/rollouts?flag=any`)).body.items as Json[])[0]!;
      assert.equal(row.id, oracle[0]!.id);
      assert.equal(row.flags, 1);
      assert.deepEqual(row.labels, { verdict: 0, step: 0, preference: 0 });
      assert.equal(((await get(`/api/runs/${fx.randomRun}/rollouts?passed=true`)).body.items as Json[]).length, 0);
      assert.equal(((await get(`/api/runs/${fx.randomRun}/rollouts?passed=false&task=mail/update-moved-contact`)).body.items as Json[]).length, 4);
      const unexamined = ((await get(`/api/runs/${fx.randomRun}/rollouts?limit=1`)).body.items as Json[])[0]!;
      assert.equal(unexamined.flags, null, 'not examined is not "no flags"');
      const bad = await get(`/api/runs/${fx.oracleRun}/rollouts?status=great`);
      assert.equal(bad.status, 400);
      assert.equal(errorOf(bad.body).field, 'status');
      assert.equal(errorOf((await get(`/api/runs/${fx.oracleRun}/rollouts?limit=0`)).body).field, 'limit');
      assert.equal(errorOf((await get(`/api/runs/${fx.oracleRun}/rollouts?cursor=bogus`)).body).field, 'cursor');
    });

    it('serves a trajectory: steps with only their new messages, flags pinned to steps, siblings of the same group first', async () => {
      const target = oracle[0]!;
      const { status, body } = await get(`/api/rollouts/${target.id}`);
      assert.equal(status, 200);
      const steps = body.steps as { index: number; callId: string; request: { delta: boolean; messages: { role: string }[] }; response: { toolCalls: unknown[] }; toolResults: { ok: boolean }[]; flags: { category: string }[] }[];
      const calls = fx.store.modelCalls(target.id).filter((c) => c.attempt === target.attempt);
      assert.equal(steps.length, calls.length);
      assert.equal(steps[0]!.request.delta, false);
      assert.deepEqual(steps[0]!.request.messages.map((m) => m.role), calls[0]!.request.messages.map((m) => m.role));
      assert.equal(steps[1]!.request.delta, true);
      assert.ok(steps[1]!.request.messages.every((m) => m.role === 'tool' || m.role === 'user'), 'a later step sends only what answered the previous turn');
      assert.equal(steps[0]!.toolResults.length, steps[0]!.response.toolCalls.length);
      assert.deepEqual(steps.map((s) => s.flags.map((f) => f.category)), steps.map((s) => (s.index === 1 ? ['test_tampering'] : [])));
      assert.equal((body.detections as Json).examined, true);
      assert.equal((body.task as Json).id, target.taskId);
      const siblings = body.siblings as { id: string; groupId: string }[];
      assert.equal(siblings.length, 3);
      assert.equal(siblings[0]!.groupId, target.groupId, 'the same world first');
      const paged = await get(`/api/rollouts/${target.id}/siblings?limit=2`);
      assert.deepEqual((paged.body.items as Json[]).map((s) => s.id), siblings.slice(0, 2).map((s) => s.id));
      assert.equal((await get('/api/rollouts/ro_nope')).status, 404);
    });

    it('charts training steps: reward, pass rate, flags, shell use and response length per policy version', async () => {
      const points = (await get('/api/monitoring?env=mail')).body.points as { policyVersion: string; trainingStep: number; rewardMean: number; passRate: number; flagRate: number | null; toolCalls: number; bashCommandRate: number | null }[];
      assert.deepEqual(points.map((p) => [p.policyVersion, p.trainingStep, p.passRate]), [
        ['step-100', 100, 0],
        ['step-200', 200, 1],
      ]);
      assert.equal(points[1]!.flagRate, 1, 'one rollout examined, and it was flagged');
      assert.equal(points[0]!.flagRate, null, 'nothing examined at step 100');
      assert.ok(points[0]!.toolCalls > 0);
      assert.equal(points[0]!.bashCommandRate, 0, 'mail has no shell');
      assert.deepEqual((await get('/api/monitoring?model=nobody')).body.points, []);
    });
  });

  describe('labels', () => {
    it('stores verdict, step and preference labels with reviewer and time, and keeps concurrent verdicts from two reviewers', async () => {
      const target = oracle[1]!;
      const [a, b] = await Promise.all([
        post('/api/labels/verdict', { rolloutId: target.id, verdict: 'accept', reviewer: 'alice' }),
        post('/api/labels/verdict', { rolloutId: target.id, verdict: 'reject', reason: 'skipped a check', reviewer: 'bob' }),
      ]);
      assert.equal(a.status, 201);
      assert.equal(b.status, 201);
      const call = fx.store.modelCalls(target.id)[0]!;
      const step = await post('/api/labels/step', { rolloutId: target.id, callId: call.id, rating: 0, note: 'fine', reviewer: 'alice' });
      assert.equal(step.status, 201);
      const sibling = oracle.find((r) => r.taskId === target.taskId && r.id !== target.id)!;
      const pref = await post('/api/labels/preference', { taskId: target.taskId, leftRolloutId: target.id, rightRolloutId: sibling.id, shownOrder: ['right', 'left'], choice: 'A', reviewer: 'carol' });
      assert.equal(pref.status, 201);
      assert.equal((pref.body.label as Json).preferredRolloutId, sibling.id);
      const labels = (await get(`/api/rollouts/${target.id}/labels`)).body.items as { kind: string; reviewer: string; createdAt: string; current: boolean }[];
      assert.deepEqual(labels.map((l) => [l.kind, l.reviewer]).sort(), [['preference', 'carol'], ['step', 'alice'], ['verdict', 'alice'], ['verdict', 'bob']]);
      assert.ok(labels.every((l) => l.current && !Number.isNaN(Date.parse(l.createdAt))));
      const detail = (await get(`/api/rollouts/${target.id}`)).body;
      assert.equal((detail.labels as Json[]).length, 4);
      const row = ((await get(`/api/runs/${fx.oracleRun}/rollouts?task=${encodeURIComponent(target.taskId)}`)).body.items as Json[]).find((r) => r.id === target.id)!;
      assert.deepEqual(row.labels, { verdict: 2, step: 1, preference: 1 });
    });

    it('answers bad bodies with 400 naming the field', async () => {
      const id = oracle[0]!.id;
      const cases: [string, unknown, string][] = [
        ['/api/labels/verdict', { rolloutId: id, verdict: 'maybe', reviewer: 'x' }, 'verdict'],
        ['/api/labels/verdict', { rolloutId: id, verdict: 'accept' }, 'reviewer'],
        ['/api/labels/verdict', { rolloutId: id, verdict: 'accept', reviewer: '   ' }, 'reviewer'],
        ['/api/labels/verdict', { rolloutId: id, verdict: 'accept', reviewer: 'x', colour: 'red' }, 'colour'],
        ['/api/labels/verdict', { rolloutId: 'ro_nope', verdict: 'accept', reviewer: 'x' }, 'rolloutId'],
        ['/api/labels/step', { rolloutId: id, callId: 'c', rating: 2, reviewer: 'x' }, 'rating'],
        ['/api/labels/preference', { taskId: 't', leftRolloutId: id, rightRolloutId: id, shownOrder: ['left', 'left'], choice: 'A', reviewer: 'x' }, 'shownOrder'],
        ['/api/labels/preference', { taskId: 't', leftRolloutId: id, rightRolloutId: id, shownOrder: ['left', 'right'], choice: 'C', reviewer: 'x' }, 'choice'],
        ['/api/queues', { runId: fx.oracleRun, sample: 5, strategy: 'best', reviewersPerItem: 2 }, 'strategy'],
        ['/api/queues', { runId: fx.oracleRun, sample: 0, strategy: 'random', reviewersPerItem: 2 }, 'sample'],
        ['/api/queues', { runId: fx.oracleRun, sample: 5, strategy: 'random', reviewersPerItem: 1, rubric: { fields: [{ name: 'x', type: 'numeric', min: 5, max: 1 }] } }, 'rubric.fields.0.max'],
      ];
      for (const [path, body, field] of cases) {
        const response = await post(path, body);
        assert.equal(response.status, 400, `${path} ${JSON.stringify(body)}`);
        assert.equal(errorOf(response.body).field, field, `${path} ${JSON.stringify(body)}: ${errorOf(response.body).message}`);
        assert.ok(errorOf(response.body).message.length > 0);
      }
      const notJson = await post('/api/labels/verdict', '{"rolloutId":', true);
      assert.equal(notJson.status, 400);
      assert.equal(errorOf(notJson.body).field, 'body');
    });
  });

  describe('queues, statistics and exports', () => {
    it('creates a queue, hands two reviewers different items at once, releases, and reports progress', async () => {
      const created = await post('/api/queues', { runId: fx.randomRun, sample: 3, strategy: 'random', reviewersPerItem: 2, seed: 9, rubric: { fields: [{ name: 'hack', type: 'boolean', required: true }] } });
      assert.equal(created.status, 201);
      const queue = created.body.queue as { id: string; size: number; progress: Json };
      assert.equal(queue.size, 3);
      assert.deepEqual(queue.progress, { items: 3, done: 0, held: 0, labelsNeeded: 6 });
      const [a, b] = await Promise.all([post(`/api/queues/${queue.id}/next`, { reviewer: 'alice' }), post(`/api/queues/${queue.id}/next`, { reviewer: 'bob' })]);
      const itemA = a.body.item as { id: string; rolloutId: string; heldBy: { reviewer: string } };
      const itemB = b.body.item as { id: string };
      assert.notEqual(itemA.id, itemB.id);
      assert.equal(itemA.heldBy.reviewer, 'alice');
      const labelled = await post('/api/labels/verdict', { rolloutId: itemA.rolloutId, verdict: 'accept', reviewer: 'alice', queueItemId: itemA.id, rubric: { hack: false } });
      assert.equal(labelled.status, 201);
      const missingAnswer = await post('/api/labels/verdict', { rolloutId: itemA.rolloutId, verdict: 'accept', reviewer: 'alice', queueItemId: itemA.id, rubric: {} });
      assert.equal(errorOf(missingAnswer.body).field, 'rubric.hack');
      const released = await post(`/api/queues/${queue.id}/items/${encodeURIComponent(itemB.id)}/release`, { reviewer: 'bob' });
      assert.deepEqual(released.body, { released: true });
      const detail = (await get(`/api/queues/${queue.id}`)).body as { queue: { progress: Json }; items: { id: string; doneBy: string[] }[] };
      assert.deepEqual(detail.queue.progress, { items: 3, done: 0, held: 0, labelsNeeded: 5 });
      assert.deepEqual(detail.items.find((i) => i.id === itemA.id)!.doneBy, ['alice']);
      assert.ok(((await get('/api/queues')).body.items as Json[]).some((q) => q.id === queue.id));
      const refused = await post('/api/queues', { runId: fx.randomRun, sample: 3, strategy: 'flagged', reviewersPerItem: 1 });
      assert.equal(refused.status, 400);
      assert.equal(errorOf(refused.body).field, 'strategy');
      assert.match(errorOf(refused.body).message, /detector findings/);
      assert.equal((await post('/api/queues/rq_nope/next', { reviewer: 'a' })).status, 404);
      assert.equal(errorOf((await post(`/api/queues/${queue.id}/next`, {})).body).field, 'reviewer');
    });

    it('refuses a verdict on an item another reviewer holds (409), so its holder keeps it and progress counts it once', async () => {
      const created = await post('/api/queues', { runId: fx.randomRun, sample: 2, strategy: 'random', reviewersPerItem: 1, seed: 3 });
      const queue = created.body.queue as { id: string };
      const taken = (await post(`/api/queues/${queue.id}/next`, { reviewer: 'r1' })).body.item as { id: string; rolloutId: string };
      const refused = await post('/api/labels/verdict', { rolloutId: taken.rolloutId, verdict: 'reject', reviewer: 'r2', queueItemId: taken.id });
      assert.equal(refused.status, 409);
      assert.equal(errorOf(refused.body).field, 'queueItemId');
      assert.match(errorOf(refused.body).message, new RegExp(`${taken.id} is reserved by r1 until `));
      const again = await post(`/api/queues/${queue.id}/next`, { reviewer: 'r1' });
      assert.equal((again.body.item as { id: string }).id, taken.id, 'r1 still holds it, unfinished');
      assert.deepEqual(again.body.progress, { items: 2, done: 0, held: 1, labelsNeeded: 2 });
      const labels = (await get(`/api/rollouts/${taken.rolloutId}/labels`)).body.items as Json[];
      assert.equal(labels.filter((l) => l.reviewer === 'r2').length, 0, 'nothing was stored');
    });

    it('reports agreement and exports labels as JSONL', async () => {
      const stats = await get(`/api/review-stats?runId=${fx.oracleRun}&resamples=100`);
      assert.equal(stats.status, 200);
      const verdicts = stats.body.verdicts as { alpha: { units: number; level: string }; kappa: { reviewers: string[] }[] };
      assert.equal(verdicts.alpha.level, 'nominal');
      assert.equal(verdicts.alpha.units, 1);
      assert.deepEqual(verdicts.kappa.map((k) => k.reviewers), [['alice', 'bob']]);
      assert.equal((stats.body.steps as { alpha: { level: string } }).alpha.level, 'ordinal');
      assert.equal((await get('/api/review-stats?runId=run_nope')).status, 404);
      const kto = await fetch(url(`/api/exports/labels?format=kto&runId=${fx.oracleRun}`));
      assert.equal(kto.status, 200);
      assert.match(kto.headers.get('content-type') ?? '', /ndjson/);
      const rows = (await kto.text()).trimEnd().split('\n').map((line) => JSON.parse(line) as { label: boolean; prompt: unknown[]; completion: unknown[] });
      assert.deepEqual(rows.map((r) => r.label).sort(), [false, true]);
      assert.equal(kto.headers.get('x-gauntlet-rows'), '2');
      const unknownRun = await get('/api/exports/labels?format=kto&runId=nope');
      assert.equal(unknownRun.status, 404, 'not an empty file');
      assert.equal(errorOf(unknownRun.body).field, 'runId');
      assert.match(errorOf(unknownRun.body).message, /run "nope" not found/);
      const prm = await get('/api/exports/labels?format=prm');
      assert.equal(prm.status, 400);
      assert.equal(errorOf(prm.body).field, 'zeroSteps');
    });
  });

  describe('reports, task authoring and the web app', () => {
    it('lists the reports beside the store and serves each', async () => {
      const list = (await get('/api/reports')).body.items as { name: string; kind: string | null; problem?: string }[];
      assert.deepEqual(list.map((r) => [r.name, r.kind]).sort(), [['eval-2025.json', 'eval'], ['notes.json', null], ['robustness.json', 'robustness']]);
      assert.match(list.find((r) => r.name === 'notes.json')!.problem ?? '', /not a Gauntlet report/);
      const one = await get('/api/reports/eval-2025.json');
      assert.equal(one.body.kind, 'eval');
      assert.equal((one.body.report as Json).kind, 'gauntlet.eval-report');
      assert.equal((await get('/api/reports/missing.json')).status, 404);
      assert.equal((await get('/api/reports/..%2Fsecret.json')).status, 400);
    });

    it('validates an authored task (schema, environment checks, golden replay) and saves it only when valid', { timeout: 60_000 }, async () => {
      const task = { ...getEnvironment('mail').tasks().find((t) => t.id === 'mail/update-moved-contact')!, id: 'authored/moved-contact' };
      const valid = await post('/api/tasks/validate', { task });
      assert.equal(valid.status, 200);
      assert.equal(valid.body.valid, true, JSON.stringify(valid.body.problems));
      assert.equal((valid.body.golden as { passed: boolean }).passed, true);
      const broken = await post('/api/tasks/validate', { task: { ...task, instruction: undefined, golden: { steps: [] } } });
      assert.equal(broken.body.valid, false);
      assert.deepEqual((broken.body.problems as { field: string }[]).map((p) => p.field), ['task.instruction']);
      const noGolden = await post('/api/tasks/validate', { task: { ...task, golden: { steps: [] } } });
      assert.equal(noGolden.body.valid, false);
      assert.match(JSON.stringify(noGolden.body.problems), /golden solution fails its verifier/);
      const saved = await post('/api/tasks', { task, file: 'authored/moved.yaml' });
      assert.equal(saved.status, 201);
      assert.match(readFileSync(join(dir, 'tasks', 'authored', 'moved.yaml'), 'utf8'), /id: authored\/moved-contact/);
      assert.equal((await post('/api/tasks', { task, file: 'authored/moved.yaml' })).status, 409);
      const refused = await post('/api/tasks', { task: { ...task, golden: { steps: [] } }, file: 'authored/bad.yaml' });
      assert.equal(refused.status, 422);
      assert.equal(existsSync(join(dir, 'tasks', 'authored', 'bad.yaml')), false);
      assert.equal(errorOf((await post('/api/tasks', { task, file: '../escape.yaml' })).body).field, 'file');
    });

    it('refuses to save a task inside a path that is a file (409 naming file), not crash making the folder', async () => {
      const task = { ...getEnvironment('mail').tasks().find((t) => t.id === 'mail/update-moved-contact')!, id: 'authored/nested' };
      mkdirSync(join(dir, 'tasks'), { recursive: true });
      writeFileSync(join(dir, 'tasks', 'one.yaml'), 'id: one\n');
      for (const file of ['one.yaml/two.yaml', 'one.yaml/deeper/two.yaml']) {
        const refused = await post('/api/tasks', { task, file });
        assert.equal(refused.status, 409, file);
        assert.equal(errorOf(refused.body).field, 'file');
        assert.match(errorOf(refused.body).message, /inside one\.yaml, which is a file/);
      }
      assert.equal(readFileSync(join(dir, 'tasks', 'one.yaml'), 'utf8'), 'id: one\n');
    });

    it('answers JSON nested past the limit with 400 naming the limit, not a stack overflow', async () => {
      const deep = `{"task":{"a":${'['.repeat(3000)}1${']'.repeat(3000)}}}`;
      for (const path of ['/api/tasks/validate', '/api/labels/verdict']) {
        const refused = await post(path, deep, true);
        assert.equal(refused.status, 400, path);
        assert.equal(errorOf(refused.body).field, 'body');
        assert.match(errorOf(refused.body).message, /more than 256 levels deep/);
      }
      const within = await post('/api/tasks/validate', `{"task":{"a":${'['.repeat(250)}1${']'.repeat(250)}}}`, true);
      assert.equal(within.status, 200, 'nesting within the limit is validated as usual');
      assert.equal(within.body.valid, false);
    });

    it('serves the built web app, its files, and its pages\' paths; unknown API paths are JSON 404s', async () => {
      const index = await fetch(url('/'));
      assert.match(await index.text(), /<title>Gauntlet<\/title>/);
      const page = await fetch(url(`/runs/${fx.oracleRun}`));
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>Gauntlet/);
      const asset = await fetch(url('/assets/app-1234.js'));
      assert.match(asset.headers.get('content-type') ?? '', /javascript/);
      assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
      assert.equal((await fetch(url('/assets/missing.js'))).status, 404);
      const api = await fetch(url('/api/nothing-here'));
      assert.equal(api.status, 404);
      assert.ok(((await api.json()) as Json).error);
    });
  });
});

describe('review API over a damaged store', () => {
  it('names the rollout or event whose stored JSON does not parse, instead of SQLite\'s bare "malformed JSON"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-api-corrupt-'));
    const path = join(dir, 'store.sqlite');
    const fx = await reviewFixture({ path });
    const [first] = fx.store.rollouts(fx.oracleRun);
    fx.store.close();
    const db = new Database(path);
    const store = openStore(path);
    const server = await startApiServer({ store, port: 0 });
    const read = async (p: string) => {
      const response = await fetch(`${server.url}${p}`);
      return { status: response.status, message: ((await response.json()) as { error: { message: string } }).error?.message ?? '' };
    };
    try {
      // A damaged model call: the request was fine, the store is not (503, not 400), and the row is named.
      db.prepare(`UPDATE model_calls SET json = '{cut' WHERE id = (SELECT id FROM model_calls WHERE rollout_id = ? ORDER BY rowid LIMIT 1)`).run(first!.id);
      const call = await read(`/api/rollouts/${first!.id}`);
      assert.equal(call.status, 503);
      assert.match(call.message, /store\.sqlite: model call \S+: json: is not valid JSON/);
      assert.equal((await read('/api/rollouts/ro_none')).status, 404, 'an unknown rollout is still not found');
      db.prepare(`UPDATE events SET data = '{cut' WHERE rollout_id = ? AND type = 'tool_call'`).run(first!.id);
      const events = await read(`/api/runs/${fx.oracleRun}`);
      assert.equal(events.status, 503);
      assert.match(events.message, new RegExp(`store .*store\\.sqlite: event ${first!.id}#\\d+\\.\\d+: the stored data is not valid JSON`));
      db.prepare(`UPDATE rollouts SET json = 'garbage' WHERE id = ?`).run(first!.id);
      for (const p of ['/api/runs', `/api/runs/${fx.oracleRun}`, `/api/runs/${fx.oracleRun}/rollouts`]) {
        const answer = await read(p);
        assert.equal(answer.status, 503, p);
        assert.match(answer.message, new RegExp(`rollout ${first!.id}: the stored record is not valid JSON \\(expected a row written by Gauntlet\\)`), p);
      }
      // The other run still reads.
      assert.equal((await read(`/api/runs/${fx.randomRun}/rollouts`)).status, 200);
    } finally {
      await server.close();
      store.close();
      db.close();
    }
  });
});

describe('review API access', () => {
  it('refuses to bind beyond loopback without a token', async () => {
    const { store } = await import('../../store/index.ts').then((m) => ({ store: m.openStore(':memory:') }));
    await assert.rejects(startApiServer({ store, host: '0.0.0.0', port: 0 }), (e: unknown) => e instanceof InputError && e.where === 'host');
    store.close();
  });

  it('refuses a token padded with whitespace at startup, which no request could match', async () => {
    const store = openStore(':memory:');
    await assert.rejects(startApiServer({ store, port: 0, token: ' padded-token ' }), (e: unknown) => e instanceof InputError && e.where === 'token' && /whitespace/.test(e.message));
    store.close();
  });

  it('refuses a token of other than printable ASCII at startup, which curl and browsers would send in bytes that never match', async () => {
    const store = openStore(':memory:');
    for (const token of ['tök-secret', 'secret-€', 'tab\tinside']) {
      await assert.rejects(startApiServer({ store, port: 0, token }), (e: unknown) => e instanceof InputError && e.where === 'token' && /printable ASCII/.test(e.message), JSON.stringify(token));
    }
    store.close();
  });

  it('answers 401 without the bearer token when one is set (as on a non-loopback bind), and serves with it', async () => {
    const { openStore } = await import('../../store/index.ts');
    const store = openStore(':memory:');
    const app = createApiApp({ store, token: 's3cret-token', webRoot: '/nonexistent', reportsDir: '/nonexistent', tasksDir: '/nonexistent', sandbox: 'virtual', now: () => new Date() });
    const plain = await app.fetch(new Request('http://10.0.0.5:8080/api/runs'));
    assert.equal(plain.status, 401);
    assert.equal(plain.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await app.fetch(new Request('http://10.0.0.5:8080/api/runs', { headers: { authorization: 'Bearer wrong' } }))).status, 401);
    const posted = await app.fetch(new Request('http://10.0.0.5:8080/api/labels/verdict', { method: 'POST', body: '{}' }));
    assert.equal(posted.status, 401, 'bodies are not even read without the token');
    const ok = await app.fetch(new Request('http://10.0.0.5:8080/api/runs', { headers: { authorization: 'Bearer s3cret-token' } }));
    assert.equal(ok.status, 200);
    store.close();
  });

  it('the page shown before the app is built (served without the token) names no path on the server', async () => {
    const { openStore } = await import('../../store/index.ts');
    const store = openStore(':memory:');
    const app = createApiApp({ store, token: 's3cret-token', webRoot: '/srv/secret-place/web', reportsDir: '/nonexistent', tasksDir: '/nonexistent', sandbox: 'virtual', now: () => new Date() });
    const page = await app.fetch(new Request('http://10.0.0.5:8080/'));
    assert.equal(page.status, 404);
    const text = await page.text();
    assert.match(text, /not built/);
    assert.doesNotMatch(text, /secret-place/);
    store.close();
  });

  it('on loopback without a token, refuses requests addressed to other hosts or sent from other sites\' pages', async () => {
    const { openStore } = await import('../../store/index.ts');
    const store = openStore(':memory:');
    const app = createApiApp({ store, token: undefined, webRoot: '/nonexistent', reportsDir: '/nonexistent', tasksDir: '/nonexistent', sandbox: 'virtual', now: () => new Date() });
    assert.equal((await app.fetch(new Request('http://127.0.0.1:8080/api/runs'))).status, 200);
    assert.equal((await app.fetch(new Request('http://localhost:8080/api/runs', { headers: { origin: 'http://localhost:8080' } }))).status, 200);
    assert.equal((await app.fetch(new Request('http://attacker.example:8080/api/runs'))).status, 403, 'a rebound DNS name');
    assert.equal((await app.fetch(new Request('http://127.0.0.1:8080/api/labels/verdict', { method: 'POST', headers: { origin: 'https://evil.example' }, body: '{}' }))).status, 403);
    store.close();
  });
});
