import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Hono } from 'hono';
import { alphaWithInterval } from '../../review/agreement.ts';
import { ReviewStatsService, type AlphaCompute } from '../../review/stats-service.ts';
import { labelledStore } from '../../review/stats-support.ts';
import { reviewStats } from '../../review/stats.ts';
import { createApiApp } from './app.ts';
import { errorResponse } from './http.ts';
import { reviewRoutes } from './review.ts';

/** Waits for a condition reached by other work, a turn of the event loop at a time (no clock involved). */
async function turnsUntil(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 10_000; turn++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`${what}: not reached in 10,000 turns of the event loop`);
}

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-review-stats-'));
const context = (fixture: ReturnType<typeof labelledStore>) => ({ store: fixture.store, reportsDir: join(dir, 'reports'), tasksDir: join(dir, 'tasks'), sandbox: 'virtual' as const, now: () => new Date() });
/** The JSON the route sends for the statistics computed here. */
const asSent = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('GET /api/review-stats under load', () => {
  const services: ReviewStatsService[] = [];
  after(() => Promise.all(services.map((s) => s.close())));

  it('answers other requests while a heavy one computes, queues one more and refuses the next with 503 and Retry-After', async () => {
    const fixture = labelledStore();
    const { runId, rollouts } = fixture;
    const held: (() => void)[] = [];
    let computing = 0;
    const compute: AlphaCompute = async (jobs) => {
      computing++;
      await new Promise<void>((resolve) => held.push(resolve));
      return jobs.map((job) => alphaWithInterval(job.units, job.options));
    };
    const statistics = new ReviewStatsService({ compute, threads: 1, maxWaiting: 1, inlineDraws: 1_000 });
    services.push(statistics);
    const app = new Hono();
    app.onError((error, c) => errorResponse(c, error));
    reviewRoutes(app, context(fixture), { stats: statistics });
    // Hono answers a handler that never awaits without a promise.
    const request = async (path: string) => app.fetch(new Request(`http://127.0.0.1:8080${path}`));

    let heavyAnswered = false;
    const heavy = request(`/api/review-stats?runId=${runId}&resamples=2000`).finally(() => (heavyAnswered = true));
    await turnsUntil(() => computing === 1 || heavyAnswered, 'the heavy request computing');
    assert.equal(heavyAnswered, false, 'the heavy request was computed before anything else could run');

    const labels = await request(`/api/rollouts/${rollouts[0]!.id}/labels`);
    assert.equal(labels.status, 200);
    assert.equal(((await labels.json()) as { items: unknown[] }).items.length, 6);
    const light = await request(`/api/review-stats?runId=${runId}&resamples=10`);
    assert.equal(light.status, 200, 'a light statistics request needs no thread');
    assert.equal(heavyAnswered, false, 'both answered while the heavy one was still computing');

    const waiting = request(`/api/review-stats?runId=${runId}&resamples=2001`);
    await turnsUntil(() => statistics.waiting === 1, 'a second heavy request waiting');
    const refused = await request(`/api/review-stats?runId=${runId}&resamples=2002`);
    assert.equal(refused.status, 503);
    assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    const body = (await refused.json()) as { error: { message: string; field: string | null } };
    assert.match(body.error.message, /as many heavy requests as allowed are under way \(1 computing, 1 waiting\); ask again later, or with fewer resamples/);

    held.splice(0).forEach((go) => go());
    const first = await heavy;
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), asSent(reviewStats({ store: fixture.store, runId, resamples: 2000 })));
    await turnsUntil(() => held.length === 1, 'the waiting request computing');
    held.splice(0).forEach((go) => go());
    assert.deepEqual(await (await waiting).json(), asSent(reviewStats({ store: fixture.store, runId, resamples: 2001 })));
    assert.equal(computing, 2);
  });

  it('sends, from the app as served, the same statistics as the command line computes, the bootstrap run in a worker thread', async () => {
    const fixture = labelledStore();
    const app = createApiApp({ ...context(fixture), token: undefined, webRoot: join(dir, 'web') });
    const request = (path: string) => app.fetch(new Request(`http://127.0.0.1:8080${path}`));
    // 8 + 8 + 4 pairable units × 30,000 resamples: past what runs inline (500,000 draws).
    const [heavy, runs] = await Promise.all([request(`/api/review-stats?runId=${fixture.runId}&resamples=30000`), request('/api/runs')]);
    assert.equal(runs.status, 200);
    assert.equal(heavy.status, 200);
    assert.deepEqual(await heavy.json(), asSent(reviewStats({ store: fixture.store, runId: fixture.runId, resamples: 30000 })));
  });
});
