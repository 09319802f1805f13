import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { ReviewLabelRow, Store } from '../core/index.ts';
import { writeLargeRun } from '../review/fixtures.ts';
import { createQueue } from '../review/queue-store.ts';
import { openStore } from './index.ts';

const NOW = Date.parse('2025-05-01T09:00:00Z');

/** A one-reviewer queue over a small run; returns its id and first item. */
function oneReviewerQueue(store: Store): { queueId: string; itemId: string; rolloutId: string } {
  const runId = writeLargeRun(store, { runId: 'run_rt', tasks: 2, epochs: 1 });
  const queue = createQueue({ store }, { runId, sample: 2, strategy: 'random', reviewersPerItem: 1, reservationMinutes: 30, seed: 1 });
  const first = store.reviewItems(queue.id, NOW)[0]!.item;
  return { queueId: queue.id, itemId: first.id, rolloutId: first.rolloutId };
}

/** A verdict finishing `reviewer`'s turn on the item, as the review module stores one. */
function finishing(reviewer: string, item: { itemId: string; rolloutId: string }): ReviewLabelRow {
  return { id: `lb_${reviewer}`, kind: 'verdict', runId: 'run_rt', rolloutId: item.rolloutId, otherRolloutId: null, reviewer, queueItemId: item.itemId, completesItem: true, createdAt: new Date(NOW).toISOString(), record: {} };
}

describe('review tables: reservations', () => {
  it('ends every reservation on an item once a label gives it all the reviewers it needs', () => {
    const store = openStore(':memory:');
    const item = oneReviewerQueue(store);
    assert.equal(store.reserveReviewItem({ queueId: item.queueId, reviewer: 'r1', nowMs: NOW })?.item.id, item.itemId);
    // r2's label raced r1's reservation (checked before r1 took the item, stored after).
    store.appendReviewLabel(finishing('r2', item));
    const state = store.reviewItems(item.queueId, NOW).find((s) => s.item.id === item.itemId)!;
    assert.deepEqual(state.doneBy, ['r2']);
    assert.equal(state.heldBy, null, 'a finished item is nobody\'s to hold');
    store.close();
  });

  it('releases a held item that no longer needs its holder when the holder asks for the next one', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-review-tables-')), 'g.db');
    const store = openStore(path);
    const item = oneReviewerQueue(store);
    store.appendReviewLabel(finishing('r2', item));
    // A reservation left on the finished item (as a store written before it was ended on completion holds).
    const db = new Database(path);
    db.prepare(`INSERT INTO review_reservations (item_id, queue_id, reviewer, expires_at) VALUES (?,?,?,?)`).run(item.itemId, item.queueId, 'r1', NOW + 60_000);
    db.close();
    const next = store.reserveReviewItem({ queueId: item.queueId, reviewer: 'r1', nowMs: NOW });
    assert.notEqual(next?.item.id, item.itemId, 'not the finished item again');
    assert.equal(next?.heldBy?.reviewer, 'r1', 'the next item that needs a reviewer instead');
    assert.equal(store.reviewItems(item.queueId, NOW).find((s) => s.item.id === item.itemId)!.heldBy, null);
    store.close();
  });
});
