// A store's appends and rollout commits, written by a connection on a thread of its own. At a
// thousand concurrent rollouts in one process, SQLite's inserts and commits took ~8% of the main
// thread, which is also the thread that runs every rollout; here they cost it only the hand-over.
// Batches are written in the order they were handed over, one transaction each, and after the
// first failure none is written at all: a rollout row must never be stored without the calls
// and events of a batch before it.
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { CheckpointShare } from './checkpointer.ts';

/** A statement the thread prepares, by name, and the rows (parameter lists) to run through it. */
export interface WriterBatch {
  statements: readonly string[];
  params: readonly (readonly unknown[])[];
}

/** What the thread could not write, as plain data (SQLite's error code survives the crossing). */
export interface WriterFailure {
  message: string;
  code?: string;
}

interface Reply {
  seq: number;
  failure?: WriterFailure;
}

// CommonJS evaluated in the worker: it needs better-sqlite3 and nothing of ours, so no loader.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const progress = new Int32Array(workerData.progress);
const checkpoints = new Int32Array(workerData.checkpoints);
const replies = workerData.replies;
let db;
let statements;
let failed = null;
let givenBack = false;
const failureOf = (error) => ({ message: String((error && error.message) || error), ...(error && typeof error.code === 'string' ? { code: error.code } : {}) });
try {
  db = new Database(workerData.path, { fileMustExist: true, timeout: workerData.busyTimeoutMs });
  db.pragma('synchronous = NORMAL');
  if (workerData.maxPageCount) db.pragma('max_page_count = ' + workerData.maxPageCount);
  givenBack = Atomics.load(checkpoints, 2) === 1;
  if (!givenBack) db.pragma('wal_autocheckpoint = 0');
  statements = {};
  for (const [name, sql] of Object.entries(workerData.statements)) statements[name] = db.prepare(sql);
} catch (error) {
  failed = failureOf(error);
}
const write = db && statements && db.transaction((batch) => {
  for (let i = 0; i < batch.params.length; i++) statements[batch.statements[i]].run(...batch.params[i]);
});
workerData.requests.on('message', (message) => {
  if (message.kind === 'close') {
    workerData.requests.close();
    try { if (db) db.close(); } catch (_error) {}
    Atomics.store(progress, 1, 1);
    Atomics.notify(progress, 1);
    return;
  }
  if (!failed) {
    try {
      write(message.batch);
      // Commits are counted where the checkpoints are run (the store's checkpointer thread).
      if (!givenBack) {
        Atomics.add(checkpoints, 0, 1);
        if (Atomics.load(checkpoints, 2) === 1) {
          givenBack = true;
          db.pragma('wal_autocheckpoint = 1000');
        }
      }
    } catch (error) {
      failed = failureOf(error);
    }
  }
  replies.postMessage(failed ? { seq: message.seq, failure: failed } : { seq: message.seq });
  Atomics.store(progress, 0, message.seq);
  Atomics.notify(progress, 0);
});
`;

/** Index 0: the last batch written (or refused); index 1: set once the thread has closed its connection. */
const DONE = 0;
const CLOSED = 1;

export interface WriterThreadOptions {
  path: string;
  /** Statement SQL by name: batches name the statement of each row. */
  statements: Readonly<Record<string, string>>;
  checkpoints: CheckpointShare;
  maxPageCount?: number;
  /** How long the thread's connection waits for another writer's lock (the store's own: 5 s). */
  busyTimeoutMs?: number;
  /** The longest a synchronous wait for the thread lasts before the thread counts as lost. */
  maxWaitMs?: number;
}

/**
 * The writing thread, seen from the store's thread. `send` hands a batch over and returns at
 * once; `written` resolves (or rejects) once it is in the file; `settle` blocks until everything
 * handed over is, for reads and commits that must see it.
 */
export class WriterThread {
  private readonly worker: Worker;
  private readonly requests: MessagePort;
  private readonly replies: MessagePort;
  private readonly progress = new Int32Array(new SharedArrayBuffer(8));
  private seq = 0;
  private settled = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private readonly maxWaitMs: number;
  private failure: WriterFailure | undefined;
  /** The first batch that failed: every one from it on was refused. */
  private failedFrom = Infinity;
  /** The thread died or stopped answering: nothing handed over from now on reaches it. */
  private lost = false;
  private closed = false;
  /** Called once per batch with what became of it (in order), on the store's thread. */
  onSettled: ((seq: number, failure: WriterFailure | undefined) => void) | undefined;

  constructor(options: WriterThreadOptions) {
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
    const requests = new MessageChannel();
    const replies = new MessageChannel();
    this.requests = requests.port1;
    this.replies = replies.port1;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: {
        module: createRequire(import.meta.url).resolve('better-sqlite3'),
        path: options.path,
        statements: options.statements,
        maxPageCount: options.maxPageCount ?? 0,
        busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
        progress: this.progress.buffer,
        checkpoints: options.checkpoints.state,
        requests: requests.port2,
        replies: replies.port2,
      },
      transferList: [requests.port2, replies.port2],
    });
    this.worker.unref();
    this.replies.on('message', (reply: Reply) => this.take(reply));
    this.replies.unref();
    // A thread that dies answers nothing more: what waits on it fails instead of hanging.
    this.worker.on('error', (error) => this.lose(`the store's writer thread failed: ${error.message}`));
    this.worker.on('exit', (code) => this.lose(`the store's writer thread exited (code ${code})`));
  }

  /** Hands a batch over; its number, in the order batches are written. */
  send(batch: WriterBatch): number {
    const seq = ++this.seq;
    if (this.lost) {
      // Refused here, in order, as the thread would have.
      queueMicrotask(() => this.take({ seq, failure: this.failure }));
      return seq;
    }
    // Work handed over keeps the process alive until it is written, as a pending flush timer would.
    if (seq === this.settled + 1) this.replies.ref();
    this.requests.postMessage({ kind: 'batch', seq, batch });
    return seq;
  }

  /** Resolves once batch `seq` is in the file; rejects with why it is not. */
  written(seq: number): Promise<void> {
    if (seq <= this.settled) return seq >= this.failedFrom ? Promise.reject(errorOf(this.failure!)) : Promise.resolve();
    return new Promise((resolve, reject) => this.waiting.set(seq, { resolve, reject }));
  }

  /**
   * Blocks until every batch handed over is written or refused (after a failure the thread
   * refuses the rest at once), so no one awaiting a batch is left waiting; what failed, if anything.
   */
  settle(): WriterFailure | undefined {
    const deadline = Date.now() + this.maxWaitMs;
    while (this.settled < this.seq) {
      const done = Atomics.load(this.progress, DONE);
      // Replies of batches the thread has finished, taken now rather than on a later loop turn.
      for (let reply = receiveMessageOnPort(this.replies); reply; reply = receiveMessageOnPort(this.replies)) this.take(reply.message as Reply);
      if (this.settled >= this.seq) break;
      if (done > this.settled) continue;
      const left = deadline - Date.now();
      if (left <= 0) {
        this.lose(`the store's writer thread did not answer within ${this.maxWaitMs} ms`);
        break;
      }
      Atomics.wait(this.progress, DONE, done, Math.min(left, 1_000));
    }
    return this.failure;
  }

  /** Waits for what was handed over, then closes the thread's connection (before the store's own, so the log is folded in). */
  close(): WriterFailure | undefined {
    const failure = this.settle();
    if (this.closed) return failure;
    this.closed = true;
    this.requests.postMessage({ kind: 'close' });
    Atomics.wait(this.progress, CLOSED, 0, 5_000);
    this.requests.close();
    this.replies.close();
    void this.worker.terminate();
    return failure;
  }

  private take(reply: Reply): void {
    if (reply.seq <= this.settled) return;
    this.settled = reply.seq;
    if (this.settled === this.seq) this.replies.unref();
    if (reply.failure) {
      this.failure ??= reply.failure;
      this.failedFrom = Math.min(this.failedFrom, reply.seq);
    }
    this.onSettled?.(reply.seq, reply.failure);
    const waiter = this.waiting.get(reply.seq);
    if (!waiter) return;
    this.waiting.delete(reply.seq);
    if (reply.failure) waiter.reject(errorOf(reply.failure));
    else waiter.resolve();
  }

  private lose(message: string): void {
    if (this.closed || this.lost) return;
    this.lost = true;
    this.failure ??= { message };
    // Nothing more will answer: every batch still out fails, in order.
    for (let seq = this.settled + 1; seq <= this.seq; seq++) this.take({ seq, failure: this.failure });
  }
}

/** A failure as an Error with SQLite's code, as the connection would have thrown it. */
export function errorOf(failure: WriterFailure): Error {
  return Object.assign(new Error(failure.message), failure.code ? { code: failure.code } : {});
}
