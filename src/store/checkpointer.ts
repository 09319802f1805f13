// Copies the store's write-ahead log back into the database file on a thread of its own. SQLite
// otherwise does this inside whichever commit pushes the log past ~4 MB: the committing thread
// copies the pages and syncs the file, which on a busy run is the main thread, stalled for tens of
// milliseconds at a time (about half the store's write time at a thousand concurrent rollouts).
// Copying alone never empties the log: SQLite starts it again from the top only when a writer
// finds every frame copied, which a run committing every few ms seldom allows, so the thread also
// empties it once it has grown (a run of 30k model calls otherwise left a 400 MB log beside a
// 120 MB store, growing with the run, and a log a long reader held up stayed that size).
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

export interface CheckpointerOptions {
  db: Database.Database;
  path: string;
  /** A log this large means SQLite's own checkpoints have begun (~4 MB); from then on they happen off the main thread. */
  takeOverAtBytes?: number;
  /** How often the log's size is looked at before taking over: a stat every this many commits. */
  lookEveryCommits?: number;
  everyMs?: number;
  /** A log file this large is emptied (truncated) whenever no other connection is in the way at that moment. */
  resetAtBytes?: number;
  /** A log this large that cannot be emptied is warned about, once until it is: a reader holding it is the usual cause. */
  warnAtBytes?: number;
}
/** How long closing waits for the thread to let go of the database, so the log is folded in and removed. */
const CLOSE_WAIT_MS = 2_000;

// Runs in the worker: a second connection that checkpoints when the main thread has committed
// since the last look. PASSIVE never blocks a writer or reader; it copies what it can. Past
// resetAtBytes, TRUNCATE also empties the log; this connection has no busy timeout, so it only
// does that when no writer holds the lock and no reader still reads the log at that moment, and
// writers wait at most for the frames committed since the PASSIVE copy.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.module);
const state = new Int32Array(workerData.state);
const db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
const logBytes = () => statSync(workerData.path + '-wal', { throwIfNoEntry: false })?.size ?? 0;
// Not the count at start: commits made while the thread was starting need a checkpoint too.
let seen = -1;
let warned = false;
const timer = setInterval(() => {
  const commits = Atomics.load(state, 0);
  if (commits === seen) return;
  seen = commits;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    const bytes = logBytes();
    if (bytes < workerData.resetAtBytes) return;
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)');
    if (result.busy === 0) warned = false;
    else if (bytes >= workerData.warnAtBytes && !warned) {
      warned = true;
      parentPort.postMessage({ held: bytes });
    }
  } catch (error) {
    parentPort.postMessage({ failed: String(error && error.message || error) });
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  Atomics.store(state, 1, 1);
  Atomics.notify(state, 1);
  parentPort.close();
});
`;

/**
 * Index 0: commits so far (by every connection that shares the checkpoints); index 1: set once
 * the worker has closed; index 2: set when the checkpoints went back to SQLite's own.
 */
const COMMITS = 0;
const CLOSED = 1;
const GIVEN_BACK = 2;
const STATE_SLOTS = 3;

/**
 * What another thread's connection to the same store needs to leave its checkpoints to the
 * checkpointer: the shared counters (a SharedArrayBuffer, which threads share rather than copy).
 */
export interface CheckpointShare {
  state: SharedArrayBuffer;
}

export class Checkpointer {
  private commits = 0;
  private worker: Worker | undefined;
  private readonly state = new Int32Array(new SharedArrayBuffer(4 * STATE_SLOTS));
  private stopped = false;
  private readonly db: Database.Database;
  private readonly path: string;
  private readonly takeOverAtBytes: number;
  private readonly lookEveryCommits: number;
  private readonly everyMs: number;
  private readonly resetAtBytes: number;
  private readonly warnAtBytes: number;

  constructor(options: CheckpointerOptions) {
    this.db = options.db;
    this.path = options.path;
    this.takeOverAtBytes = options.takeOverAtBytes ?? 4 * 2 ** 20;
    this.lookEveryCommits = options.lookEveryCommits ?? 64;
    this.everyMs = options.everyMs ?? 200;
    this.resetAtBytes = options.resetAtBytes ?? 16 * 2 ** 20;
    this.warnAtBytes = options.warnAtBytes ?? 2 ** 30;
  }

  /** Whether checkpoints run on the thread now (diagnostics and tests). */
  get offThread(): boolean {
    return this.worker !== undefined;
  }

  /** After each write transaction: counts it, and takes the checkpoints over once the log has grown. */
  committed(): void {
    if (this.stopped) return;
    this.commits++;
    if (this.worker) {
      Atomics.add(this.state, COMMITS, 1);
      return;
    }
    if (this.commits % this.lookEveryCommits === 0 && logBytes(this.path) >= this.takeOverAtBytes) this.takeOver();
  }

  /**
   * Other threads of this process are about to write to the store through connections of their
   * own (rollout threads): the checkpoints move to the thread now, whatever the log's size, since
   * those commits are not seen here. Null when they cannot (the thread failed before).
   */
  share(): CheckpointShare | null {
    if (this.stopped) return null;
    if (!this.worker) this.takeOver();
    return { state: this.state.buffer as SharedArrayBuffer };
  }

  private takeOver(): void {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: {
        module: createRequire(import.meta.url).resolve('better-sqlite3'),
        path: this.path,
        state: this.state.buffer,
        everyMs: this.everyMs,
        resetAtBytes: this.resetAtBytes,
        warnAtBytes: this.warnAtBytes,
      },
    });
    // A thread that cannot checkpoint hands the job back to SQLite: the log must not grow unbounded.
    const giveBack = (why: string): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.stopped = true;
      Atomics.store(this.state, GIVEN_BACK, 1);
      this.db.pragma('wal_autocheckpoint = 1000');
      process.emitWarning(`store ${this.path}: checkpoints are back on the main thread (${why})`);
      void worker.terminate();
    };
    worker.on('message', (message: { failed?: string; held?: number }) => {
      if (message.failed) giveBack(message.failed);
      if (message.held !== undefined) {
        process.emitWarning(
          `store ${this.path}: its write-ahead log (${this.path}-wal) has grown to ${Math.round(message.held / 2 ** 20)} MiB and cannot be emptied while another connection keeps reading it: a read transaction held open (a long backup or check, a sqlite3 shell, a paused export) is the usual cause; the log is emptied once that reader ends`,
          { code: 'GAUNTLET_STORE_LOG' },
        );
      }
    });
    worker.on('error', (error) => giveBack(error.message));
    worker.on('exit', (code) => giveBack(`the thread exited with code ${code}`));
    // After the listeners: a 'message' listener refs the worker's port again.
    worker.unref();
    this.worker = worker;
    Atomics.add(this.state, COMMITS, 1);
    this.db.pragma('wal_autocheckpoint = 0');
  }

  /** Before the main connection closes: the worker lets go first, so closing folds the log in and removes it. */
  close(): void {
    this.stopped = true;
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    worker.postMessage('close');
    Atomics.wait(this.state, CLOSED, 0, CLOSE_WAIT_MS);
    void worker.terminate();
  }
}

/**
 * Another thread's connection to a store whose checkpoints run on the checkpointer's thread: it
 * checkpoints nothing itself and counts its commits there, until the checkpoints go back to
 * SQLite (the thread failed), when it lets SQLite checkpoint again as well.
 */
export class SharedCheckpoints {
  private readonly state: Int32Array;
  private readonly db: Database.Database;
  private givenBack = false;

  constructor(options: { db: Database.Database; share: CheckpointShare }) {
    this.db = options.db;
    this.state = new Int32Array(options.share.state);
    if (Atomics.load(this.state, GIVEN_BACK) === 1) this.giveBack();
    else this.db.pragma('wal_autocheckpoint = 0');
  }

  committed(): void {
    if (this.givenBack) return;
    Atomics.add(this.state, COMMITS, 1);
    if (Atomics.load(this.state, GIVEN_BACK) === 1) this.giveBack();
  }

  private giveBack(): void {
    this.givenBack = true;
    this.db.pragma('wal_autocheckpoint = 1000');
  }

  close(): void {}
}

function logBytes(path: string): number {
  return statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
}
