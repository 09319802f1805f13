// The review API over a store served only to read: every read answers as over a writable store,
// every request that would write is refused (403, saying the store is read-only and why) before
// anything is stored, and GET /api/store tells the web app so. How `gauntlet serve` picks this
// mode (a read-only file or directory, --read-only, an older schema) is tested in src/cli/commands.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getEnvironment } from '../../envs/index.ts';
import { createQueue, QueueInput, recordVerdict } from '../../review/index.ts';
import { reviewFixture } from '../../review/test-support.ts';
import { openStore, type SqliteStore } from '../../store/index.ts';
import { createApiApp } from './app.ts';
import { startApiServer, type ApiServer } from './server.ts';

interface Reply {
  status: number;
  body: { error?: { message: string; field: string | null; expected?: string } } & Record<string, unknown>;
}

const REASON = 'its directory /archive is read-only';

async function call(server: ApiServer, method: string, path: string, body?: unknown): Promise<Reply> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text.startsWith('{') ? JSON.parse(text) : { text }) as Reply['body'] };
}

describe('review API over a store served read-only', () => {
  let dir: string;
  let path: string;
  let writer: SqliteStore;
  let reader: SqliteStore;
  let writable: ApiServer;
  let readOnly: ApiServer;
  let runId: string;
  let rolloutIds: string[];
  let queueId: string;
  let itemId: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gauntlet-api-ro-'));
    path = join(dir, 'g.db');
    const fx = await reviewFixture({ path });
    runId = fx.oracleRun;
    rolloutIds = fx.store.rollouts(runId).map((r) => r.id);
    recordVerdict({ store: fx.store }, { rolloutId: rolloutIds[0]!, verdict: 'accept', reviewer: 'alice' });
    const queue = createQueue({ store: fx.store }, QueueInput.parse({ runId, sample: 2, strategy: 'random', reviewersPerItem: 1, seed: 5 }));
    queueId = queue.id;
    fx.store.close();
    // Both over the same file: the writable one is what every read is compared with.
    writer = openStore(path);
    reader = openStore(path, { readOnly: true });
    itemId = writer.reviewItems(queueId, Date.now())[0]!.item.id;
    const common = { port: 0, webRoot: join(dir, 'no-web'), reportsDir: join(dir, 'reports'), tasksDir: join(dir, 'tasks'), sandbox: 'virtual' as const };
    writable = await startApiServer({ store: writer, ...common });
    readOnly = await startApiServer({ store: reader, ...common, readOnly: { reason: REASON } });
  });
  after(async () => {
    await readOnly?.close();
    await writable?.close();
    reader?.close();
    writer?.close();
  });

  it('tells the web app the store is read-only and why; a writable store says it is not', async () => {
    assert.deepEqual(await call(readOnly, 'GET', '/api/store'), { status: 200, body: { readOnly: true, reason: REASON } });
    assert.deepEqual(await call(writable, 'GET', '/api/store'), { status: 200, body: { readOnly: false, reason: null } });
  });

  it('answers every read as it does over the writable store: runs, trajectories, labels, queues, agreement, exports', async () => {
    const reads = [
      '/api/runs',
      `/api/runs/${runId}`,
      `/api/runs/${runId}/rollouts`,
      `/api/rollouts/${rolloutIds[0]}`,
      `/api/rollouts/${rolloutIds[0]}/siblings`,
      `/api/rollouts/${rolloutIds[0]}/labels`,
      '/api/queues',
      `/api/queues/${queueId}`,
      `/api/review-stats?runId=${runId}&resamples=10`,
      '/api/monitoring',
      '/api/reports',
    ];
    for (const path of reads) {
      const [expected, actual] = [await call(writable, 'GET', path), await call(readOnly, 'GET', path)];
      assert.equal(actual.status, 200, `${path}: ${JSON.stringify(actual.body)}`);
      assert.deepEqual(actual.body, expected.body, path);
    }
    const labels = await fetch(`${readOnly.url}/api/exports/labels?format=kto&runId=${runId}`);
    assert.equal(labels.status, 200);
    assert.equal(labels.headers.get('x-gauntlet-rows'), '1', 'alice\'s verdict is exported');
  });

  it('checks an authored task (a replay in a sandbox, not a write) but will not save it', { timeout: 60_000 }, async () => {
    const task = { ...getEnvironment('mail').tasks().find((t) => t.id === 'mail/update-moved-contact')!, id: 'authored/ro' };
    const checked = await call(readOnly, 'POST', '/api/tasks/validate', { task });
    assert.equal(checked.status, 200);
    assert.equal(checked.body.valid, true, JSON.stringify(checked.body.problems));
    const saved = await call(readOnly, 'POST', '/api/tasks', { task, file: 'authored/ro.yaml' });
    assert.equal(saved.status, 403);
    assert.equal(existsSync(join(dir, 'tasks')), false, 'no tasks folder is made beside the store');
  });

  it('refuses labels, queues and reservations with 403 naming the read-only store and why, and stores nothing', async () => {
    const [first, second] = rolloutIds;
    const callId = writer.modelCalls(first!)[0]!.id;
    const taskId = writer.getRollout(first!)!.taskId;
    const sibling = rolloutIds.find((id) => id !== first && writer.getRollout(id)!.taskId === taskId)!;
    const writes: [string, unknown][] = [
      ['/api/labels/verdict', { rolloutId: second, verdict: 'reject', reviewer: 'bob' }],
      ['/api/labels/step', { rolloutId: first, callId, rating: -1, reviewer: 'bob' }],
      ['/api/labels/preference', { taskId, leftRolloutId: first, rightRolloutId: sibling, shownOrder: ['left', 'right'], choice: 'A', reviewer: 'bob' }],
      ['/api/queues', { runId, sample: 1, strategy: 'random', reviewersPerItem: 1 }],
      [`/api/queues/${queueId}/next`, { reviewer: 'bob' }],
      [`/api/queues/${queueId}/items/${encodeURIComponent(itemId)}/release`, { reviewer: 'bob' }],
    ];
    const labelsBefore = writer.reviewLabels({ runId }).length;
    for (const [path, body] of writes) {
      const refused = await call(readOnly, 'POST', path, body);
      assert.equal(refused.status, 403, path);
      assert.equal(refused.body.error?.field, null);
      assert.match(refused.body.error?.message ?? '', new RegExp(`^the store is served read-only \\(${REASON}\\): POST ${path.replace(/[.?]/g, '\\$&')} would write to it, so nothing was saved`), path);
      assert.match(refused.body.error?.expected ?? '', /without --read-only/);
    }
    // Even a body the route would reject is answered as read-only: nothing about it is looked at.
    assert.equal((await call(readOnly, 'POST', '/api/labels/verdict', { verdict: 'maybe' })).status, 403);
    assert.equal(writer.reviewLabels({ runId }).length, labelsBefore, 'no label was stored');
    assert.equal(writer.reviewQueues().length, 1, 'no queue was made');
    assert.ok(writer.reviewItems(queueId, Date.now()).every((item) => item.heldBy === null), 'no item was reserved');
  });

  it('refuses every route but GET that could write, including routes added later', async () => {
    const app = createApiApp({ store: reader, token: undefined, webRoot: join(dir, 'no-web'), reportsDir: join(dir, 'reports'), tasksDir: join(dir, 'tasks'), sandbox: 'virtual', now: () => new Date(), readOnly: { reason: REASON } });
    app.post('/api/added-later', (c) => c.json({ wrote: true }, 201));
    const routes = app.routes.filter((r) => !['GET', 'ALL'].includes(r.method) && r.path !== '/api/tasks/validate');
    assert.ok(routes.length >= 8, routes.map((r) => r.path).join(', '));
    for (const route of routes) {
      const url = `http://127.0.0.1:8080${route.path.replace(/:(\w+)/g, 'x')}`;
      const response = await app.fetch(new Request(url, { method: route.method, headers: { 'content-type': 'application/json' }, body: '{}' }));
      assert.equal(response.status, 403, `${route.method} ${route.path}`);
      assert.match(((await response.json()) as Reply['body']).error?.message ?? '', /^the store is served read-only/);
    }
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      assert.equal((await app.fetch(new Request('http://127.0.0.1:8080/api/labels/verdict', { method }))).status, 403, method);
    }
  });
});
