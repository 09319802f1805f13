// The SQLite side of expert review and of the light rollout reads the viewer lists with. Records
// are the review module's (it checks them on read); this file keeps the columns, the order and
// the one rule that needs a transaction: an item is held by at most one reviewer at a time.
import type Database from 'better-sqlite3';
import {
  StoreError,
  type JsonObject,
  type ReviewItemRow,
  type ReviewItemState,
  type ReviewLabelRow,
  type ReviewQueueRow,
  type RolloutId,
  type RolloutQuery,
  type RolloutStatus,
  type RolloutSummary,
  type RunId,
  type TerminationReason,
} from '../core/index.ts';

export interface ReviewTablesContext {
  db: Database.Database;
  /** Runs a write, turning a failure into the store's error. */
  write: (doing: string, work: () => void) => void;
  /** Serialises a record for storage (secrets scrubbed). */
  json: (value: unknown) => string;
  /** Where the store lives, for messages. */
  path: string;
}

interface LabelSqlRow {
  id: string;
  kind: string;
  run_id: string;
  rollout_id: string;
  other_rollout_id: string | null;
  reviewer: string;
  queue_item_id: string | null;
  completes_item: number;
  created_at: string;
  json: string;
}

interface ItemSqlRow {
  id: string;
  queue_id: string;
  position: number;
  rollout_id: string;
  json: string;
  holder: string | null;
  expires_at: number | null;
}

// One json_extract with many paths parses each row's JSON once (one call per path would parse it per path).
const SUMMARY_COLUMNS = `id, run_id, task_id, epoch, status, termination_reason, score, passed,
  json_extract(json, '$.groupId', '$.attempt', '$.stats.turns', '$.stats.modelCalls', '$.stats.toolCalls', '$.stats.completionTokens', '$.durationMs', '$.perturbations') AS extra`;

interface SummarySqlRow {
  id: string;
  run_id: string;
  task_id: string;
  epoch: number;
  status: string;
  termination_reason: string;
  score: number | null;
  passed: number | null;
  extra: string;
}

/** SQL: the reservation's item (`review_reservations.item_id`) has as many finishing reviewers as its queue needs. */
const DONE_ITEM = `(SELECT COUNT(DISTINCT l.reviewer) FROM review_labels l WHERE l.queue_item_id = review_reservations.item_id AND l.completes_item = 1)
  >= (SELECT q.reviewers_per_item FROM review_queues q WHERE q.id = review_reservations.queue_id)`;

type Extra = [string | null, number, number, number, number, number, number, { name?: string }[] | null];

export class ReviewTables {
  private readonly ctx: ReviewTablesContext;
  private readonly db: Database.Database;

  constructor(ctx: ReviewTablesContext) {
    this.ctx = ctx;
    this.db = ctx.db;
  }

  private parse(json: string, where: string): JsonObject {
    try {
      return JSON.parse(json) as JsonObject;
    } catch (error) {
      throw new StoreError(this.ctx.path, 'corrupt', `${where} is not valid JSON (${(error as Error).message})`, { cause: error });
    }
  }

  /**
   * Runs a read whose SQL parses stored JSON. SQLite says only "malformed JSON" of a damaged row
   * (and fails the whole list); this names the row instead: the first rollout or event of the run
   * whose JSON does not parse.
   */
  private parsingJson<T>(runId: string, read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof Error && /malformed JSON/i.test(error.message))) throw error;
      const rollout = this.db.prepare(`SELECT id FROM rollouts WHERE run_id = ? AND NOT json_valid(json) LIMIT 1`).get(runId) as { id: string } | undefined;
      const event = rollout ? undefined : (this.db.prepare(`SELECT rollout_id, attempt, seq FROM events WHERE run_id = ? AND NOT json_valid(data) LIMIT 1`).get(runId) as { rollout_id: string; attempt: number; seq: number } | undefined);
      const what = rollout ? `rollout ${rollout.id}: the stored record` : event ? `event ${event.rollout_id}#${event.attempt}.${event.seq}: the stored data` : `a stored record of run ${runId}`;
      throw new StoreError(this.ctx.path, 'corrupt', `${what} is not valid JSON (expected a row written by Gauntlet)`, { cause: error });
    }
  }

  // ── light rollout reads ────────────────────────────────────────────────────────────────

  rolloutSummaries(runId: string, query: RolloutQuery): RolloutSummary[] {
    const where = ['run_id = ?'];
    const params: (string | number)[] = [runId];
    if (query.taskId !== undefined) {
      where.push('task_id = ?');
      params.push(query.taskId);
    }
    if (query.status !== undefined) {
      where.push('status = ?');
      params.push(query.status);
    }
    if (query.passed !== undefined) {
      where.push('passed = ?');
      params.push(query.passed ? 1 : 0);
    }
    if (query.after !== undefined) {
      where.push('(task_id > ? OR (task_id = ? AND epoch > ?))');
      params.push(query.after.taskId, query.after.taskId, query.after.epoch);
    }
    // (run_id, task_id, epoch) is the table's unique index: the order needs no sort, and a limit stops the scan.
    const limit = query.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(query.limit))}` : '';
    const rows = this.parsingJson(runId, () => this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM rollouts WHERE ${where.join(' AND ')} ORDER BY task_id, epoch${limit}`).all(...params) as SummarySqlRow[]);
    return rows.map((r) => {
      const [groupId, attempt, turns, modelCalls, toolCalls, completionTokens, durationMs, perturbations] = JSON.parse(r.extra) as Extra;
      return {
        id: r.id as RolloutId,
        runId: r.run_id as RunId,
        taskId: r.task_id,
        epoch: r.epoch,
        groupId,
        attempt,
        status: r.status as RolloutStatus,
        terminationReason: r.termination_reason as TerminationReason,
        score: r.score,
        passed: r.passed === null ? null : r.passed === 1,
        turns,
        modelCalls,
        toolCalls,
        completionTokens,
        durationMs,
        perturbations: (perturbations ?? []).map((p) => p.name ?? '(unnamed)'),
      };
    });
  }

  toolCallCounts(runId: string): Record<string, number> {
    const rows = this.parsingJson(
      runId,
      () =>
        this.db
          .prepare(
            `SELECT json_extract(e.data, '$.name') AS name, COUNT(*) AS n FROM rollouts r
             JOIN events e ON e.rollout_id = r.id AND e.attempt = json_extract(r.json, '$.attempt') AND e.type = 'tool_call'
             WHERE r.run_id = ? GROUP BY name ORDER BY name`,
          )
          .all(runId) as { name: string | null; n: number }[],
    );
    return Object.fromEntries(rows.map((r) => [r.name ?? '(unnamed)', r.n]));
  }

  // ── labels ─────────────────────────────────────────────────────────────────────────────

  appendLabel(row: ReviewLabelRow): void {
    this.ctx.write('storing a review label', () =>
      this.db.transaction(() => {
        this.db
          .prepare(
            `INSERT INTO review_labels (id, kind, run_id, rollout_id, other_rollout_id, reviewer, queue_item_id, completes_item, created_at, json) VALUES (?,?,?,?,?,?,?,?,?,?)`,
          )
          .run(row.id, row.kind, row.runId, row.rolloutId, row.otherRolloutId, row.reviewer, row.queueItemId, row.completesItem ? 1 : 0, row.createdAt, this.ctx.json(row.record));
        if (row.completesItem && row.queueItemId !== null) {
          this.db.prepare(`DELETE FROM review_reservations WHERE item_id = ? AND reviewer = ?`).run(row.queueItemId, row.reviewer);
          // An item with all the reviewers it needs is nobody's to hold any more (a reservation may have raced the label).
          this.db.prepare(`DELETE FROM review_reservations WHERE item_id = ? AND ${DONE_ITEM}`).run(row.queueItemId);
        }
      })(),
    );
  }

  labels(filter: { rolloutId?: string; runId?: string }): ReviewLabelRow[] {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.rolloutId !== undefined) {
      where.push('(rollout_id = ? OR other_rollout_id = ?)');
      params.push(filter.rolloutId, filter.rolloutId);
    }
    if (filter.runId !== undefined) {
      where.push('run_id = ?');
      params.push(filter.runId);
    }
    const sql = `SELECT * FROM review_labels ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
    return (this.db.prepare(sql).all(...params) as LabelSqlRow[]).map((r) => ({
      id: r.id,
      kind: r.kind,
      runId: r.run_id,
      rolloutId: r.rollout_id,
      otherRolloutId: r.other_rollout_id,
      reviewer: r.reviewer,
      queueItemId: r.queue_item_id,
      completesItem: r.completes_item === 1,
      createdAt: r.created_at,
      record: this.parse(r.json, `review label ${r.id}`),
    }));
  }

  // ── queues ─────────────────────────────────────────────────────────────────────────────

  createQueue(queue: ReviewQueueRow, items: readonly ReviewItemRow[]): void {
    this.ctx.write(`storing review queue ${queue.id}`, () =>
      this.db.transaction(() => {
        this.db
          .prepare(`INSERT INTO review_queues (id, run_id, created_at, reviewers_per_item, reservation_ms, json) VALUES (?,?,?,?,?,?)`)
          .run(queue.id, queue.runId, queue.createdAt, queue.reviewersPerItem, queue.reservationMs, this.ctx.json(queue.record));
        const insert = this.db.prepare(`INSERT INTO review_items (id, queue_id, position, rollout_id, json) VALUES (?,?,?,?,?)`);
        for (const item of items) insert.run(item.id, item.queueId, item.position, item.rolloutId, this.ctx.json(item.record));
      })(),
    );
  }

  queues(id: string | undefined): ReviewQueueRow[] {
    const rows = (
      id === undefined
        ? this.db.prepare(`SELECT * FROM review_queues ORDER BY created_at DESC, id DESC`).all()
        : this.db.prepare(`SELECT * FROM review_queues WHERE id = ?`).all(id)
    ) as { id: string; run_id: string; created_at: string; reviewers_per_item: number; reservation_ms: number; json: string }[];
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      createdAt: r.created_at,
      reviewersPerItem: r.reviewers_per_item,
      reservationMs: r.reservation_ms,
      record: this.parse(r.json, `review queue ${r.id}`),
    }));
  }

  private itemStates(rows: ItemSqlRow[]): ReviewItemState[] {
    if (rows.length === 0) return [];
    const done = new Map<string, string[]>();
    const doneRows = this.db
      .prepare(
        `SELECT queue_item_id AS item, reviewer, MIN(seq) AS first FROM review_labels
         WHERE completes_item = 1 AND queue_item_id IN (SELECT id FROM review_items WHERE queue_id = ?)
         GROUP BY queue_item_id, reviewer ORDER BY first`,
      )
      .all(rows[0]!.queue_id) as { item: string; reviewer: string }[];
    for (const r of doneRows) done.set(r.item, [...(done.get(r.item) ?? []), r.reviewer]);
    return rows.map((r) => ({
      item: { id: r.id, queueId: r.queue_id, position: r.position, rolloutId: r.rollout_id, record: this.parse(r.json, `review item ${r.id}`) },
      doneBy: done.get(r.id) ?? [],
      heldBy: r.holder !== null && r.expires_at !== null ? { reviewer: r.holder, expiresAt: r.expires_at } : null,
    }));
  }

  items(queueId: string, nowMs: number): ReviewItemState[] {
    const rows = this.db
      .prepare(
        `SELECT i.*, v.reviewer AS holder, v.expires_at AS expires_at FROM review_items i
         LEFT JOIN review_reservations v ON v.item_id = i.id AND v.expires_at > ?
         WHERE i.queue_id = ? ORDER BY i.position`,
      )
      .all(nowMs, queueId) as ItemSqlRow[];
    return this.itemStates(rows);
  }

  reserve(request: { queueId: string; reviewer: string; nowMs: number }): ReviewItemState | null {
    const { queueId, reviewer, nowMs } = request;
    const reserved: { id: string | null } = { id: null };
    this.ctx.write(`reserving an item of review queue ${queueId}`, () => {
      // IMMEDIATE takes the write lock before reading, so two processes cannot pick the same item.
      reserved.id = this.db
        .transaction(() => {
          const queue = this.db.prepare(`SELECT reviewers_per_item, reservation_ms FROM review_queues WHERE id = ?`).get(queueId) as
            | { reviewers_per_item: number; reservation_ms: number }
            | undefined;
          if (!queue) return null;
          const expiresAt = nowMs + queue.reservation_ms;
          this.db.prepare(`DELETE FROM review_reservations WHERE queue_id = ? AND expires_at <= ?`).run(queueId, nowMs);
          // A reservation also ends once its item no longer needs the holder: finished by enough reviewers, or by the holder.
          this.db
            .prepare(
              `DELETE FROM review_reservations WHERE queue_id = ? AND (${DONE_ITEM}
                 OR EXISTS (SELECT 1 FROM review_labels l WHERE l.queue_item_id = review_reservations.item_id AND l.reviewer = review_reservations.reviewer AND l.completes_item = 1))`,
            )
            .run(queueId);
          const held = this.db
            .prepare(
              `SELECT v.item_id AS id FROM review_reservations v JOIN review_items i ON i.id = v.item_id
               WHERE v.queue_id = ? AND v.reviewer = ? ORDER BY i.position LIMIT 1`,
            )
            .get(queueId, reviewer) as { id: string } | undefined;
          if (held) {
            this.db.prepare(`UPDATE review_reservations SET expires_at = ? WHERE item_id = ?`).run(expiresAt, held.id);
            return held.id;
          }
          const next = this.db
            .prepare(
              `SELECT i.id AS id FROM review_items i
               WHERE i.queue_id = ?
                 AND NOT EXISTS (SELECT 1 FROM review_reservations v WHERE v.item_id = i.id)
                 AND NOT EXISTS (SELECT 1 FROM review_labels l WHERE l.queue_item_id = i.id AND l.reviewer = ? AND l.completes_item = 1)
                 AND (SELECT COUNT(DISTINCT l.reviewer) FROM review_labels l WHERE l.queue_item_id = i.id AND l.completes_item = 1) < ?
               ORDER BY i.position LIMIT 1`,
            )
            .get(queueId, reviewer, queue.reviewers_per_item) as { id: string } | undefined;
          if (!next) return null;
          this.db.prepare(`INSERT INTO review_reservations (item_id, queue_id, reviewer, expires_at) VALUES (?,?,?,?)`).run(next.id, queueId, reviewer, expiresAt);
          return next.id;
        })
        .immediate();
    });
    if (reserved.id === null) return null;
    const rows = this.db
      .prepare(`SELECT i.*, v.reviewer AS holder, v.expires_at AS expires_at FROM review_items i LEFT JOIN review_reservations v ON v.item_id = i.id WHERE i.id = ?`)
      .all(reserved.id) as ItemSqlRow[];
    return this.itemStates(rows)[0] ?? null;
  }

  release(request: { queueId: string; itemId: string; reviewer?: string }): boolean {
    const outcome = { released: false };
    this.ctx.write(`releasing review item ${request.itemId}`, () => {
      const result =
        request.reviewer === undefined
          ? this.db.prepare(`DELETE FROM review_reservations WHERE queue_id = ? AND item_id = ?`).run(request.queueId, request.itemId)
          : this.db.prepare(`DELETE FROM review_reservations WHERE queue_id = ? AND item_id = ? AND reviewer = ?`).run(request.queueId, request.itemId, request.reviewer);
      outcome.released = result.changes > 0;
    });
    return outcome.released;
  }
}
