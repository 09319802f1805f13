// Review statistics for a server: the store is read on the main thread (cheap), the bootstraps
// run in worker threads (the expensive part: 100,000 resamples of 2,000 labels took 65 s of
// main-thread time before the resampling was rewritten, and still take seconds), so every other
// request is answered meanwhile. Heavy requests are bounded: a few run, a few wait, the next is
// told to come back (`ReviewStatsBusy`). Answers are cached by what the bootstraps were given, so
// a new label, a retry or a deleted rollout changes the key instead of needing an invalidation.
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { alphaWithInterval, type AlphaEstimate } from './agreement.ts';
import { finishReviewStats, prepareReviewStats, type AlphaJob, type ReviewStats, type ReviewStatsOptions } from './stats.ts';

export type ToStatsThread = { id: number; jobs: readonly AlphaJob[] };
export type FromStatsThread = { id: number; ok: true; alphas: AlphaEstimate[] } | { id: number; ok: false; message: string };

/** Runs one set of bootstraps off the main thread. */
export type AlphaCompute = (jobs: readonly AlphaJob[]) => Promise<AlphaEstimate[]>;

export interface ReviewStatsServiceOptions {
  /** Heavy requests computed at once, each in its own thread (default 1: a small machine keeps a core for the server). */
  threads?: number;
  /** Heavy requests waiting for a thread; one more is refused with `ReviewStatsBusy` (default 4). */
  maxWaiting?: number;
  /** Answers kept for an unchanged store and query (default 32; 0 keeps none). */
  cacheEntries?: number;
  /**
   * Unit draws (pairable units × resamples, summed over the blocks) up to which the bootstrap runs
   * on the calling thread: some tens of milliseconds, less than handing it to a thread (default 500,000).
   */
  inlineDraws?: number;
  /** Where heavy bootstraps run (default: worker threads). Tests inject one they can hold. */
  compute?: AlphaCompute;
}

/** Refused because the heavy statistics already running and waiting are at their bound. */
export class ReviewStatsBusy extends Error {
  constructor(
    message: string,
    /** A guess at when a thread will be free, from the work ahead and the speed of the last bootstrap. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'ReviewStatsBusy';
  }
}

interface Waiting {
  jobs: AlphaJob[];
  draws: number;
  resolve: (alphas: AlphaEstimate[]) => void;
  reject: (error: Error) => void;
}

const drawsOf = (jobs: readonly AlphaJob[]) => jobs.reduce((sum, job) => sum + job.units.filter((u) => u.length >= 2).length * (job.options.resamples ?? 1000), 0);

export class ReviewStatsService {
  private readonly threads: number;
  private readonly maxWaiting: number;
  private readonly cacheEntries: number;
  private readonly inlineDraws: number;
  private readonly compute: AlphaCompute;
  private readonly pool: StatsThreadPool | null;
  private readonly cache = new Map<string, AlphaEstimate[]>();
  /** Bootstraps under way by key: the same query asked again joins the one running. */
  private readonly inFlight = new Map<string, Promise<AlphaEstimate[]>>();
  private readonly queue: Waiting[] = [];
  private readonly runningDraws = new Set<number>();
  private nextRun = 0;
  /** Draws per second of the last heavy bootstrap, for Retry-After; a cautious guess until one finished. */
  private drawsPerSecond = 10_000_000;
  private closed = false;

  constructor(options: ReviewStatsServiceOptions = {}) {
    const count = (name: 'threads' | 'maxWaiting' | 'cacheEntries' | 'inlineDraws', fallback: number, min: number) => {
      const value = options[name] ?? fallback;
      if (!Number.isSafeInteger(value) || value < min) throw new Error(`review stats: ${name} is ${value} (expected a whole number, ${min} or more)`);
      return value;
    };
    this.threads = count('threads', 1, 1);
    this.maxWaiting = count('maxWaiting', 4, 0);
    this.cacheEntries = count('cacheEntries', 32, 0);
    this.inlineDraws = count('inlineDraws', 500_000, 0);
    this.pool = options.compute ? null : new StatsThreadPool();
    this.compute = options.compute ?? ((jobs) => this.pool!.run(jobs));
  }

  /** Heavy bootstraps computing now, and waiting for a thread. */
  get running(): number {
    return this.runningDraws.size;
  }
  get waiting(): number {
    return this.queue.length;
  }

  /** The same answer `reviewStats` gives, with heavy bootstraps off this thread. */
  async stats(options: ReviewStatsOptions): Promise<ReviewStats> {
    const prepared = prepareReviewStats(options);
    const { jobs } = prepared;
    const draws = drawsOf(jobs);
    if (draws <= this.inlineDraws) return finishReviewStats(prepared, jobs.map((job) => alphaWithInterval(job.units, job.options)));
    const key = createHash('sha256').update(JSON.stringify(jobs)).digest('hex');
    const cached = this.cache.get(key);
    if (cached) {
      // Most recently used last: the oldest is the first evicted.
      this.cache.delete(key);
      this.cache.set(key, cached);
      // A copy, as for every answer from shared work: a caller changing its answer cannot change the next one.
      return finishReviewStats(prepared, structuredClone(cached));
    }
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.schedule(jobs, draws);
      this.inFlight.set(key, pending);
      const settled = () => this.inFlight.delete(key);
      pending.then((alphas) => {
        settled();
        this.remember(key, alphas);
      }, settled);
    }
    return finishReviewStats(prepared, structuredClone(await pending));
  }

  /** Stops the threads; waiting requests fail, saying so. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiting of this.queue.splice(0)) waiting.reject(new Error('review stats: the server closed before this request got a thread'));
    await this.pool?.close();
  }

  private schedule(jobs: AlphaJob[], draws: number): Promise<AlphaEstimate[]> {
    if (this.closed) return Promise.reject(new Error('review stats: the service is closed'));
    if (this.running < this.threads) return this.start(jobs, draws);
    if (this.queue.length >= this.maxWaiting) {
      const ahead = [...this.runningDraws.values(), ...this.queue.map((w) => w.draws)].reduce((a, b) => a + b, 0) / this.threads;
      const seconds = Math.min(60, Math.max(1, Math.ceil(ahead / this.drawsPerSecond)));
      throw new ReviewStatsBusy(`review statistics: as many heavy requests as allowed are under way (${this.running} computing, ${this.queue.length} waiting); ask again later, or with fewer resamples`, seconds);
    }
    return new Promise((resolve, reject) => this.queue.push({ jobs, draws, resolve, reject }));
  }

  private start(jobs: AlphaJob[], draws: number): Promise<AlphaEstimate[]> {
    const run = this.nextRun++;
    this.runningDraws.add(run);
    const began = performance.now();
    const done = () => {
      this.runningDraws.delete(run);
      const next = this.queue.shift();
      if (next) this.start(next.jobs, next.draws).then(next.resolve, next.reject);
    };
    // A compute that throws instead of rejecting still frees its place.
    return new Promise<AlphaEstimate[]>((resolve) => resolve(this.compute(jobs))).then(
      (alphas) => {
        const seconds = (performance.now() - began) / 1000;
        if (seconds > 0.05) this.drawsPerSecond = draws / seconds;
        done();
        return alphas;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
  }

  private remember(key: string, alphas: AlphaEstimate[]): void {
    if (this.cacheEntries === 0) return;
    this.cache.set(key, alphas);
    while (this.cache.size > this.cacheEntries) this.cache.delete(this.cache.keys().next().value!);
  }
}

/** Idle threads kept for the next request; each runs one bootstrap at a time. */
class StatsThreadPool {
  private readonly idle: StatsThread[] = [];
  private readonly busy = new Set<StatsThread>();

  async run(jobs: readonly AlphaJob[]): Promise<AlphaEstimate[]> {
    const thread = this.idle.pop() ?? new StatsThread();
    this.busy.add(thread);
    try {
      return await thread.run(jobs);
    } finally {
      this.busy.delete(thread);
      if (thread.alive) this.idle.push(thread);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.idle.splice(0), ...this.busy].map((t) => t.close()));
  }
}

class StatsThread {
  private readonly worker = new Worker(new URL('./stats-thread.mjs', import.meta.url), { name: 'gauntlet-review-stats', execArgv: [] });
  private pending: { id: number; resolve: (alphas: AlphaEstimate[]) => void; reject: (error: Error) => void } | null = null;
  private nextId = 0;
  alive = true;

  constructor() {
    // An idle thread does not keep the process alive; one computing does, until it answers.
    this.worker.unref();
    this.worker.on('message', (message: FromStatsThread) => {
      const pending = this.pending;
      if (!pending || message.id !== pending.id) return;
      this.settle();
      if (message.ok) pending.resolve(message.alphas);
      else pending.reject(new Error(`review stats: ${message.message}`));
    });
    this.worker.on('error', (error) => this.fail(`failed: ${error.message}`));
    this.worker.on('exit', (code) => this.fail(`exited (code ${code}) before answering`));
  }

  run(jobs: readonly AlphaJob[]): Promise<AlphaEstimate[]> {
    if (!this.alive) return Promise.reject(new Error('review stats: the statistics thread is gone'));
    return new Promise((resolve, reject) => {
      this.pending = { id: this.nextId++, resolve, reject };
      this.worker.ref();
      this.worker.postMessage({ id: this.pending.id, jobs } satisfies ToStatsThread);
    });
  }

  async close(): Promise<void> {
    this.alive = false;
    await this.worker.terminate();
  }

  private settle(): void {
    this.pending = null;
    this.worker.unref();
  }

  private fail(reason: string): void {
    this.alive = false;
    const pending = this.pending;
    if (!pending) return;
    this.settle();
    pending.reject(new Error(`review stats: the statistics thread ${reason}`));
  }
}
