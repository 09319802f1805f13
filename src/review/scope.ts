// Which labels a statistic or an export covers: a queue's rollouts', a run's, or the whole store's.
import { InputError, type Store } from '../core/index.ts';
import { readLabels } from './labels.ts';
import type { ReviewLabel } from './model.ts';
import { readQueue } from './queue-read.ts';

export interface LabelScope {
  store: Store;
  runId?: string;
  queueId?: string;
}

/** Labels in scope: a queue's rollouts' labels, a run's, or every one. */
export function scopedLabelsFor(options: LabelScope): ReviewLabel[] {
  const { store } = options;
  if (options.queueId === undefined) return readLabels(store, options.runId === undefined ? {} : { runId: options.runId });
  const queue = readQueue(store, options.queueId);
  if (!queue) throw new InputError('queueId', `no review queue "${options.queueId}"`, 'the id of a queue from GET /api/queues');
  if (options.runId !== undefined && options.runId !== queue.runId) throw new InputError('queueId', `is a queue of run ${queue.runId}, not ${options.runId}`, 'a queue of the run given');
  const inQueue = new Set(store.reviewItems(queue.id, 0).map((s) => s.item.rolloutId));
  return readLabels(store, { runId: queue.runId }).filter((l) => (l.kind === 'preference' ? inQueue.has(l.leftRolloutId) || inQueue.has(l.rightRolloutId) : inQueue.has(l.rolloutId)));
}

