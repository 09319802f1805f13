// Rollouts on worker threads. One event loop runs out of CPU long before a thousand rollouts run
// out of patience: each model call costs the harness and the environment about a millisecond of
// CPU. Threads each run a share of the rollouts (clients, environments, agent loops) and, with a
// store file, store them; the main thread keeps the run's bookkeeping (and stores what the
// threads send back when the store cannot be opened twice, in memory).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { errorMessage, InputError, StoreError, type AttemptsSpend, type Rollout, type Task } from '../../core/index.ts';
import type { DecodedResult } from '../queue/replay.ts';
import { threadModule } from './bundle.ts';
import type { FromThread, ThreadInit, ToThread } from './protocol.ts';

/** Below this many rollouts at once, one event loop keeps up and threads only add their start-up. */
export const AUTO_THREADS_FROM = 100;
/**
 * Threads cost CPU of their own (start-up, handing results over, a heap each) and ~200–250 MiB
 * each. On 2 cores shared with a local model server they bought nothing at 50 ms latency and
 * ~15% at 1 s (docs/design/throughput.md), so 'auto' uses them only where cores are to spare,
 * leaving one to the main thread.
 */
const AUTO_MIN_CORES = 4;
const MAX_AUTO_THREADS = 4;
export const MAX_THREADS = 64;

/** The number of rollout threads for `threads` ('auto' or a count; 0: in-process) at `inFlight` rollouts at once. */
export function threadCount(threads: number | 'auto', inFlight: number, cores = availableParallelism()): number {
  if (threads !== 'auto') return Math.min(threads, MAX_THREADS, inFlight);
  return inFlight >= AUTO_THREADS_FROM && cores >= AUTO_MIN_CORES ? Math.min(MAX_AUTO_THREADS, cores - 1) : 0;
}

/**
 * What a rollout thread hands back: the rollout as recorded, for the main thread to store; or the
 * rollout it stored itself (`storeFailure`: it could not); null when the run was cancelled mid-rollout.
 */
export type ThreadOutcome = DecodedResult | { stored: Rollout; storeFailure?: StoreError } | null;

/** A rollout thread ended (crashed, ran out of memory, exited): its rollouts in flight have no result. */
export class RolloutThreadDied extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RolloutThreadDied';
  }
}

interface Pending {
  resolve: (outcome: ThreadOutcome) => void;
  reject: (error: Error) => void;
}

class RolloutThread {
  readonly index: number;
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  failure: Error | null = null;
  /** The thread's nice level, where it could lower it (Linux). */
  niceness: number | undefined;
  private closed: (() => void) | null = null;

  constructor(options: { index: number; init: ThreadInit; bundle: URL | null }) {
    this.index = options.index;
    const common = { workerData: options.init, name: `gauntlet-rollouts-${options.index}` };
    // The bundle needs no TypeScript loader (so none is inherited); the sources do.
    this.worker = options.bundle ? new Worker(options.bundle, { ...common, execArgv: ['--enable-source-maps'] }) : new Worker(new URL('./entry.mjs', import.meta.url), common);
  }

  /** Resolves once the thread has built its clients; rejects with what stopped it. */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.worker.on('message', (message: FromThread) => {
        switch (message.kind) {
          case 'ready':
            this.niceness = message.niceness;
            return resolve();
          case 'init_failed':
            return reject(message.input ? new InputError(message.input.where, message.input.problem, message.input.expected) : withStack(new Error(message.message), message.stack));
          case 'result':
            this.pending.get(message.seq)?.resolve(message.result);
            this.pending.delete(message.seq);
            return;
          case 'stored':
            this.pending.get(message.seq)?.resolve(message.rollout && { stored: message.rollout, ...(message.storeFailure ? { storeFailure: storeErrorOf(message.storeFailure) } : {}) });
            this.pending.delete(message.seq);
            return;
          case 'failed':
            this.pending.get(message.seq)?.reject(withStack(new Error(message.message), message.stack));
            this.pending.delete(message.seq);
            return;
          case 'closed':
            this.closed?.();
            return;
        }
      });
      const fail = (error: Error) => {
        this.failure ??= error;
        reject(error);
        for (const p of this.pending.values()) p.reject(error);
        this.pending.clear();
        this.closed?.();
      };
      // A thread may throw anything at its top level (undefined, a string): Node hands it over as is.
      this.worker.on('error', (error: unknown) => fail(new RolloutThreadDied(`rollout thread ${this.index} failed: ${thrownMessage(error)}`, { cause: error })));
      this.worker.on('exit', (code) => fail(new RolloutThreadDied(`rollout thread ${this.index} exited (code ${code})`)));
    });
  }

  post(message: ToThread): void {
    this.worker.postMessage(message);
  }

  /** Asks the thread to finish (its rollouts are done by now) and close its clients; ends it if it does not. */
  async close(): Promise<void> {
    if (this.failure) return;
    await new Promise<void>((resolve) => {
      this.closed = resolve;
      this.post({ kind: 'close' });
    });
    await this.worker.terminate();
  }
}

/** A thread's StoreError, rebuilt on this side (its message already names the store). */
function storeErrorOf(failure: { path: string; problem: StoreError['problem']; message: string }): StoreError {
  const prefix = `store ${failure.path}: `;
  return new StoreError(failure.path, failure.problem, failure.message.startsWith(prefix) ? failure.message.slice(prefix.length) : failure.message);
}

function thrownMessage(error: unknown): string {
  if (error === undefined || error === null) return `it threw ${String(error)}`;
  try {
    return errorMessage(error);
  } catch {
    return 'it threw a value that cannot be printed';
  }
}

function withStack(error: Error, stack: string | undefined): Error {
  if (stack) error.stack = stack;
  return error;
}

export class RolloutThreads {
  private readonly threads: RolloutThread[];
  private seq = 0;

  private constructor(threads: RolloutThread[]) {
    this.threads = threads;
  }

  /** Starts `count` threads and waits until each has built its clients (a missing key is thrown here, as in-process). */
  static async start(options: { count: number; init: ThreadInit; /** 'sources' skips the bundle (what happens when it cannot be built). */ load?: 'bundle' | 'sources' }): Promise<RolloutThreads> {
    const bundle = options.load === 'sources' ? null : await threadModule();
    const threads = Array.from({ length: options.count }, (_, index) => new RolloutThread({ index, init: options.init, bundle }));
    const pool = new RolloutThreads(threads);
    try {
      await Promise.all(threads.map((t) => t.ready()));
    } catch (error) {
      await pool.terminate();
      throw error;
    }
    return pool;
  }

  /**
   * Runs one rollout on the least busy thread; null when the run was cancelled mid-rollout.
   * `earlier`: what the attempts before `firstAttempt` spent, from the main thread's store, for
   * threads that record into memory (without it their records count only their own attempts).
   */
  run(item: { task: Task; epoch: number; firstAttempt: number; earlier?: AttemptsSpend }): Promise<ThreadOutcome> {
    const thread = this.threads.reduce((best, t) => (t.pending.size < best.pending.size ? t : best));
    if (thread.failure) return Promise.reject(thread.failure);
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      thread.pending.set(seq, { resolve, reject });
      thread.post({ kind: 'rollout', seq, ...item });
    });
  }

  /** Each thread's nice level, where it could be lowered (Linux keeps one per thread). */
  get niceness(): (number | undefined)[] {
    return this.threads.map((t) => t.niceness);
  }

  abort(reason: string): void {
    for (const t of this.threads) if (!t.failure) t.post({ kind: 'abort', reason });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }

  /** Ends every thread now (after a failure: whatever they were doing is abandoned). */
  async terminate(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
