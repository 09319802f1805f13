// The review API against careless clients and attackers: bodies, query strings, names and links
// that once crashed a route, dropped what was sent, or answered far more than was asked.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Hono } from 'hono';
import type { Rollout } from '../../core/index.ts';
import { getEnvironment } from '../../envs/index.ts';
import { reviewFixture, type ReviewFixture } from '../../review/test-support.ts';
import { createApiApp } from './app.ts';

interface ErrorReply {
  error: { message: string; field: string | null };
}

describe('review API against hostile and careless input', () => {
  let fx: ReviewFixture;
  let app: Hono;
  let dir: string;
  let rollout: Rollout;

  const request = (path: string, init: RequestInit = {}) => app.fetch(new Request(`http://127.0.0.1:8080${path}`, init));
  const post = (path: string, body: string | Uint8Array<ArrayBuffer>) => request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const errorOf = async (response: Response) => ((await response.json()) as ErrorReply).error;
  const labelsOf = async (id: string) => ((await (await request(`/api/rollouts/${id}/labels`)).json()) as { items: { reviewer: string }[] }).items;

  before(async () => {
    fx = await reviewFixture();
    rollout = fx.store.rollouts(fx.oracleRun)[0]!;
    dir = mkdtempSync(join(tmpdir(), 'gauntlet-api-hostile-'));
    mkdirSync(join(dir, 'web'));
    writeFileSync(join(dir, 'web', 'index.html'), '<!doctype html><title>Gauntlet</title>');
    writeFileSync(join(dir, 'secret.txt'), 'not for the web');
    symlinkSync(join(dir, 'secret.txt'), join(dir, 'web', 'leak.txt'));
    mkdirSync(join(dir, 'reports'));
    writeFileSync(join(dir, 'reports', 'eval.json'), JSON.stringify({ kind: 'gauntlet.eval-report', models: [] }));
    symlinkSync(join(dir, 'gone.json'), join(dir, 'reports', 'dangling.json'));
    app = createApiApp({
      store: fx.store,
      token: undefined,
      webRoot: join(dir, 'web'),
      reportsDir: join(dir, 'reports'),
      tasksDir: join(dir, 'tasks'),
      sandbox: 'virtual',
      now: () => new Date(),
    });
  });
  after(() => fx.store.close());

  it('refuses a body that is not UTF-8 (400 naming body) instead of storing U+FFFD in place of the bytes sent', async () => {
    const body = Buffer.concat([Buffer.from(`{"rolloutId":"${rollout.id}","verdict":"accept","reviewer":"jos`), Buffer.from([0xe9]), Buffer.from('"}')]);
    const response = await post('/api/labels/verdict', new Uint8Array(body));
    assert.equal(response.status, 400);
    const error = await errorOf(response);
    assert.equal(error.field, 'body');
    assert.match(error.message, /not valid UTF-8/);
    assert.ok((await labelsOf(rollout.id)).every((l) => !l.reviewer.startsWith('jos')), 'nothing was stored');
  });

  it('refuses a __proto__ key anywhere in a body (400 naming where) instead of silently dropping its value', async () => {
    const response = await post('/api/labels/verdict', `{"rolloutId":"${rollout.id}","verdict":"accept","reviewer":"proto","rubric":{"__proto__":true}}`);
    assert.equal(response.status, 400);
    const error = await errorOf(response);
    assert.equal(error.field, 'rubric.__proto__');
    assert.equal((await labelsOf(rollout.id)).filter((l) => l.reviewer === 'proto').length, 0);
  });

  it('keeps an error reply small however many fields of the body are wrong', async () => {
    const rubric = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`f${i}`, {}]));
    const response = await post('/api/labels/verdict', JSON.stringify({ rolloutId: rollout.id, verdict: 'accept', reviewer: 'x', rubric }));
    assert.equal(response.status, 400);
    const error = await errorOf(response);
    assert.equal(error.field, 'rubric.f0');
    assert.ok(error.message.length < 2_000, `a ${error.message.length}-character message`);
    assert.match(error.message, /and 49989 more/);
  });

  it('reads query numbers only as decimal numbers: a blank or hex value is a 400, not 0 or 16', async () => {
    const cases: [string, string][] = [
      ['/api/runs?minScore=%20', 'minScore'],
      ['/api/runs?maxScore=0x1', 'maxScore'],
      ['/api/runs?limit=0x10', 'limit'],
      ['/api/runs?limit=%201', 'limit'],
      ['/api/review-stats?resamples=%20', 'resamples'],
    ];
    for (const [path, field] of cases) {
      const response = await request(path);
      assert.equal(response.status, 400, path);
      assert.equal((await errorOf(response)).field, field, path);
    }
    assert.equal((await request('/api/runs?minScore=-0.5&maxScore=1e0&limit=20')).status, 200);
  });

  it('refuses a query parameter given twice (400 naming it) instead of filtering by the first and dropping the rest', async () => {
    const cases: [string, string][] = [
      ['/api/runs?status=running&status=finished', 'status'],
      ['/api/runs?limit=1&limit=500', 'limit'],
      [`/api/runs/${rollout.runId}/rollouts?passed=true&passed=false`, 'passed'],
      ['/api/exports/labels?format=dpo&format=kto', 'format'],
    ];
    for (const [path, field] of cases) {
      const response = await request(path);
      assert.equal(response.status, 400, path);
      const error = await errorOf(response);
      assert.equal(error.field, field, path);
      assert.match(error.message, /given 2 times/, path);
    }
    assert.equal((await request('/api/runs?status=finished&limit=1')).status, 200);
    // An empty value still counts as absent, so it neither clashes with nor hides the one given.
    const paged = await request('/api/runs?limit=&limit=1');
    assert.equal(paged.status, 200);
    assert.equal(((await paged.json()) as { items: unknown[] }).items.length, 1);
  });

  it('refuses a reservation too short to hold (400 naming it), so no queue is stored that every listing then fails on', async () => {
    for (const reservationMinutes of [1e-300, 1e-5]) {
      const response = await post('/api/queues', JSON.stringify({ runId: fx.oracleRun, sample: 1, strategy: 'random', reviewersPerItem: 2, reservationMinutes }));
      assert.equal(response.status, 400, String(reservationMinutes));
      assert.equal((await errorOf(response)).field, 'reservationMinutes');
    }
    const listed = await request('/api/queues');
    assert.equal(listed.status, 200, JSON.stringify(await listed.clone().json()));
    assert.deepEqual(((await listed.json()) as { items: unknown[] }).items, []);
  });

  it('streams a label export a row at a time, so no export has to fit in one string', async () => {
    for (const reviewer of ['ann', 'ben', 'cal']) {
      assert.equal((await post('/api/labels/verdict', JSON.stringify({ rolloutId: rollout.id, verdict: 'accept', reviewer }))).status, 201);
    }
    const response = await request(`/api/exports/labels?format=kto&runId=${fx.oracleRun}`);
    assert.equal(response.status, 200);
    assert.ok(response.body, 'a body');
    assert.equal(response.headers.get('content-length'), null, 'streamed, not sized up front');
    const rows = (await response.text()).trimEnd().split('\n').map((line) => JSON.parse(line) as { label: boolean });
    assert.equal(rows.length, 3);
    assert.equal(response.headers.get('x-gauntlet-rows'), '3');
    const empty = await request('/api/exports/labels?format=dpo&runId=' + fx.randomRun);
    assert.equal(await empty.text(), '');
  });

  it('lists a report it cannot read (a dangling link) with why, instead of failing the whole listing', async () => {
    const response = await request('/api/reports');
    assert.equal(response.status, 200);
    const items = ((await response.json()) as { items: { name: string; kind: string | null; problem?: string }[] }).items;
    assert.deepEqual(items.map((r) => [r.name, r.kind]).sort(), [['dangling.json', null], ['eval.json', 'eval']]);
    assert.match(items.find((r) => r.name === 'dangling.json')!.problem ?? '', /not readable \(ENOENT/);
  });

  it('serves no file of the web app through a link that leads out of its folder', async () => {
    const response = await request('/leak.txt');
    assert.equal(response.status, 404);
    assert.doesNotMatch(await response.text(), /not for the web/);
    assert.equal((await request('/index.html')).status, 200);
  });

  it('lists at most 100 problems of an authored task, then how many more', async () => {
    const task = { id: 'authored/many', env: 'mail', instruction: 'x', verifier: { checks: [] }, golden: { steps: Array.from({ length: 5_000 }, () => ({ tool: 1 })) } };
    const response = await post('/api/tasks/validate', JSON.stringify({ task }));
    assert.equal(response.status, 200);
    const { valid, problems } = (await response.json()) as { valid: boolean; problems: { field: string; message: string }[] };
    assert.equal(valid, false);
    assert.equal(problems.length, 101);
    assert.match(problems.at(-1)!.message, /^and \d+ more problems not listed/);
  });

  it('refuses a task file name the file system cannot take (400 naming file) before replaying it, not a 500 after', async () => {
    const task = { ...getEnvironment('mail').tasks()[0]!, id: 'authored/long-name' };
    for (const file of [`${'a'.repeat(300)}.yaml`, `${Array.from({ length: 600 }, () => 'd').join('/')}/x.yaml`]) {
      const response = await post('/api/tasks', JSON.stringify({ task, file }));
      assert.equal(response.status, 400, file.slice(0, 20));
      assert.equal((await errorOf(response)).field, 'file');
    }
  });

  it('opens a run whose id holds a lone surrogate by its ~ reference, and refuses a malformed reference with a 400 naming the id', async () => {
    const id = 'run_lone_\uD800_id';
    const copy = fx.store.getRun(fx.oracleRun)!;
    fx.store.createRun({ ...copy, id: id as typeof copy.id }, fx.store.runTasks(fx.oracleRun).map((t) => t.task));
    fx.store.flush();
    // ~ then the unpadded base64url of the id's UTF-16LE code units.
    const ref = `~${Buffer.from(id, 'utf16le').toString('base64url')}`;
    const run = await request(`/api/runs/${ref}`);
    assert.equal(run.status, 200, await run.clone().text());
    assert.equal(((await run.json()) as { run: { id: string } }).run.id, id);
    assert.equal((await request(`/api/runs/${ref}/rollouts`)).status, 200);
    assert.equal((await request(`/api/runs/${fx.oracleRun}`)).status, 200, 'a plain id keeps its plain URL');
    // As a query filter too: the reference names the run, the plain id still does.
    const stats = await request(`/api/review-stats?runId=${ref}&resamples=10`);
    assert.equal(stats.status, 200, await stats.clone().text());
    const exported = await request(`/api/exports/labels?format=dpo&runId=${ref}`);
    assert.equal(exported.status, 200, await exported.clone().text());
    assert.equal((await request(`/api/review-stats?runId=${fx.oracleRun}&resamples=10`)).status, 200);
    for (const [path, field] of [[`/api/review-stats?runId=~YQ`, 'runId'], [`/api/exports/labels?format=dpo&queueId=~not*base64`, 'queueId']] as const) {
      const response = await request(path);
      assert.equal(response.status, 400, path);
      const error = await errorOf(response);
      assert.equal(error.field, field, path);
      assert.match(error.message, /expected the id itself, or ~ followed by the unpadded base64url/, path);
    }
    // Not base64url; an odd number of bytes; padding; a non-canonical last character; nothing after ~.
    for (const bad of ['~not*base64', '~YQ', '~YQA=', '~YQB', '~']) {
      for (const [path, field] of [[`/api/runs/${bad}`, 'runId'], [`/api/rollouts/${bad}`, 'rolloutId'], [`/api/rollouts/${bad}/labels`, 'rolloutId']] as const) {
        const response = await request(path);
        assert.equal(response.status, 400, path);
        const error = await errorOf(response);
        assert.equal(error.field, field, path);
        assert.match(error.message, /expected the id itself, or ~ followed by the unpadded base64url/, path);
      }
    }
  });
});
