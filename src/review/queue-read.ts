// Reading queues and items back from the store, checked; shared by labelling and the queue API.
import type { ReviewItemState, Store } from '../core/index.ts';
import { itemFromRow, queueFromRow, type ReviewItem, type ReviewQueue } from './model.ts';

export function readQueue(store: Store, id: string): ReviewQueue | null {
  const row = store.reviewQueues({ id })[0];
  return row ? queueFromRow(row, store.path) : null;
}

export function readQueues(store: Store): ReviewQueue[] {
  return store.reviewQueues().map((row) => queueFromRow(row, store.path));
}

/** An item with who finished it and who holds it (until when). */
export type ItemView = ReviewItem & { doneBy: string[]; heldBy: { reviewer: string; until: string } | null };

export function itemView(state: ReviewItemState, storePath: string): ItemView {
  const item = itemFromRow(state.item, storePath);
  return { ...item, doneBy: state.doneBy, heldBy: state.heldBy ? { reviewer: state.heldBy.reviewer, until: new Date(state.heldBy.expiresAt).toISOString() } : null };
}

/** The queue item an id names, with its queue and who holds it at `nowMs`; null when either is gone. */
export function findQueueItem(store: Store, itemId: string, nowMs: number): { queue: ReviewQueue; item: ReviewItem; heldBy: ReviewItemState['heldBy'] } | null {
  const cut = itemId.lastIndexOf(':');
  if (cut <= 0) return null;
  const queue = readQueue(store, itemId.slice(0, cut));
  if (!queue) return null;
  const state = store.reviewItems(queue.id, nowMs).find((s) => s.item.id === itemId);
  return state ? { queue, item: itemFromRow(state.item, store.path), heldBy: state.heldBy } : null;
}
