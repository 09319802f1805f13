import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { z } from 'zod';
import {
  DefectError,
  DetectionRecord,
  describeZodIssues,
  EventData,
  errorMessage,
  InputError,
  StoredDataError,
  Label,
  ModelCall,
  Rollout,
  RolloutEvent,
  RolloutStatus,
  Run,
  SCHEMA_VERSION,
  StoreError,
  parseInput,
  Task,
  TerminationReason,
  taskHash,
  upgradeRecord,
  type AttemptIdentity,
  type AttemptsSpend,
  type AttemptRecorder,
  type DetectionReport,
  type EventType,
  type RecordKind,
  type RecordUpgrade,
  type ReviewItemRow,
  type ReviewItemState,
  type ReviewLabelRow,
  type ReviewQueueRow,
  type RolloutCounts,
  type RolloutId,
  type RolloutOutcome,
  type TaskId,
  type RolloutQuery,
  type RolloutSummary,
  type RunId,
  type RunSummaryCounts,
  type LeaseHolder,
  type RunLease,
  type Store,
  type StoredTask,
} from '../core/index.ts';
import { Checkpointer, SharedCheckpoints, type CheckpointShare } from './checkpointer.ts';
import { decodeCalls, emptyDeltaState, encodeCall, type CallRow, type DeltaState } from './call-codec.ts';
import { findNonFinite, hasNonFinite, NON_FINITE_KEY, parseWithNonFinite, pathText, restoreTags, type NonFiniteAt, type NonFinitePolicy } from './non-finite.ts';
import { CALL_NUMBERS, damagedReward, EVENT_NUMBERS, ROLLOUT_NUMBERS, withRewardUnavailable } from './record-numbers.ts';
import { acquireLease, executingRuns, leaseHolder, type LeaseOptions } from './lease.ts';
import { deleteRunRecords, expertWork, leftOf, runsCreatedBefore, type DeleteRunOptions, type ExpertWork, type RunDeletion } from './run-deletion.ts';
import { latestVersion, migrate, STORE_MIGRATIONS, storedVersion, type StoreMigration } from './migrations.ts';
import { OpenedFile } from './opened-file.ts';
import { refuseForeignStore } from './recognise.ts';
import { ReviewTables } from './review-tables.ts';
import { registerCountFunctions, storedCounts, summaryCounts, type CountContext } from './run-counts.ts';
import { storeErrorFrom } from './sqlite-errors.ts';
import { errorOf, WriterThread, type WriterBatch } from './writer-thread.ts';

type Statement = Database.Statement<unknown[]>;

export interface StoreOptions {
  /** Flush buffered appends after this many records or this many ms, whichever first. */
  batchSize?: number;
  flushMs?: number;
  now?: () => Date;
  /** Strings (API keys) that must never be written: replaced by `***` in every stored record. */
  secrets?: readonly string[];
  /** Table migrations (tests add steps to prove old files still open). */
  migrations?: readonly StoreMigration[];
  /** Record upgrades on read (tests add steps). */
  recordUpgrades?: readonly RecordUpgrade[];
  /** Where warnings about damaged records that still read go (a process warning when absent). */
  warn?: (message: string) => void;
  lease?: LeaseOptions;
  /** Caps the file at this many pages (tests simulate a full disk with it). */
  maxPageCount?: number;
  /** A connection of another thread to a store whose checkpoints that store's thread runs (`forThreads`). */
  sharedCheckpoints?: CheckpointShare;
  /**
   * For commands that only read: nothing in or beside the file is written, so a file or directory
   * Gauntlet may not write is read as it is, and a store of an older schema is read through a
   * migrated private copy (the file keeps its version; commands that write migrate it in place).
   * The file must exist; every write is refused.
   */
  readOnly?: boolean;
}

/**
 * How another thread of this process opens the same store to write rollouts itself (rollout
 * threads): plain data, so it can be handed to a worker thread; `openStore(path, options)`.
 */
export interface ThreadStoreAccess {
  path: string;
  options: Pick<StoreOptions, 'batchSize' | 'flushMs' | 'secrets' | 'maxPageCount' | 'sharedCheckpoints'>;
}

const STATEMENTS = {
  insertCall: `INSERT OR REPLACE INTO model_calls (id, run_id, rollout_id, attempt, idx, messages_base, messages_keep, messages_tail,
    wire_messages_base, wire_messages_keep, wire_messages_tail, tools_from, json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
  insertEvent: `INSERT OR REPLACE INTO events (run_id, rollout_id, attempt, seq, at, type, data, schema_version) VALUES (?,?,?,?,?,?,?,?)`,
  upsertRollout: `INSERT OR REPLACE INTO rollouts (id, run_id, task_id, epoch, status, termination_reason, score, passed, json) VALUES (?,?,?,?,?,?,?,?,?)`,
  insertRun: `INSERT INTO runs (id, created_at, status, finished_at, json) VALUES (?,?,?,?,?)`,
  updateRun: `UPDATE runs SET status = ?, finished_at = ?, json = ? WHERE id = ?`,
  insertLabel: `INSERT INTO labels (id, rollout_id, json) VALUES (?,?,?)`,
  insertTask: `INSERT OR IGNORE INTO tasks (hash, json) VALUES (?,?)`,
  insertRunTask: `INSERT INTO run_tasks (run_id, position, task_id, hash) VALUES (?,?,?,?)`,
  upsertDetections: `INSERT OR REPLACE INTO detections (rollout_id, attempt, json) VALUES (?,?,?)`,
  // The rollout's own row too: an attempt that failed before recording anything (its environment would not start) still counts.
  lastAttempt: `SELECT MAX(attempt) AS a FROM (SELECT attempt FROM events WHERE rollout_id = ? UNION ALL SELECT attempt FROM model_calls WHERE rollout_id = ? UNION ALL SELECT json_extract(json, '$.attempt') FROM rollouts WHERE id = ?)`,
} as const;

/** The statements that appends, and the rollout rows committed after them, run through. */
type WrittenStatement = 'insertCall' | 'insertEvent' | 'upsertRollout';

/** A buffered append, with the attempt it belongs to (so `nextAttempt` can count it without a flush). */
interface PendingRow {
  statement: WrittenStatement;
  params: unknown[];
  rolloutId: string;
  attempt: number;
}

/** Runs a check of stored data: what it finds wrong is the store's data, not the caller's input. */
function storedData<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw error instanceof InputError ? StoredDataError.from(error) : error;
  }
}

const APPENDING = 'appending model calls and events';

function storing(rollouts: readonly Rollout[]): string {
  return rollouts.length === 1 ? `storing rollout ${rollouts[0]!.id}` : `storing ${rollouts.length} rollouts`;
}

/** JSON-escaped form of a secret, as it appears inside serialised records. */
function jsonEscaped(secret: string): string {
  return JSON.stringify(secret).slice(1, -1);
}

/**
 * The default store: one SQLite file (WAL). Calls and events are appended as they happen
 * (buffered for a few ms and written in small transactions); a finished rollout's remaining
 * appends and its row are committed in one transaction, the row last, so a crash never leaves a
 * finished rollout without its records. Any write failure (a full disk) is kept and re-thrown by
 * the next commit, so the run stops instead of losing data silently.
 */
export class SqliteStore implements Store {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly pending: PendingRow[] = [];
  /** While appends are written on a thread of their own (`writeOffThread`): the thread, and the batches it has not yet written. */
  private writer: { thread: WriterThread; handedOver: Map<number, { rows: PendingRow[]; doing: string }> } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly now: () => Date;
  private readonly secrets: string[];
  private readonly upgrades: readonly RecordUpgrade[] | undefined;
  private readonly leaseOptions: LeaseOptions;
  private readonly stmts: Record<keyof typeof STATEMENTS, Statement>;
  private failure: StoreError | undefined;
  /** The failure has been thrown to a caller: closing does not throw it again. */
  private failureReported = false;
  private readonly leases = new Set<RunLease>();
  private readonly review: ReviewTables;
  private readonly warnings: (message: string) => void;
  /** Rollouts whose damage has been warned about, once each. */
  private readonly warned = new Set<string>();
  private readonly checkpoints: Checkpointer | SharedCheckpoints | undefined;
  private readonly options: StoreOptions;
  /** Opened to read only (`readOnly`); reads may go through a private copy, removed on close. */
  private readonly readOnly: boolean;
  private readonly copy: PrivateCopy | undefined;
  /** The file a writing store opened: writes stop once its path names another file or none (opened-file.ts). */
  private readonly opened: OpenedFile | undefined;
  /**
   * Set when a store opened to read holds an older schema: it is read through a private copy
   * migrated to `current`, and the file keeps `stored` (so a caller can say it was not migrated).
   */
  readonly olderSchema: { stored: number; current: number } | null = null;

  constructor(path: string, options: StoreOptions = {}) {
    this.path = path;
    this.readOnly = options.readOnly === true;
    if (this.readOnly && path !== ':memory:') ({ db: this.db, copy: this.copy, olderSchema: this.olderSchema } = openToRead(path, options));
    else this.db = openDatabase(path, options);
    if (path !== ':memory:' && !this.readOnly) this.opened = new OpenedFile(path);
    this.options = options;
    // A store that is only read has nothing to checkpoint.
    if (path !== ':memory:' && !this.readOnly) this.checkpoints = options.sharedCheckpoints ? new SharedCheckpoints({ db: this.db, share: options.sharedCheckpoints }) : new Checkpointer({ db: this.db, path });
    this.batchSize = options.batchSize ?? 200;
    this.flushMs = options.flushMs ?? 20;
    this.now = options.now ?? (() => new Date());
    this.secrets = (options.secrets ?? []).filter((s) => s.length >= 4).map(jsonEscaped);
    this.upgrades = options.recordUpgrades;
    this.warnings = options.warn ?? ((message) => process.emitWarning(message, { code: 'GAUNTLET_DAMAGED_RECORD' }));
    this.leaseOptions = options.lease ?? {};
    this.stmts = Object.fromEntries(Object.entries(STATEMENTS).map(([k, sql]) => [k, this.db.prepare(sql)])) as Record<keyof typeof STATEMENTS, Statement>;
    this.review = new ReviewTables({ db: this.db, path, write: (doing, work) => this.write(doing, work), json: (value) => this.json(value) });
    registerCountFunctions(this.db);
  }

  private scrub = (json: string): string => {
    let out = json;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join('***');
    return out;
  };

  private json(value: unknown): string {
    return this.scrub(JSON.stringify(value));
  }

  /** A stored record, upgraded to the current version and validated; a damaged row is an error naming it. */
  private read<T>(kind: RecordKind, schema: z.ZodType<T>, json: string | Record<string, unknown>, where: string, numbers?: StoredNumbers): T | null {
    const at = `${this.path}: ${where}`;
    const raw = typeof json === 'string' ? parseRow(json, at) : json;
    // Numbers JSON has no word for, listed beside the record (non-finite.ts).
    const holding = numbers !== undefined && (numbers.holding === true || (typeof json === 'string' && takeNonFinite(raw, `${at}: ${NON_FINITE_KEY}`)));
    return storedData(() => {
      const upgraded = upgradeRecord(kind, raw, at, this.upgrades);
      if (upgraded === null) return null;
      if (!holding) return parseInput(schema, upgraded, at);
      const result = parseWithNonFinite({
        schema,
        record: upgraded,
        found: findNonFinite(upgraded),
        policy: numbers.policy,
        fail: (path, word, why) => {
          throw new StoredDataError(`${at}: ${pathText(path)}`, `holds ${word}: ${why}`, 'a row written by Gauntlet');
        },
      });
      if (result.success) return result.data;
      throw new StoredDataError(at, `invalid content\n${describeZodIssues(result.error.issues)}`);
    });
  }

  /**
   * A stored rollout. One whose reward an older Gauntlet stored damaged (null where a number
   * belongs) reads with its reward unavailable (record-numbers.ts), with a warning naming it, so
   * the rest of its run still reads; any other damage is a StoredDataError as for every record.
   */
  private readRollout(json: string, id: string): Rollout | null {
    const at = `${this.path}: rollout ${id}`;
    const raw = parseRow(json, at);
    const holding = takeNonFinite(raw, `${at}: ${NON_FINITE_KEY}`);
    const damaged = damagedReward(raw);
    if (damaged.length === 0) return this.read('rollout', Rollout, raw, `rollout ${id}`, { policy: ROLLOUT_NUMBERS, holding });
    const { record, message } = withRewardUnavailable(raw, damaged);
    if (!this.warned.has(id)) {
      this.warned.add(id);
      this.warnings(`${at}: ${message}. It reads as ${record.status === 'error' ? 'an error, never a score' : 'stored, without those numbers'}; the stored row is unchanged.`);
    }
    return this.read('rollout', Rollout, record, `rollout ${id}`, { policy: ROLLOUT_NUMBERS, holding });
  }

  /**
   * The JSON of `record` as stored: a non-finite number the store may keep is listed beside it (the
   * JSON has null there); one it may not is refused with a DefectError naming the record and field,
   * before anything is written.
   */
  private recordJson<T>(record: T & object, schema: z.ZodType<unknown>, policy: NonFinitePolicy, what: string): string {
    if (!hasNonFinite(record)) return this.json(record);
    const found = findNonFinite(record);
    refuseNonFinite({ schema, record, found, policy, what });
    return this.json({ ...record, [NON_FINITE_KEY]: found });
  }

  /** An event's data as stored: its non-finite numbers listed beside it, or refused (as `recordJson`). */
  private eventJson(type: EventType, data: unknown, what: string): string {
    if (!isRecord(data)) return this.json(data);
    const found = findNonFinite(data);
    refuseNonFinite({ schema: EventData[type], record: data, found, policy: EVENT_NUMBERS, what });
    return this.json({ ...data, [NON_FINITE_KEY]: found });
  }

  /** Why a store opened to read does not write (the connection would refuse too: query_only or read-only). */
  private refusal(doing: string): StoreError {
    return new StoreError(this.path, 'read_only', `was opened only to read, so ${doing} is refused (expected a command that writes the store)`);
  }

  /** The kept failure, marked as told to the caller that it is thrown to. */
  private reported(): StoreError {
    this.failureReported = true;
    return this.failure!;
  }

  /** Runs `work` as a write; a failure becomes a StoreError kept for the next commit. */
  private write(doing: string, work: () => void): void {
    if (this.failure) throw this.reported();
    if (this.readOnly) throw this.refusal(doing);
    this.checkFile();
    if (this.failure) throw this.reported();
    try {
      work();
    } catch (error) {
      this.failure = storeErrorFrom(this.path, error, doing);
      throw this.reported();
    }
    this.checkpoints?.committed();
  }

  /**
   * Before a commit: once the path no longer names the file this store opened (deleted, or another
   * file moved there), nothing more is written, what the file holds is saved beside the path, and
   * the failure says where (opened-file.ts).
   */
  private checkFile(): void {
    const opened = this.opened;
    const change = this.failure ? null : opened?.change();
    if (!opened || !change) return;
    // What the writer thread was handed goes into the copy; a checkpoint thread started now would open the other file.
    this.writer?.thread.settle();
    this.checkpoints?.close();
    this.failure = opened.lost(this.db, change);
    this.failureReported = false;
  }

  private enqueue(row: PendingRow): void {
    // Refused appends are reported by the next commit, as a failed background flush's are.
    if (this.readOnly) this.failure ??= this.refusal(APPENDING);
    if (this.failure) return;
    this.pending.push(row);
    if (this.pending.length >= this.batchSize) this.flushQuietly();
    else this.timer ??= setTimeout(() => this.flushQuietly(), this.flushMs);
  }

  /** Background flushes cannot throw into a timer: the failure is kept and surfaces at the next commit. */
  private flushQuietly(): void {
    if (this.writer) {
      // Handed over without waiting: the writer thread's failure is kept when it answers.
      this.clearTimer();
      if (this.pending.length > 0 && !this.failure) this.handOver(this.writer, this.pending.splice(0, this.pending.length), [], APPENDING);
      return;
    }
    try {
      this.flush();
    } catch (_error) {
      // kept in this.failure
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Writes everything buffered, in one transaction; with a writer thread, waits until it has written everything handed over. */
  flush(): void {
    this.clearTimer();
    if (this.writer) {
      const known = this.failure;
      if (known && this.pending.length > 0) throw this.reported();
      if (this.pending.length > 0) this.handOver(this.writer, this.pending.splice(0, this.pending.length), [], APPENDING);
      this.writer.thread.settle();
      if (this.failure && this.failure !== known) throw this.reported();
      return;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.pending.length);
    this.write(APPENDING, () =>
      this.db.transaction(() => {
        for (const { statement, params } of batch) this.stmts[statement].run(...params);
      })(),
    );
  }

  /**
   * Before a read: what is buffered is written first, so the read sees it. Once a write has failed
   * (a full disk), nothing more can be, and the read sees what the file holds: the failure is kept
   * for the next commit to report, so a run that stopped can still count what it stored.
   */
  private flushForRead(): void {
    const told = this.failureReported;
    try {
      this.flush();
    } catch (error) {
      if (error !== this.failure) throw error;
      this.failureReported = told; // not told to anyone: the read goes on
      this.writer?.thread.settle();
    }
  }

  /**
   * From now on, appends and rollout commits are written by a connection on a thread of their
   * own, in the order they happen here; reads and every other write wait for it first. For a
   * run of many rollouts in this process, whose rollouts share this thread. False where it
   * cannot: an in-memory store is private to its connection, and the checkpoints must be able
   * to move to their thread (the writer's commits are not seen here).
   */
  writeOffThread(): boolean {
    if (this.writer) return true;
    if (this.path === ':memory:' || this.failure || !(this.checkpoints instanceof Checkpointer)) return false;
    const share = this.checkpoints.share();
    if (!share) return false;
    this.flush();
    const thread = new WriterThread({
      path: this.path,
      statements: { insertCall: STATEMENTS.insertCall, insertEvent: STATEMENTS.insertEvent, upsertRollout: STATEMENTS.upsertRollout },
      checkpoints: share,
      ...(this.options.maxPageCount === undefined ? {} : { maxPageCount: this.options.maxPageCount }),
    });
    const writer = { thread, handedOver: new Map<number, { rows: PendingRow[]; doing: string }>() };
    thread.onSettled = (seq, failure) => {
      const batch = writer.handedOver.get(seq);
      writer.handedOver.delete(seq);
      if (failure && !this.failure) {
        this.failure = storeErrorFrom(this.path, errorOf(failure), batch?.doing ?? APPENDING);
      }
    };
    this.writer = writer;
    return true;
  }

  /**
   * Back to writing on this thread, once the writer thread has written what it was handed. What
   * it could not write stays the store's failure, thrown by the next commit, as a background
   * flush's would.
   */
  writeOnThisThread(): void {
    const writer = this.writer;
    if (!writer) return;
    this.flushQuietly();
    writer.thread.close();
    this.writer = undefined;
  }

  /** Hands appends, then rollout rows (their parameters), to the writer thread as one transaction; its number there. */
  private handOver(writer: NonNullable<typeof this.writer>, rows: PendingRow[], rollouts: readonly unknown[][], doing: string): number {
    const statements: string[] = rows.map((r) => r.statement);
    const params: unknown[][] = rows.map((r) => r.params);
    for (const rollout of rollouts) {
      statements.push('upsertRollout');
      params.push(rollout);
    }
    const batch: WriterBatch = { statements, params };
    const seq = writer.thread.send(batch);
    writer.handedOver.set(seq, { rows, doing });
    return seq;
  }

  private rolloutParams(rollout: Rollout): unknown[] {
    return [
      rollout.id,
      rollout.runId,
      rollout.taskId,
      rollout.epoch,
      rollout.status,
      rollout.terminationReason,
      rollout.score,
      rollout.passed === null ? null : rollout.passed ? 1 : 0,
      this.recordJson(rollout, Rollout, ROLLOUT_NUMBERS, `rollout ${rollout.id}`),
    ];
  }

  /**
   * What another thread needs to write to this store through a connection of its own, or null
   * where it cannot: an in-memory store is private to its connection, and migrations or record
   * upgrades given as code cannot be handed to a thread. Checkpoints move to their own thread then
   * (the other connections' commits are not seen here).
   */
  forThreads(): ThreadStoreAccess | null {
    const { options } = this;
    if (this.path === ':memory:' || options.migrations || options.recordUpgrades || !(this.checkpoints instanceof Checkpointer)) return null;
    const share = this.checkpoints.share();
    if (!share) return null;
    const passed = {
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(options.flushMs === undefined ? {} : { flushMs: options.flushMs }),
      ...(options.secrets ? { secrets: [...options.secrets] } : {}),
      ...(options.maxPageCount === undefined ? {} : { maxPageCount: options.maxPageCount }),
    };
    return { path: this.path, options: { ...passed, sharedCheckpoints: share } };
  }

  // ── runs and their tasks ───────────────────────────────────────────────────────────────

  createRun(run: Run, tasks: readonly Task[]): void {
    this.flush();
    this.write('creating the run', () =>
      this.db.transaction(() => {
        this.stmts.insertRun.run(run.id, run.createdAt, run.status, run.finishedAt, this.json(run));
        tasks.forEach((task, position) => {
          const hash = taskHash(task);
          this.stmts.insertTask.run(hash, this.json(task));
          this.stmts.insertRunTask.run(run.id, position, task.id, hash);
        });
      })(),
    );
  }

  runTasks(runId: string): StoredTask[] {
    this.flushForRead();
    const rows = this.db
      .prepare(`SELECT t.hash AS hash, t.json AS json FROM run_tasks r JOIN tasks t ON t.hash = r.hash WHERE r.run_id = ? ORDER BY r.position`)
      .all(runId) as { hash: string; json: string }[];
    return rows.flatMap((r) => {
      const task = this.read('task', Task, r.json, `task ${r.hash}`);
      return task ? [{ task, hash: r.hash }] : [];
    });
  }

  setRunStatus(id: string, status: Run['status']): void {
    this.flush();
    const run = this.getRun(id);
    if (!run) return;
    const finishedAt = status === 'running' ? null : this.now().toISOString();
    const updated: Run = { ...run, status, finishedAt };
    this.write('updating the run', () => this.stmts.updateRun.run(status, finishedAt, this.json(updated), id));
  }

  getRun(id: string): Run | null {
    const row = this.db.prepare(`SELECT json FROM runs WHERE id = ?`).get(id) as { json: string } | undefined;
    return row ? this.read('run', Run, row.json, `run ${id}`) : null;
  }

  listRuns(limit = 50): Run[] {
    const rows = this.db.prepare(`SELECT id, json FROM runs ORDER BY created_at DESC, id DESC LIMIT ?`).all(limit) as { id: string; json: string }[];
    return rows.flatMap((r) => this.read('run', Run, r.json, `run ${r.id}`) ?? []);
  }

  leaseHolder(runId: RunId): LeaseHolder | null {
    return leaseHolder(this.db, runId, this.leaseOptions);
  }

  acquireLease(runId: RunId): RunLease {
    if (this.readOnly) throw this.refusal('taking the run lease');
    let lease: RunLease | undefined;
    try {
      lease = acquireLease(this.db, runId, this.leaseOptions);
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw storeErrorFrom(this.path, error, 'taking the run lease');
    }
    const held = lease;
    this.leases.add(held);
    return {
      runId: held.runId,
      owner: held.owner,
      release: () => {
        this.leases.delete(held);
        held.release();
      },
    };
  }

  // ── deleting runs ──────────────────────────────────────────────────────────────────────

  /**
   * Deletes a run and everything recorded for it, or nothing (see `deleteRunRecords` for what is
   * refused, and how it gives way to other writers). A refusal is the caller's InputError; a
   * failing file is a StoreError.
   */
  deleteRun(runId: string, options: Pick<DeleteRunOptions, 'withLabels' | 'dryRun' | 'chunkRows' | 'between'> = {}): RunDeletion {
    const doing = `${options.dryRun ? 'counting what deleting' : 'deleting'} run ${runId}${options.dryRun ? ' would remove' : ''}`;
    if (this.readOnly) throw this.refusal(doing);
    this.flush();
    let deletion: RunDeletion;
    try {
      deletion = deleteRunRecords(this.db, runId, { ...options, lease: this.leaseOptions });
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw storeErrorFrom(this.path, error, doing);
    }
    if (!options.dryRun) this.checkpoints?.committed();
    return deletion;
  }

  /** Whether records of a run whose row is gone are left (a deletion stopped half-way): deleting the id again removes them. */
  hasRecordsOf(runId: string): boolean {
    return leftOf(this.db, runId) > 0;
  }

  /** The runs a live process executes in this store now (their leases say so). */
  executingRuns(): { runId: RunId; holder: LeaseHolder }[] {
    return executingRuns(this.db, this.leaseOptions);
  }

  /**
   * Why vacuuming now would harm a run, or null: VACUUM rewrites the whole file holding the write
   * lock, and a run writing meanwhile waits for it only so long before it stops as "locked".
   */
  vacuumRefusal(): InputError | null {
    const [first, ...more] = this.executingRuns();
    if (!first) return null;
    const others = more.length > 0 ? ` (and ${more.length} other run${more.length === 1 ? '' : 's'})` : '';
    return new InputError(
      '--vacuum',
      `run ${first.runId} is being executed by process ${first.holder.pid} on ${first.holder.host}${others}; vacuuming rewrites the whole store while holding its write lock, which would stop that run`,
      'no run executing in the store: vacuum once it has finished (space freed by deleting is reused by new runs meanwhile)',
    );
  }

  /** Runs created before `before` (an ISO time), oldest first, with their expert work (what `prune` keeps). */
  runsCreatedBefore(before: string): { id: string; createdAt: string; status: string; expertWork: ExpertWork; executing: boolean }[] {
    return runsCreatedBefore(this.db, before).map((r) => ({ ...r, expertWork: expertWork(this.db, r.id), executing: this.leaseHolder(r.id as RunId)?.alive === true }));
  }

  /** The file's size and the part of it free for reuse (what deleting freed until a vacuum gives it back). */
  fileSpace(): { bytes: number; freeBytes: number } {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return { bytes: pages * pageSize, freeBytes: free * pageSize };
  }

  /** Rewrites the file without its free pages; needs as much free disk again, waits for other writers, and is refused while a run executes. */
  vacuum(): void {
    if (this.readOnly) throw this.refusal('vacuuming');
    const refusal = this.vacuumRefusal();
    if (refusal) throw refusal;
    this.flush();
    try {
      this.db.exec('VACUUM');
    } catch (error) {
      throw storeErrorFrom(this.path, error, 'vacuuming (rewriting the file without its free space)');
    }
    this.checkpoints?.committed();
  }

  // ── rollouts ───────────────────────────────────────────────────────────────────────────

  commitRollout(rollout: Rollout): void {
    this.commitRollouts([rollout]);
  }

  commitRollouts(rollouts: readonly Rollout[]): void {
    this.clearTimer();
    const doing = storing(rollouts);
    // Before anything is written: a rollout refused for its numbers leaves the store as it was.
    const rows = rollouts.map((rollout) => this.rolloutParams(rollout));
    if (this.writer) {
      this.checkFile();
      if (this.failure) throw this.reported();
      this.handOver(this.writer, this.pending.splice(0, this.pending.length), rows, doing);
      this.writer.thread.settle();
      if (this.failure) throw this.reported();
      return;
    }
    const batch = this.pending.splice(0, this.pending.length);
    this.write(doing, () =>
      this.db.transaction(() => {
        for (const { statement, params } of batch) this.stmts[statement].run(...params);
        for (const row of rows) this.stmts.upsertRollout.run(...row);
      })(),
    );
  }

  /**
   * `commitRollouts`, which with a writer thread (`writeOffThread`) does not wait here: the
   * promise settles once the rollouts are in the file, or rejects with the StoreError that kept
   * them out.
   */
  commitRolloutsAsync(rollouts: readonly Rollout[]): Promise<void> {
    const writer = this.writer;
    if (!writer) {
      try {
        this.commitRollouts(rollouts);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    let rows: unknown[][];
    try {
      rows = rollouts.map((rollout) => this.rolloutParams(rollout));
    } catch (error) {
      return Promise.reject(error);
    }
    this.clearTimer();
    this.checkFile();
    if (this.failure) return Promise.reject(this.reported());
    const seq = this.handOver(writer, this.pending.splice(0, this.pending.length), rows, storing(rollouts));
    // The thread's answer made its failure the store's (a StoreError) before this rejects.
    return writer.thread.written(seq).catch((error: unknown) => {
      throw this.failure ? this.reported() : error;
    });
  }

  rollouts(runId: string): Rollout[] {
    this.flushForRead();
    const rows = this.db.prepare(`SELECT id, json FROM rollouts WHERE run_id = ? ORDER BY task_id, epoch`).all(runId) as { id: string; json: string }[];
    return rows.flatMap((r) => this.readRollout(r.json, r.id) ?? []);
  }

  /** Keyset pages in (task, epoch) order (the unique index's), each a statement of its own: no read is held open between pages. */
  *eachRollout(runId: string, pageSize = 500): Generator<Rollout> {
    this.flushForRead();
    const page = this.db.prepare(`SELECT id, task_id, epoch, json FROM rollouts WHERE run_id = ? AND (task_id, epoch) > (?, ?) ORDER BY task_id, epoch LIMIT ?`);
    let after: { task_id: string; epoch: number } = { task_id: '', epoch: -1 };
    for (;;) {
      const rows = page.all(runId, after.task_id, after.epoch, pageSize) as { id: string; task_id: string; epoch: number; json: string }[];
      for (const row of rows) {
        const rollout = this.readRollout(row.json, row.id);
        if (rollout) yield rollout;
      }
      if (rows.length < pageSize) return;
      after = rows.at(-1)!;
    }
  }

  /**
   * Runs `read` in one read transaction: what it reads (a run's counts, then its rollouts page by
   * page, between writes of what it has read) is one snapshot of the file, even while a run writes
   * to it. Nothing else may use this store until it settles.
   */
  async readSnapshot<T>(read: () => Promise<T> | T): Promise<T> {
    this.flushForRead();
    if (this.db.inTransaction) return read();
    this.db.exec('BEGIN');
    try {
      return await read();
    } finally {
      if (this.db.inTransaction) this.db.exec('COMMIT');
    }
  }

  runSummaryCounts(runId: string): RunSummaryCounts {
    this.flushForRead();
    return summaryCounts(this.counting, runId);
  }

  runStoredCounts(runId: string): RolloutCounts {
    this.flushForRead();
    return storedCounts(this.counting, runId);
  }

  private get counting(): CountContext {
    return { db: this.db, path: this.path, readRollout: (json, id) => this.readRollout(json, id) };
  }

  /**
   * From the indexed columns (written from the same record as its JSON, and no upgrade step touches
   * rollouts): a thousand rollouts take a few ms instead of ~200 ms of parsing whole records at
   * the end of every run. Only failed rollouts' records (error, infra_error) are read, for their error,
   * and scored ones whose JSON may hold a damaged reward (what `rollouts` reads as an error).
   */
  rolloutOutcomes(runId: string): RolloutOutcome[] {
    this.flushForRead();
    const rows = this.db
      .prepare(`SELECT id, task_id, epoch, status, termination_reason, score, passed, CASE WHEN status IN ('error', 'infra_error') OR ${MAYBE_DAMAGED_REWARD} THEN json END AS json FROM rollouts WHERE run_id = ? ORDER BY task_id, epoch`)
      .all(runId) as { id: string; task_id: string; epoch: number; status: string; termination_reason: string; score: number | null; passed: number | null; json: string | null }[];
    return rows.map((r) => {
      const at = `rollout ${r.id}`;
      const status = storedData(() => parseInput(RolloutStatus, r.status, `${at}: status`));
      const terminationReason = storedData(() => parseInput(TerminationReason, r.termination_reason, `${at}: termination_reason`));
      const read = r.json === null ? null : this.readRollout(r.json, r.id);
      const error = read?.error ?? null;
      checkOutcomeColumns(r, status, `${this.path}: ${at}`);
      if (status === 'scored' && read && read.status !== 'scored') {
        return { id: r.id as RolloutId, taskId: r.task_id as TaskId, epoch: r.epoch, status: read.status, terminationReason: read.terminationReason, score: null, passed: null, error };
      }
      // Columns this store wrote from the record's own (checked) ids.
      return { id: r.id as RolloutId, taskId: r.task_id as TaskId, epoch: r.epoch, status, terminationReason, score: r.score, passed: r.passed === null ? null : r.passed === 1, error };
    });
  }

  runSpend(runId: string): AttemptsSpend {
    this.flushForRead();
    // SQLite keeps a record's parsed JSON between the extracts of one row.
    const spent = (field: string) => `COALESCE(SUM(COALESCE(json_extract(json, '$.spent.${field}'), json_extract(json, '$.stats.${field}'), 0)), 0)`;
    const row = this.db
      .prepare(
        `SELECT COALESCE(SUM(COALESCE(json_extract(json, '$.spent.attempts'), 1)), 0) AS attempts, ${spent('modelCalls')} AS modelCalls, ${spent('toolCalls')} AS toolCalls, ${spent('promptTokens')} AS promptTokens, ${spent('completionTokens')} AS completionTokens FROM rollouts WHERE run_id = ?`,
      )
      .get(runId) as Record<keyof AttemptsSpend, unknown>;
    const count = (field: keyof AttemptsSpend): number => {
      const value = row[field];
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new StoredDataError(`${this.path}: rollouts of run ${runId}`, `spent.${field} sums to ${String(value)}`, 'whole numbers of calls and tokens');
      return value;
    };
    return { attempts: count('attempts'), modelCalls: count('modelCalls'), toolCalls: count('toolCalls'), promptTokens: count('promptTokens'), completionTokens: count('completionTokens') };
  }

  getRollout(id: string): Rollout | null {
    this.flushForRead();
    const row = this.db.prepare(`SELECT json FROM rollouts WHERE id = ?`).get(id) as { json: string } | undefined;
    return row ? this.readRollout(row.json, id) : null;
  }

  finishedRolloutIds(runId: string, options: { exceptInfraErrors?: boolean } = {}): Set<string> {
    this.flushForRead();
    const rows = this.db.prepare(`SELECT id FROM rollouts WHERE run_id = ?${options.exceptInfraErrors ? ` AND status <> 'infra_error'` : ''}`).all(runId) as { id: string }[];
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Counts buffered appends as well as stored ones instead of flushing first: a thousand rollouts
   * starting one by one would otherwise each write the buffer in a transaction of its own.
   */
  nextAttempt(rolloutId: string): number {
    if (this.failure) throw this.reported();
    const row = this.stmts.lastAttempt.get(rolloutId, rolloutId, rolloutId) as { a: number | null };
    let last = row.a ?? 0;
    for (const p of this.pending) if (p.rolloutId === rolloutId && p.attempt > last) last = p.attempt;
    // Handed to the writer thread and not yet in the file.
    for (const { rows } of this.writer?.handedOver.values() ?? []) for (const p of rows) if (p.rolloutId === rolloutId && p.attempt > last) last = p.attempt;
    return last + 1;
  }

  /**
   * From the rows themselves, not the rollout's record: an attempt killed mid-way left only rows,
   * and a record about to be replaced may be older than `spent`. Rows of the rollout still
   * buffered or on their way to the file are flushed first (adding them up beside the file's could
   * count a row the writer thread just wrote twice); a rollout resumed by a new process has none,
   * and its start does not wait on the buffer of every rollout running.
   */
  attemptsSpend(rolloutId: string, beforeAttempt: number): AttemptsSpend {
    const unwritten = (rows: readonly PendingRow[]) => rows.some((p) => p.rolloutId === rolloutId);
    if (unwritten(this.pending) || [...(this.writer?.handedOver.values() ?? [])].some(({ rows }) => unwritten(rows))) this.flushForRead();
    const at = `${this.path}: rollout ${rolloutId}, attempts before ${beforeAttempt}`;
    let row: Record<keyof AttemptsSpend, unknown>;
    try {
      row = this.db
        .prepare(
          `SELECT
            (SELECT MAX(a) FROM (SELECT MAX(attempt) AS a FROM events WHERE rollout_id = @id AND attempt < @before
              UNION ALL SELECT MAX(attempt) FROM model_calls WHERE rollout_id = @id AND attempt < @before
              UNION ALL SELECT json_extract(json, '$.attempt') FROM rollouts WHERE id = @id AND json_extract(json, '$.attempt') < @before)) AS attempts,
            COUNT(*) AS modelCalls,
            SUM(COALESCE(json_extract(json, '$.response.usage.promptTokens'), 0)) AS promptTokens,
            SUM(COALESCE(json_extract(json, '$.response.usage.completionTokens'), 0)) AS completionTokens,
            (SELECT COUNT(*) FROM events WHERE rollout_id = @id AND attempt < @before AND type = 'tool_call') AS toolCalls
          FROM model_calls WHERE rollout_id = @id AND attempt < @before AND json_extract(json, '$.purpose') NOT IN ('judge', 'user')`,
        )
        .get({ id: rolloutId, before: beforeAttempt }) as Record<keyof AttemptsSpend, unknown>;
    } catch (error) {
      if (!(error instanceof Error && /malformed JSON/i.test(error.message))) throw error;
      const call = this.db.prepare(`SELECT id FROM model_calls WHERE rollout_id = ? AND attempt < ? AND NOT json_valid(json) LIMIT 1`).get(rolloutId, beforeAttempt) as { id: string } | undefined;
      throw new StoredDataError(call ? `${this.path}: model call ${call.id}` : at, 'the stored record is not valid JSON', 'a row written by Gauntlet');
    }
    const count = (field: keyof AttemptsSpend): number => {
      const value = row[field] ?? 0;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new StoredDataError(at, `${field} sums to ${String(value)}`, 'whole numbers of attempts, calls and tokens');
      return value;
    };
    return { attempts: count('attempts'), modelCalls: count('modelCalls'), toolCalls: count('toolCalls'), promptTokens: count('promptTokens'), completionTokens: count('completionTokens') };
  }

  // ── calls and events ───────────────────────────────────────────────────────────────────

  recorder(identity: AttemptIdentity): AttemptRecorder {
    const { runId, rolloutId, attempt } = identity;
    let state: DeltaState | null = emptyDeltaState();
    let seq = 0;
    return {
      get sealed() {
        return state === null;
      },
      seal: () => {
        state = null;
      },
      modelCall: (call) => {
        if (!state) return;
        const e = encodeCall(call, state, this.scrub, refuseCallNumbers);
        this.enqueue({ statement: 'insertCall', rolloutId, attempt, params: [
          call.id,
          call.runId,
          call.rolloutId,
          call.attempt,
          call.index,
          e.messagesBase,
          e.messagesKeep,
          e.messagesTail,
          e.wireMessagesBase,
          e.wireMessagesKeep,
          e.wireMessagesTail,
          e.toolsFrom,
          e.json,
        ] });
      },
      event: (type: EventType, data: unknown, at?: Date) => {
        if (!state) return;
        const json = hasNonFinite(data) ? this.eventJson(type, data, `event ${rolloutId}#${attempt}.${seq}`) : this.json(data);
        this.enqueue({ statement: 'insertEvent', rolloutId, attempt, params: [runId, rolloutId, attempt, seq++, (at ?? this.now()).toISOString(), type, json, SCHEMA_VERSION] });
      },
    };
  }

  modelCalls(rolloutId: string): ModelCall[] {
    this.flushForRead();
    const rows = this.db.prepare(`SELECT * FROM model_calls WHERE rollout_id = ? ORDER BY attempt, idx`).all(rolloutId) as CallRow[];
    return decodeCalls(rows, (row) => `${this.path}: model call ${row.id}`).flatMap(
      ({ record, nonFinite }, i) => this.read('modelCall', ModelCall, record, `model call ${rows[i]!.id}`, nonFinite ? { policy: CALL_NUMBERS, holding: true } : undefined) ?? [],
    );
  }

  events(rolloutId: string): RolloutEvent[] {
    this.flushForRead();
    const rows = this.db.prepare(`SELECT * FROM events WHERE rollout_id = ? ORDER BY attempt, seq`).all(rolloutId) as {
      run_id: string;
      rollout_id: string;
      attempt: number;
      seq: number;
      at: string;
      type: string;
      data: string;
      schema_version: number;
    }[];
    return rows.flatMap((r) => {
      const where = `event ${r.rollout_id}#${r.attempt}.${r.seq}`;
      let data: unknown;
      try {
        data = JSON.parse(r.data);
      } catch (error) {
        throw new StoredDataError(`${this.path}: ${where}`, `the stored data is not valid JSON (${errorMessage(error)})`);
      }
      const holding = isRecord(data) && takeNonFinite(data, `${this.path}: ${where}: data.${NON_FINITE_KEY}`);
      const raw = { schemaVersion: r.schema_version, runId: r.run_id, rolloutId: r.rollout_id, attempt: r.attempt, seq: r.seq, at: r.at, type: r.type, data };
      return this.read('event', RolloutEvent, raw, where, holding ? { policy: EVENT_NUMBERS, holding } : undefined) ?? [];
    });
  }

  // ── labels ─────────────────────────────────────────────────────────────────────────────

  /** Labels are never overwritten: a second label with the same id is refused. */
  saveLabel(label: Label): void {
    this.write('storing a label', () => this.stmts.insertLabel.run(label.id, label.rolloutId, this.json(Label.parse(label))));
  }

  labels(rolloutId: string): Label[] {
    const rows = this.db.prepare(`SELECT id, json FROM labels WHERE rollout_id = ? ORDER BY id`).all(rolloutId) as { id: string; json: string }[];
    return rows.flatMap((r) => this.read('label', Label, r.json, `label ${r.id}`) ?? []);
  }

  // ── detector findings ──────────────────────────────────────────────────────────────────

  saveDetections(rolloutId: string, attempt: number, report: DetectionReport): void {
    const record = parseInput(DetectionRecord, { ...report, schemaVersion: SCHEMA_VERSION, rolloutId, attempt }, `detections for rollout ${rolloutId} attempt ${attempt}`);
    this.write('storing detections', () => this.stmts.upsertDetections.run(rolloutId, attempt, this.json(record)));
  }

  detections(rolloutId: string): DetectionRecord[] {
    const rows = this.db.prepare(`SELECT attempt, json FROM detections WHERE rollout_id = ? ORDER BY attempt`).all(rolloutId) as { attempt: number; json: string }[];
    return rows.flatMap((r) => this.read('detections', DetectionRecord, r.json, `detections ${rolloutId}#${r.attempt}`) ?? []);
  }

  runDetections(runId: string): DetectionRecord[] {
    const rows = this.db
      .prepare(`SELECT d.rollout_id AS rollout_id, d.attempt AS attempt, d.json AS json FROM rollouts r JOIN detections d ON d.rollout_id = r.id WHERE r.run_id = ? ORDER BY d.rollout_id, d.attempt`)
      .all(runId) as { rollout_id: string; attempt: number; json: string }[];
    return rows.flatMap((r) => this.read('detections', DetectionRecord, r.json, `detections ${r.rollout_id}#${r.attempt}`) ?? []);
  }

  // ── expert review (tables in review-tables.ts) ─────────────────────────────────────────

  rolloutSummaries(runId: string, query: RolloutQuery = {}): RolloutSummary[] {
    this.flushForRead();
    return this.review.rolloutSummaries(runId, query);
  }

  toolCallCounts(runId: string): Record<string, number> {
    this.flushForRead();
    return this.review.toolCallCounts(runId);
  }

  appendReviewLabel(row: ReviewLabelRow): void {
    this.review.appendLabel(row);
  }

  reviewLabels(filter: { rolloutId?: string; runId?: string }): ReviewLabelRow[] {
    return this.review.labels(filter);
  }

  createReviewQueue(queue: ReviewQueueRow, items: readonly ReviewItemRow[]): void {
    this.review.createQueue(queue, items);
  }

  reviewQueues(filter: { id?: string } = {}): ReviewQueueRow[] {
    return this.review.queues(filter.id);
  }

  reviewItems(queueId: string, nowMs: number): ReviewItemState[] {
    return this.review.items(queueId, nowMs);
  }

  reserveReviewItem(request: { queueId: string; reviewer: string; nowMs: number }): ReviewItemState | null {
    return this.review.reserve(request);
  }

  releaseReviewItem(request: { queueId: string; itemId: string; reviewer?: string }): boolean {
    return this.review.release(request);
  }

  close(): void {
    for (const lease of [...this.leases]) lease.release();
    // A store that only read since the file went still saves what it holds, and says so.
    this.checkFile();
    const told = this.failureReported;
    try {
      this.writeOnThisThread();
      this.flush();
    } catch (error) {
      // Appends left behind a failure the caller already has (the run stopped on it): nothing new to say.
      if (!(told && error === this.failure)) throw error;
    } finally {
      this.checkpoints?.close();
      this.db.close();
      this.copy?.remove();
    }
    // A failure no caller was given (a background flush, or one a read went on past) is not lost here.
    if (this.failure && !this.failureReported) throw this.reported();
  }
}

/** Which numbers a record read may hold beyond JSON's, and whether this one is known to (its row listed some). */
interface StoredNumbers {
  policy: NonFinitePolicy;
  holding?: boolean;
}

function parseRow(json: string, at: string): Record<string, unknown> {
  try {
    return JSON.parse(json) as Record<string, unknown>;
  } catch (error) {
    throw new StoredDataError(at, `the stored record is not valid JSON (${errorMessage(error)})`, 'a row written by Gauntlet');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Takes the list of non-finite numbers out of a stored record and puts them back into it; whether there was one. */
function takeNonFinite(raw: Record<string, unknown>, where: string): boolean {
  if (!Object.hasOwn(raw, NON_FINITE_KEY)) return false;
  const tags = raw[NON_FINITE_KEY];
  delete raw[NON_FINITE_KEY];
  restoreTags(raw, tags, where);
  return true;
}

/** Refuses a record holding a non-finite number `policy` (or its schema) does not let the store keep: a defect, named. */
function refuseNonFinite(input: { schema: z.ZodType<unknown>; record: unknown; found: readonly NonFiniteAt[]; policy: NonFinitePolicy; what: string }): void {
  const { what } = input;
  parseWithNonFinite({
    ...input,
    fail: (path, word, why) => {
      throw new DefectError('gauntlet', `${what}: ${pathText(path)} is ${word}: ${why}. JSON has no ${word}, and the store refuses to write null in its place`);
    },
  });
}

/** A model call's numbers, checked before the codec encodes it (call-codec.ts): the whole record, as it is validated whole. */
function refuseCallNumbers(call: ModelCall): void {
  refuseNonFinite({ schema: ModelCall, record: call, found: findNonFinite(call), policy: CALL_NUMBERS, what: `model call ${call.id} (rollout ${call.rolloutId}, attempt ${call.attempt})` });
}

/**
 * Scored rollouts whose JSON may hold a damaged reward (`damagedReward`): a substring test SQLite
 * runs without parsing, so undamaged runs still read their outcomes from the columns alone.
 */
const MAYBE_DAMAGED_REWARD = `(status = 'scored' AND (instr(json, '"value":null') > 0 OR instr(json, '"weight":null') > 0 OR instr(json, '"reward":null') > 0 OR instr(json, '"score":null') > 0))`;

/**
 * The indexed columns a run's summary counts from, as the record they were written from has them:
 * a hand-edited or damaged column would otherwise skew a pass rate without a word.
 */
function checkOutcomeColumns(r: { epoch: unknown; score: unknown; passed: unknown }, status: RolloutStatus, at: string): void {
  const scored = status === 'scored';
  const fail = (column: string, expected: string, value: unknown) => {
    throw new StoredDataError(`${at}: ${column}`, `is ${value === null ? 'NULL' : JSON.stringify(value)}`, `${expected} (a row written by Gauntlet)`);
  };
  if (!Number.isSafeInteger(r.epoch) || (r.epoch as number) < 0) fail('epoch', 'an epoch number, 0 or more', r.epoch);
  const number = typeof r.score === 'number' && Number.isFinite(r.score);
  // Only scored rollouts are counted: theirs must be there; others' may be NULL.
  if (!(number || (!scored && r.score === null))) fail('score', scored ? 'the score of a scored rollout, a number' : 'a number or NULL', r.score);
  if (!(r.passed === 0 || r.passed === 1 || (!scored && r.passed === null))) fail('passed', scored ? '0 or 1 for a scored rollout' : '0, 1 or NULL', r.passed);
}

/** Refuses a path no database can live at, before anything is created there. */
function refuseUnusablePath(path: string): void {
  if (path.trim() === '') throw new StoreError(path, 'unusable_path', 'the path is empty (expected a file path such as .gauntlet/gauntlet.db)');
  if (path === ':memory:') return;
  const absolute = resolve(path);
  if (absolute.startsWith('/proc/') || absolute.startsWith('/sys/') || absolute.startsWith('/dev/')) {
    throw new StoreError(path, 'unusable_path', 'is inside a kernel file system (/proc, /sys or /dev), where a database cannot live');
  }
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new StoreError(path, 'unusable_path', 'is a directory (expected a database file path inside it, e.g. DIR/gauntlet.db)');
  } catch (error) {
    throw storeErrorFrom(path, error, 'looking at the path');
  }
}

/** What commands that only read may still do with a store a writing command is refused. */
const READERS_STILL_CAN = 'commands that only read it (runs, show, export, compare) still can';

/** Refuses a store whose schema `version` is newer than this Gauntlet's steps reach. */
function refuseNewer(path: string, version: number, steps: readonly StoreMigration[]): void {
  const latest = latestVersion(steps);
  if (version > latest) throw new StoreError(path, 'newer_version', `was written by a newer Gauntlet (store schema ${version}; this version reads ${latest} or older)`);
}

/** Opens (creating if needed) and migrates the store file, or fails with one StoreError naming the path and the problem. */
function openDatabase(path: string, options: StoreOptions): Database.Database {
  refuseUnusablePath(path);
  const memory = path === ':memory:';
  if (!memory) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw storeErrorFrom(path, error, 'creating its directory');
    }
    // Said before SQLite tries: it opens a file it may not write read-only without a word.
    if (!writable(dirname(path))) throw new StoreError(path, 'read_only', `cannot write it: its directory ${dirname(path)} is read-only (SQLite keeps its write-ahead log beside the file); ${READERS_STILL_CAN}`);
    if (existsSync(path) && !writable(path)) throw new StoreError(path, 'read_only', `cannot write it: the file is read-only; ${READERS_STILL_CAN}`);
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: OPEN_BUSY_MS });
    const opened = db;
    const steps = options.migrations ?? STORE_MIGRATIONS;
    whileBusy(OPEN_BUSY_MS, () => {
      // Before anything is written: switching to WAL alone changes another application's file.
      refuseForeignStore(opened, path, steps);
      opened.pragma('journal_mode = WAL');
      opened.pragma('synchronous = NORMAL');
      if (options.maxPageCount) opened.pragma(`max_page_count = ${Math.floor(options.maxPageCount)}`);
      refuseNewer(path, storedVersion(opened), steps);
      migrate(opened, steps);
    });
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof InputError) throw error;
    // SQLite cannot tell "cannot create the WAL next to the file" from other open failures.
    if (!memory && /^SQLITE_(CANTOPEN|READONLY)/.test((error as { code?: string }).code ?? '') && !writable(dirname(path))) {
      throw new StoreError(path, 'read_only', 'cannot write while opening the store: the file or its directory is read-only (SQLite keeps its journal beside the file)', { cause: error });
    }
    throw storeErrorFrom(path, error, 'opening the store');
  }
}

/** A copy of a store in a private temporary directory, read instead of the file; removed when the store closes. */
interface PrivateCopy {
  file: string;
  remove(): void;
}

/** The connection a reading store reads through, and the private copy behind it, if any. */
interface ReadConnection {
  db: Database.Database;
  copy: PrivateCopy | undefined;
  olderSchema: { stored: number; current: number } | null;
}

/**
 * Opens a store to read it without writing anything in or beside the file (design note:
 * docs/design/runs.md, "Reading a store"). In order:
 * - file and directory writable: an ordinary connection that refuses every write (query_only);
 *   SQLite's -wal and -shm come and go beside the file as for any reader, and a writer running
 *   meanwhile is seen;
 * - otherwise, where a writer's -wal and -shm are there already: a read-only connection through
 *   them (this SQLite build takes no `immutable` URI, and without them it cannot read a WAL store
 *   in place at all);
 * - otherwise a private copy of the file and its -wal: committed transactions still in the log
 *   are recovered from the copy, where reading the file alone would lose them.
 * A store of an older schema is read through a private copy too, migrated there: the file keeps
 * the version older Gauntlets read. Copies go to the temporary directory (TMPDIR), on disk rather
 * than in memory, since a store grows with every model call it holds.
 */
function openToRead(path: string, options: StoreOptions): ReadConnection {
  refuseUnusablePath(path);
  if (!existsSync(path)) throw new StoreError(path, 'unusable_path', 'no store file there (a command that only reads creates none)');
  const steps = options.migrations ?? STORE_MIGRATIONS;
  let db: Database.Database | null;
  try {
    db = openInPlace(path);
  } catch (error) {
    throw storeErrorFrom(path, error, 'opening the store to read it');
  }
  if (!db) return readCopy(path, steps);
  const inPlace = db;
  try {
    const version = whileBusy(OPEN_BUSY_MS, () => {
      refuseForeignStore(inPlace, path, steps);
      return storedVersion(inPlace);
    });
    refuseNewer(path, version, steps);
    if (version >= latestVersion(steps)) return { db: inPlace, copy: undefined, olderSchema: null };
    // A consistent snapshot (the log's commits included) into a private file, migrated there.
    const copy = privateCopy(path);
    try {
      if (!inPlace.readonly) inPlace.pragma('query_only = OFF'); // VACUUM INTO writes only the copy
      try {
        inPlace.prepare('VACUUM INTO ?').run(copy.file);
      } catch (error) {
        throw copyFailed(path, copy.file, error);
      }
      inPlace.close();
      return { ...openCopy(path, copy, steps), copy };
    } catch (error) {
      copy.remove();
      throw error;
    }
  } catch (error) {
    if (inPlace.open) inPlace.close();
    if (error instanceof InputError) throw error;
    throw storeErrorFrom(path, error, 'opening the store to read it');
  }
}

/** A connection that reads the file where it is, or null where that would need writing beside it. */
function openInPlace(path: string): Database.Database | null {
  if (writable(path) && writable(dirname(path))) {
    const db = new Database(path, { fileMustExist: true, timeout: OPEN_BUSY_MS });
    db.pragma('query_only = ON');
    return db;
  }
  if (!existsSync(`${path}-wal`) || !existsSync(`${path}-shm`)) return null;
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: OPEN_BUSY_MS });
  try {
    whileBusy(OPEN_BUSY_MS, () => storedVersion(db)); // SQLite opens the log and its index at the first read
    return db;
  } catch (error) {
    db.close();
    // The index or log cannot be opened (they went away, or may not be read): the copy reads the log.
    if (/^SQLITE_(CANTOPEN|READONLY)/.test((error as { code?: string }).code ?? '')) return null;
    throw error;
  }
}

/** Reads a private copy of the file and its -wal, migrated if it is older. */
function readCopy(path: string, steps: readonly StoreMigration[]): ReadConnection {
  const copy = privateCopy(path);
  try {
    const wal = `${path}-wal`;
    // A writer would have made a -shm beside the file, so none is expected; should one be at work, the copy is taken again.
    for (let attempt = 1; ; attempt++) {
      const before = fileStamp(path) + fileStamp(wal);
      copyInto(path, copy.file, path);
      if (existsSync(wal)) copyInto(wal, `${copy.file}-wal`, path);
      if (fileStamp(path) + fileStamp(wal) === before) break;
      if (attempt === 3) throw new StoreError(path, 'locked', 'kept changing while it was copied to be read (another process writes it); try again');
    }
    return { ...openCopy(path, copy, steps), copy };
  } catch (error) {
    copy.remove();
    if (error instanceof InputError) throw error;
    throw storeErrorFrom(path, error, 'reading a copy of it');
  }
}

/** Inode, size and change times of a file (';' when there is none): whether it changed while copied. */
function fileStamp(file: string): string {
  const stat = statSync(file, { throwIfNoEntry: false, bigint: true });
  return stat ? `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs};` : ';';
}

function copyInto(from: string, to: string, store: string): void {
  try {
    copyFileSync(from, to);
  } catch (error) {
    const { code, path } = error as NodeJS.ErrnoException;
    if (path === from) throw new StoreError(store, 'unusable_path', `cannot read ${from} (${code})`, { cause: error });
    throw copyFailed(store, to, error);
  }
}

/** A copy to read that could not be written: the temporary directory's problem, not the store's. */
function copyFailed(store: string, to: string, error: unknown): StoreError {
  const code = (error as { code?: string }).code ?? 'unknown';
  const full = ['ENOSPC', 'EDQUOT', 'SQLITE_FULL'].includes(code);
  return new StoreError(store, full ? 'full' : 'io', `cannot copy it to ${dirname(to)} to read it (${code}); set TMPDIR to a writable directory with room for the store`, { cause: error });
}

/** Opens a private copy, bringing it to this Gauntlet's schema; no write is allowed after that. */
function openCopy(path: string, copy: PrivateCopy, steps: readonly StoreMigration[]): Pick<ReadConnection, 'db' | 'olderSchema'> {
  const db = new Database(copy.file, { fileMustExist: true });
  try {
    refuseForeignStore(db, path, steps);
    const stored = storedVersion(db);
    refuseNewer(path, stored, steps);
    migrate(db, steps);
    db.pragma('query_only = ON');
    const current = latestVersion(steps);
    return { db, olderSchema: stored < current ? { stored, current } : null };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A new private temporary directory for a copy of the store at `path` (readable by this user only). */
function privateCopy(path: string): PrivateCopy {
  let dir: string;
  try {
    dir = mkdtempSync(join(tmpdir(), 'gauntlet-read-'));
  } catch (error) {
    throw new StoreError(path, 'io', `cannot make a directory in ${tmpdir()} for a copy to read (${(error as NodeJS.ErrnoException).code}); set TMPDIR to a writable directory with room for the store`, { cause: error });
  }
  // Also at exit, should a command end without closing the store.
  const remove = () => {
    process.off('exit', remove);
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', remove);
  return { file: join(dir, basename(path)), remove };
}

/** How long opening a store waits for other processes' locks. */
const OPEN_BUSY_MS = 5000;

/**
 * Runs `work` again while SQLite answers "busy", for up to `ms` in all. Several processes opening
 * one new file at once (switching it to WAL, applying migrations) can be told "busy" at once, not
 * after the busy timeout: SQLite does not wait where waiting could deadlock, or while another
 * connection recovers the WAL. Each step of `work` may run again (they are idempotent; each
 * migration re-reads the version under its lock).
 */
function whileBusy<T>(ms: number, work: () => T): T {
  const deadline = Date.now() + ms;
  for (let attempt = 0; ; attempt++) {
    try {
      return work();
    } catch (error) {
      if (!/^SQLITE_BUSY/.test((error as { code?: string }).code ?? '') || Date.now() >= deadline) throw error;
      // A short synchronous pause, growing, a little random so the processes do not retry in step.
      Atomics.wait(PAUSE, 0, 0, Math.min(200, 5 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
    }
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** Whether this process may write `path` (a file or a directory). */
export function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch (_error) {
    return false;
  }
}

export const DEFAULT_STORE_PATH = '.gauntlet/gauntlet.db';

export function openStore(path = DEFAULT_STORE_PATH, options?: StoreOptions): SqliteStore {
  return new SqliteStore(path, options);
}
