// Labels, review queues, agreement statistics and label exports.
import type { Hono } from 'hono';
import { z } from 'zod';
import {
  createQueue,
  ExportFormat,
  exportLabels,
  NextInput,
  nextItem,
  PreferenceInput,
  progressOf,
  QueueInput,
  queueItems,
  readLabels,
  readQueue,
  readQueues,
  recordPreference,
  recordStepLabel,
  recordVerdict,
  ReleaseInput,
  releaseItem,
  ReviewStatsBusy,
  ReviewStatsService,
  StepInput,
  toJsonl,
  VerdictInput,
  withHistory,
  ZeroSteps,
  type ReviewQueue,
  type ReviewStatsServiceOptions,
} from '../../review/index.ts';
import type { ApiContext } from './context.ts';
import { idParam, jsonBody, notFound, PageQuery, paginate, QueryId, queryInteger, queryOf, type ErrorBody } from './http.ts';

const StatsQuery = z.strictObject({ runId: QueryId.optional(), queueId: QueryId.optional(), resamples: queryInteger(0, 100_000).optional() });
const ExportQuery = z
  .strictObject({ format: ExportFormat, zeroSteps: ZeroSteps.optional(), runId: QueryId.optional(), queueId: QueryId.optional() })
  .refine((q) => q.format !== 'prm' || q.zeroSteps !== undefined, { path: ['zeroSteps'], message: 'required with format=prm: how a 0-rated step is labelled (drop, negative or neutral)' });
const ListQuery = z.strictObject({ ...PageQuery });

type ExportRows = Parameters<typeof toJsonl>[0];

/**
 * The rows as JSON lines, serialised a batch at a time as the client reads: every row repeats its
 * transcript, so a whole export as one string could pass V8's string limit (about 512 MiB) and
 * fail, after holding a second copy of everything.
 */
function jsonlStream(rows: ExportRows): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      // About a megabyte per read, each row serialised on its own.
      for (let bytes = 0; bytes < 1024 * 1024 && next < rows.length; next++) {
        const chunk = encoder.encode(toJsonl(rows.slice(next, next + 1)));
        controller.enqueue(chunk);
        bytes += chunk.byteLength;
      }
      if (next >= rows.length) controller.close();
    },
  });
}

export interface ReviewRouteOptions {
  /** How review statistics are computed and bounded (threads, waiting requests, cache). */
  stats?: ReviewStatsService | ReviewStatsServiceOptions;
}

export function reviewRoutes(app: Hono, ctx: ApiContext, options: ReviewRouteOptions = {}): void {
  const { store } = ctx;
  const statistics = options.stats instanceof ReviewStatsService ? options.stats : new ReviewStatsService(options.stats);
  const labelCtx = { store, now: ctx.now };

  app.post('/api/labels/verdict', async (c) => c.json({ label: recordVerdict(labelCtx, await jsonBody(c, VerdictInput)) }, 201));
  app.post('/api/labels/step', async (c) => c.json({ label: recordStepLabel(labelCtx, await jsonBody(c, StepInput)) }, 201));
  app.post('/api/labels/preference', async (c) => c.json({ label: recordPreference(labelCtx, await jsonBody(c, PreferenceInput)) }, 201));

  app.get('/api/rollouts/:rolloutId/labels', (c) => {
    const id = idParam(c, 'rolloutId');
    if (!store.getRollout(id)) throw notFound(`rollout "${id}"`, 'rolloutId');
    const q = queryOf(c, ListQuery);
    return c.json(paginate(withHistory(readLabels(store, { rolloutId: id })), q, (l) => l.id));
  });

  const queueOr404 = (id: string): ReviewQueue => {
    const queue = readQueue(store, id);
    if (!queue) throw notFound(`review queue "${id}"`, 'queueId');
    return queue;
  };
  const withProgress = (queue: ReviewQueue) => ({ ...queue, progress: progressOf(queue, queueItems(labelCtx, queue.id)) });

  app.post('/api/queues', async (c) => {
    const settings = await jsonBody(c, QueueInput);
    const queue = createQueue(labelCtx, settings);
    return c.json({ queue: withProgress(queue) }, 201);
  });

  app.get('/api/queues', (c) => {
    const q = queryOf(c, ListQuery);
    const page = paginate(readQueues(store), q, (queue) => queue.id);
    return c.json({ ...page, items: page.items.map(withProgress) });
  });

  app.get('/api/queues/:queueId', (c) => {
    const queue = queueOr404(idParam(c, 'queueId'));
    const items = queueItems(labelCtx, queue.id);
    return c.json({ queue: { ...queue, progress: progressOf(queue, items) }, items });
  });

  app.post('/api/queues/:queueId/next', async (c) => {
    const queue = queueOr404(idParam(c, 'queueId'));
    const { reviewer } = await jsonBody(c, NextInput);
    const item = nextItem(labelCtx, { queueId: queue.id, reviewer });
    return c.json({ item, progress: progressOf(queue, queueItems(labelCtx, queue.id)) });
  });

  app.post('/api/queues/:queueId/items/:itemId/release', async (c) => {
    const queue = queueOr404(idParam(c, 'queueId'));
    const itemId = idParam(c, 'itemId');
    if (!queueItems(labelCtx, queue.id).some((i) => i.id === itemId)) throw notFound(`item "${itemId}" of queue ${queue.id}`, 'itemId');
    const { reviewer } = await jsonBody(c, ReleaseInput, { optional: true });
    return c.json({ released: releaseItem(labelCtx, { queueId: queue.id, itemId, ...(reviewer !== undefined ? { reviewer } : {}) }) });
  });

  // The bootstraps run in a worker thread, so a large `resamples` holds no other request up; past
  // the bound on heavy ones running and waiting, 503 with when to ask again.
  app.get('/api/review-stats', async (c) => {
    const q = queryOf(c, StatsQuery);
    if (q.runId !== undefined && !store.getRun(q.runId)) throw notFound(`run "${q.runId}"`, 'runId');
    try {
      return c.json(await statistics.stats({ store, ...q }));
    } catch (error) {
      if (!(error instanceof ReviewStatsBusy)) throw error;
      return c.json<ErrorBody>({ error: { message: error.message, field: null } }, 503, { 'Retry-After': String(error.retryAfterSeconds) });
    }
  });

  app.get('/api/exports/labels', (c) => {
    const q = queryOf(c, ExportQuery);
    if (q.runId !== undefined && !store.getRun(q.runId)) throw notFound(`run "${q.runId}"`, 'runId');
    const result = exportLabels({ store, ...q });
    const skipped = Object.entries(result.skipped).map(([reason, n]) => `${n} ${reason}`).join('; ');
    return c.body(result.rows.length === 0 ? '' : jsonlStream(result.rows), 200, {
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="labels-${q.format}.jsonl"`,
      'X-Gauntlet-Rows': String(result.rows.length),
      // Why labels gave no row (a tie has no DPO form), so a short file is explained.
      'X-Gauntlet-Skipped': encodeURIComponent(skipped || 'none'),
    });
  });
}
