// Review queues over the store: creation (a strategy's sample, frozen with its seed and rubric),
// progress, and the reservation that keeps two reviewers off the same item at once.
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { InputError, SCHEMA_VERSION, type Store } from '../core/index.ts';
import { itemRow, queueRow, Reviewer, Rubric, rubricHash, Strategy, type ReviewItem, type ReviewQueue } from './model.ts';
import { itemView, type ItemView } from './queue-read.ts';
import { sampleRollouts } from './sampling.ts';

export const DEFAULT_RESERVATION_MINUTES = 30;
/**
 * A reservation must outlast the request that takes it: one that rounds to 0 ms is stored but can
 * never be read back (every listing of queues would fail on it), and one of a few milliseconds has
 * lapsed before the next reviewer asks, who is then handed the same item.
 */
export const MIN_RESERVATION_MINUTES = 1 / 60;

export const QueueInput = z.strictObject({
  runId: z.string().min(1),
  sample: z.number().int().min(1).max(10_000),
  strategy: Strategy,
  reviewersPerItem: z.number().int().min(1).max(20),
  rubric: Rubric.optional(),
  /** How long an item stays with the reviewer who took it. */
  reservationMinutes: z
    .number()
    .min(MIN_RESERVATION_MINUTES, 'at least one second (1/60 of a minute)')
    .max(7 * 24 * 60)
    .default(DEFAULT_RESERVATION_MINUTES),
  /** Seeds the draw; a random one is chosen (and stored) when absent. */
  seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
});
export type QueueInput = z.input<typeof QueueInput>;
export type QueueSettings = z.infer<typeof QueueInput>;

export interface QueueContext {
  store: Store;
  now?: () => Date;
}

const nowOf = (ctx: QueueContext) => ctx.now?.() ?? new Date();

/** Item ids carry their queue's id, so a label naming an item finds its queue (and rubric) directly. */
export function itemIdFor(queueId: string, position: number): string {
  return `${queueId}:${position}`;
}

function newQueueId(now: Date): string {
  return `rq_${now.toISOString().replace(/[-:TZ.]/g, '').slice(0, 14)}_${randomInt(0, 0xffffff).toString(16).padStart(6, '0')}`;
}

export function createQueue(ctx: QueueContext, settings: QueueSettings): ReviewQueue {
  const run = ctx.store.getRun(settings.runId);
  if (!run) throw new InputError('runId', `no run "${settings.runId}" in the store`, 'the id of a stored run');
  const seed = settings.seed ?? randomInt(0, 2 ** 32 - 1);
  const sample = sampleRollouts({ store: ctx.store, run, strategy: settings.strategy, sample: settings.sample, seed });
  if (sample.picks.length === 0) throw new InputError('strategy', `${settings.strategy} found no rollouts to review in run ${run.id} (${sample.note})`, 'another strategy, or a run with scored rollouts');
  const now = nowOf(ctx);
  const queue: ReviewQueue = {
    schemaVersion: SCHEMA_VERSION,
    id: newQueueId(now),
    runId: run.id,
    createdAt: now.toISOString(),
    strategy: settings.strategy,
    sample: settings.sample,
    size: sample.picks.length,
    reviewersPerItem: settings.reviewersPerItem,
    reservationMs: Math.round(settings.reservationMinutes * 60_000),
    seed,
    rubric: settings.rubric ?? null,
    rubricHash: settings.rubric ? rubricHash(settings.rubric) : null,
    note: sample.note,
  };
  const items: ReviewItem[] = sample.picks.map((pick, position) => ({
    schemaVersion: SCHEMA_VERSION,
    id: itemIdFor(queue.id, position),
    queueId: queue.id,
    position,
    rolloutId: pick.rollout.id,
    taskId: pick.rollout.taskId,
    reason: pick.reason,
  }));
  ctx.store.createReviewQueue(queueRow(queue), items.map(itemRow));
  return queue;
}

export interface QueueProgress {
  items: number;
  /** Items with all the reviewers they need. */
  done: number;
  /** Items someone holds now. */
  held: number;
  /** Verdicts still needed across the queue. */
  labelsNeeded: number;
}

export function progressOf(queue: ReviewQueue, items: readonly ItemView[]): QueueProgress {
  const need = (i: ItemView) => Math.max(0, queue.reviewersPerItem - i.doneBy.length);
  return {
    items: items.length,
    done: items.filter((i) => need(i) === 0).length,
    // A finished item still reserved (its holder has not asked for the next one yet) is held for nothing.
    held: items.filter((i) => i.heldBy !== null && need(i) > 0).length,
    labelsNeeded: items.reduce((sum, i) => sum + need(i), 0),
  };
}

export function queueItems(ctx: QueueContext, queueId: string): ItemView[] {
  return ctx.store.reviewItems(queueId, nowOf(ctx).getTime()).map((s) => itemView(s, ctx.store.path));
}

export const NextInput = z.strictObject({ reviewer: Reviewer });
export const ReleaseInput = z.strictObject({ reviewer: Reviewer.optional() });

/** Reserves the reviewer's next item (or renews the one they hold); null when nothing is left for them. */
export function nextItem(ctx: QueueContext, request: { queueId: string; reviewer: string }): ItemView | null {
  const state = ctx.store.reserveReviewItem({ queueId: request.queueId, reviewer: request.reviewer, nowMs: nowOf(ctx).getTime() });
  return state ? itemView(state, ctx.store.path) : null;
}

export function releaseItem(ctx: QueueContext, request: { queueId: string; itemId: string; reviewer?: string }): boolean {
  return ctx.store.releaseReviewItem(request);
}
