import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { RolloutRecorder } from '../agent/index.ts';
import {
  InputError,
  Label,
  ModelCall,
  Rollout,
  RolloutEvent,
  Run,
  SCHEMA_VERSION,
  type EventType,
  type JsonValue,
  type Message,
  type ToolSpec,
} from '../core/index.ts';
import { STORE_SCHEMA } from './schema.ts';

type Statement = Database.Statement<unknown[]>;

export interface StoreOptions {
  /** Flush buffered writes after this many records or this many ms, whichever first. */
  batchSize?: number;
  flushMs?: number;
  now?: () => Date;
}

/** Per (rollout, attempt): the previous call's messages, to store each request as a delta. */
interface DeltaState {
  lastCallId: string | null;
  messages: readonly Message[];
  /** The tool list last stored in full, and the call that holds it. */
  tools: readonly ToolSpec[] | null;
  toolsCallId: string | null;
  wireMessages: string[];
  seq: number;
}

function commonPrefixByReference<T>(a: readonly T[], b: readonly T[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function wireMessagesOf(request: JsonValue | undefined): JsonValue[] | null {
  if (request && typeof request === 'object' && !Array.isArray(request) && Array.isArray(request.messages)) return request.messages;
  return null;
}

/**
 * The default store: one SQLite file (WAL). Writes are buffered and flushed in small transactions
 * (every `batchSize` records or `flushMs`), so thousands of events per second cost little and a
 * crash loses at most the last few milliseconds; finished rollouts are flushed at once.
 */
export class SqliteStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly pending: { stmt: Statement; params: unknown[] }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly now: () => Date;
  private readonly deltas = new Map<string, DeltaState>();
  private readonly stmts: Record<'insertCall' | 'insertEvent' | 'upsertRollout' | 'insertRun' | 'updateRun' | 'insertLabel', Statement>;

  constructor(path: string, options: StoreOptions = {}) {
    this.path = path;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(STORE_SCHEMA);
    this.checkVersion();
    this.migrate();
    this.batchSize = options.batchSize ?? 200;
    this.flushMs = options.flushMs ?? 20;
    this.now = options.now ?? (() => new Date());
    this.stmts = {
      insertCall: this.db.prepare(
        `INSERT OR REPLACE INTO model_calls (id, run_id, rollout_id, attempt, idx, messages_base, messages_keep, messages_tail,
          wire_messages_base, wire_messages_keep, wire_messages_tail, tools_from, json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
      ),
      insertEvent: this.db.prepare(`INSERT OR REPLACE INTO events (run_id, rollout_id, attempt, seq, at, type, data) VALUES (?,?,?,?,?,?,?)`),
      upsertRollout: this.db.prepare(
        `INSERT OR REPLACE INTO rollouts (id, run_id, task_id, epoch, status, termination_reason, score, passed, json) VALUES (?,?,?,?,?,?,?,?,?)`,
      ),
      insertRun: this.db.prepare(`INSERT INTO runs (id, created_at, status, finished_at, json) VALUES (?,?,?,?,?)`),
      updateRun: this.db.prepare(`UPDATE runs SET status = ?, finished_at = ?, json = ? WHERE id = ?`),
      insertLabel: this.db.prepare(`INSERT OR REPLACE INTO labels (id, rollout_id, json) VALUES (?,?,?)`),
    };
  }

  private checkVersion(): void {
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'schemaVersion'`).get() as { value: string } | undefined;
    if (!row) {
      this.db.prepare(`INSERT INTO meta (key, value) VALUES ('schemaVersion', ?)`).run(String(SCHEMA_VERSION));
      return;
    }
    const version = Number(row.value);
    if (version > SCHEMA_VERSION) {
      throw new InputError(this.path, `store was written by a newer Gauntlet (schema ${version})`, `schema ${SCHEMA_VERSION} or older`);
    }
  }

  /** Columns added since a store file was created (same schema version: additive only). */
  private migrate(): void {
    const columns = new Set((this.db.prepare(`PRAGMA table_info(model_calls)`).all() as { name: string }[]).map((c) => c.name));
    if (!columns.has('tools_from')) this.db.exec(`ALTER TABLE model_calls ADD COLUMN tools_from TEXT`);
  }

  private enqueue(stmt: Statement, params: unknown[]): void {
    this.pending.push({ stmt, params });
    if (this.pending.length >= this.batchSize) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Writes everything buffered, in one transaction. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.pending.length);
    this.db.transaction(() => {
      for (const { stmt, params } of batch) stmt.run(...params);
    })();
  }

  // ── runs ───────────────────────────────────────────────────────────────────────────────

  createRun(run: Run): void {
    this.flush();
    this.stmts.insertRun.run(run.id, run.createdAt, run.status, run.finishedAt, JSON.stringify(run));
  }

  setRunStatus(id: string, status: Run['status']): void {
    this.flush();
    const run = this.getRun(id);
    if (!run) return;
    const finishedAt = status === 'running' ? null : this.now().toISOString();
    const updated: Run = { ...run, status, finishedAt };
    this.stmts.updateRun.run(status, finishedAt, JSON.stringify(updated), id);
  }

  getRun(id: string): Run | null {
    const row = this.db.prepare(`SELECT json FROM runs WHERE id = ?`).get(id) as { json: string } | undefined;
    return row ? Run.parse(JSON.parse(row.json)) : null;
  }

  listRuns(limit = 50): Run[] {
    const rows = this.db.prepare(`SELECT json FROM runs ORDER BY created_at DESC, id DESC LIMIT ?`).all(limit) as { json: string }[];
    return rows.map((r) => Run.parse(JSON.parse(r.json)));
  }

  // ── rollouts ───────────────────────────────────────────────────────────────────────────

  saveRollout(rollout: Rollout): void {
    this.stmts.upsertRollout.run(
      rollout.id,
      rollout.runId,
      rollout.taskId,
      rollout.epoch,
      rollout.status,
      rollout.terminationReason,
      rollout.score,
      rollout.passed === null ? null : rollout.passed ? 1 : 0,
      JSON.stringify(rollout),
    );
    for (const key of this.deltas.keys()) if (key.startsWith(`${rollout.id}#`)) this.deltas.delete(key);
    this.flush();
  }

  rollouts(runId: string): Rollout[] {
    this.flush();
    const rows = this.db.prepare(`SELECT json FROM rollouts WHERE run_id = ? ORDER BY task_id, epoch`).all(runId) as { json: string }[];
    return rows.map((r) => Rollout.parse(JSON.parse(r.json)));
  }

  getRollout(id: string): Rollout | null {
    this.flush();
    const row = this.db.prepare(`SELECT json FROM rollouts WHERE id = ?`).get(id) as { json: string } | undefined;
    return row ? Rollout.parse(JSON.parse(row.json)) : null;
  }

  finishedRolloutIds(runId: string): Set<string> {
    this.flush();
    const rows = this.db.prepare(`SELECT id FROM rollouts WHERE run_id = ?`).all(runId) as { id: string }[];
    return new Set(rows.map((r) => r.id));
  }

  /** The attempt number a new try of this rollout should use (after any interrupted ones). */
  nextAttempt(rolloutId: string): number {
    this.flush();
    const row = this.db
      .prepare(`SELECT MAX(attempt) AS a FROM (SELECT attempt FROM events WHERE rollout_id = ? UNION ALL SELECT attempt FROM model_calls WHERE rollout_id = ?)`)
      .get(rolloutId, rolloutId) as { a: number | null };
    return (row.a ?? 0) + 1;
  }

  // ── calls and events ───────────────────────────────────────────────────────────────────

  recorder(runId: string, rolloutId: string, attempt: number): RolloutRecorder {
    const key = `${rolloutId}#${attempt}`;
    const state: DeltaState = { lastCallId: null, messages: [], tools: null, toolsCallId: null, wireMessages: [], seq: 0 };
    this.deltas.set(key, state);
    return {
      modelCall: (call) => this.appendModelCall(call, state),
      event: (type, data) => this.appendEvent({ runId, rolloutId, attempt, type, data }, state),
    };
  }

  private appendEvent(e: { runId: string; rolloutId: string; attempt: number; type: EventType; data: JsonValue }, state: DeltaState): void {
    this.enqueue(this.stmts.insertEvent, [e.runId, e.rolloutId, e.attempt, state.seq++, this.now().toISOString(), e.type, JSON.stringify(e.data)]);
  }

  private appendModelCall(call: ModelCall, state: DeltaState): void {
    const messages = call.request.messages;
    const keep = state.lastCallId ? commonPrefixByReference(state.messages, messages) : 0;
    const tail = JSON.stringify(messages.slice(keep));
    const wireMessages = wireMessagesOf(call.wire?.request);
    let wireBase: string | null = null;
    let wireKeep = 0;
    let wireTail: string | null = null;
    let wireStrings: string[] = [];
    if (wireMessages) {
      wireStrings = wireMessages.map((m) => JSON.stringify(m));
      while (wireKeep < Math.min(wireStrings.length, state.wireMessages.length) && wireStrings[wireKeep] === state.wireMessages[wireKeep]) wireKeep++;
      wireBase = wireKeep > 0 ? state.lastCallId : null;
      wireTail = `[${wireStrings.slice(wireKeep).join(',')}]`;
    }
    // The same tool list object on every turn is stored once per rollout attempt.
    const toolsFrom = state.tools === call.request.tools ? state.toolsCallId : null;
    const stripped = {
      ...call,
      request: { ...call.request, messages: [], ...(toolsFrom ? { tools: [] } : {}) },
      ...(call.wire && wireMessages ? { wire: { ...call.wire, request: { ...(call.wire.request as Record<string, JsonValue>), messages: [] } } } : {}),
    };
    this.enqueue(this.stmts.insertCall, [
      call.id,
      call.runId,
      call.rolloutId,
      call.attempt,
      call.index,
      keep > 0 ? state.lastCallId : null,
      keep,
      tail,
      wireBase,
      wireKeep,
      wireTail,
      toolsFrom,
      JSON.stringify(stripped),
    ]);
    if (!toolsFrom) {
      state.tools = call.request.tools;
      state.toolsCallId = call.id;
    }
    state.lastCallId = call.id;
    state.messages = messages;
    state.wireMessages = wireStrings;
  }

  /** Every model call of a rollout (all attempts), with request messages rebuilt from the deltas. */
  modelCalls(rolloutId: string): ModelCall[] {
    this.flush();
    const rows = this.db
      .prepare(`SELECT * FROM model_calls WHERE rollout_id = ? ORDER BY attempt, idx`)
      .all(rolloutId) as {
      id: string;
      messages_base: string | null;
      messages_keep: number;
      messages_tail: string;
      wire_messages_base: string | null;
      wire_messages_keep: number;
      wire_messages_tail: string | null;
      tools_from: string | null;
      json: string;
    }[];
    const messagesById = new Map<string, unknown[]>();
    const toolsById = new Map<string, unknown>();
    const wireById = new Map<string, unknown[]>();
    return rows.map((row) => {
      const base = row.messages_base ? (messagesById.get(row.messages_base) ?? []) : [];
      const messages = [...base.slice(0, row.messages_keep), ...(JSON.parse(row.messages_tail) as unknown[])];
      messagesById.set(row.id, messages);
      const raw = JSON.parse(row.json) as { request: Record<string, unknown>; wire?: { request: Record<string, unknown> } };
      raw.request.messages = messages;
      if (row.tools_from) raw.request.tools = toolsById.get(row.tools_from) ?? [];
      else toolsById.set(row.id, raw.request.tools);
      if (row.wire_messages_tail !== null && raw.wire) {
        const wireBase = row.wire_messages_base ? (wireById.get(row.wire_messages_base) ?? []) : [];
        const wireMessages = [...wireBase.slice(0, row.wire_messages_keep), ...(JSON.parse(row.wire_messages_tail) as unknown[])];
        wireById.set(row.id, wireMessages);
        raw.wire.request.messages = wireMessages;
      }
      return ModelCall.parse(raw);
    });
  }

  events(rolloutId: string): RolloutEvent[] {
    this.flush();
    const rows = this.db.prepare(`SELECT * FROM events WHERE rollout_id = ? ORDER BY attempt, seq`).all(rolloutId) as {
      run_id: string;
      rollout_id: string;
      attempt: number;
      seq: number;
      at: string;
      type: string;
      data: string;
    }[];
    return rows.map((r) =>
      RolloutEvent.parse({ schemaVersion: SCHEMA_VERSION, runId: r.run_id, rolloutId: r.rollout_id, attempt: r.attempt, seq: r.seq, at: r.at, type: r.type, data: JSON.parse(r.data) }),
    );
  }

  // ── labels ─────────────────────────────────────────────────────────────────────────────

  saveLabel(label: Label): void {
    this.stmts.insertLabel.run(label.id, label.rolloutId, JSON.stringify(Label.parse(label)));
  }

  labels(rolloutId: string): Label[] {
    const rows = this.db.prepare(`SELECT json FROM labels WHERE rollout_id = ? ORDER BY id`).all(rolloutId) as { json: string }[];
    return rows.map((r) => Label.parse(JSON.parse(r.json)));
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}

export const DEFAULT_STORE_PATH = '.gauntlet/gauntlet.db';

export function openStore(path = DEFAULT_STORE_PATH, options?: StoreOptions): SqliteStore {
  return new SqliteStore(path, options);
}
