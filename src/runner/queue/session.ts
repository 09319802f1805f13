// One coordinator session of a queued run: enqueue what is missing, commit each result once,
// notice failed and lost jobs, ride out Redis outages (up to a limit), and end with the summary.
import type * as BullMQ from 'bullmq';
import type { Job, JobsOptions, Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeZodIssues, errorMessage, recordedSpend, StoreError, taskHash, type Run } from '../../core/index.ts';
import { rolloutSeed } from '../rollout.ts';
import { countFinished, InfraErrorStreak, summarise, type RunProgress } from '../run.ts';
import { FinishedRollouts } from './consumer.ts';
import { ANNOUNCED_KEY, BullmqConnections, endpointOf, QUEUE_PREFIX, REGISTRY_KEY, redisOptions, resultQueueName, rolloutQueueName, settlesWithin } from './connection.ts';
import type { QueuedRunOptions, QueuedRunSummary } from './coordinator.ts';
import { JOB_ATTEMPTS, QUEUE_PROTOCOL, ResultEnvelope, type RolloutJob } from './jobs.ts';
import { dropKeptResults, keepResult, keptResultsKey } from './kept.ts';
import { missingWork, type OpenedRun, type WorkItem } from './open-run.ts';
import { commitResult, decodeResult } from './replay.ts';
import { carriesSignature, resultRefusal, signed, type QueueKey } from './signing.ts';
import { tolerantWorker, unreadableReason } from './unreadable.ts';
import { FinishWindow } from './window.ts';

/**
 * A rollout job's name carries its run, so `queue cancel` finds a run's jobs by reading one short
 * field each instead of every payload (jobs of earlier versions are named `rollout` alone).
 */
export function rolloutJobName(runId: string): string {
  return `rollout:${runId}`;
}

function duration(ms: number): string {
  return ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/** How long closing waits on each Redis operation once Redis is gone. */
const OUTAGE_CLOSE_MS = 2000;
/** How long closing waits on each Redis operation while Redis seems fine (it answers in far less). */
const CLOSE_MS = 15_000;

export class QueueSession {
  readonly run: Run;
  readonly consumer: FinishedRollouts;
  readonly done: Promise<QueuedRunSummary>;
  private readonly options: QueuedRunOptions;
  private readonly opened: OpenedRun;
  private readonly client: Redis;
  private readonly now: () => number;
  private readonly started: number;
  private readonly endpoint: string;
  private readonly queueName: string;
  private readonly resultsName: string;
  private readonly byId: Map<string, WorkItem>;
  /** Rollouts enqueued in this session and not yet stored. */
  private readonly outstanding: Set<string>;
  /** Outstanding rollouts whose jobs failed every try, with why. */
  private readonly failedJobs = new Map<string, string>();
  private readonly counts = { duplicates: 0, requeued: 0, unreadableResults: 0 };
  private readonly window: FinishWindow;
  private readonly progress: RunProgress;
  private readonly rollouts: Queue;
  private readonly results: Queue;
  private readonly failures: QueueEvents;
  private readonly resultsWorker: Worker;
  private readonly connections = new BullmqConnections();
  private readonly notify: NonNullable<QueuedRunOptions['onQueue']>;
  /** With it, every job is signed and only results signed with it are stored. */
  private readonly key: QueueKey | undefined;
  private stopping = false;
  /** Workers serving the endpoint queue at the last check (null before the first). */
  private workersSeen: number | null = null;
  private failure: string | undefined;
  private readonly streak: InfraErrorStreak;
  private outageSince: number | null = null;
  /**
   * Since when, and why, Redis has refused the checks while still answering (out of memory with
   * `noeviction`, read-only, a missing permission): no outage by connection, but the run cannot go
   * on, so it is held to the same limit.
   */
  private refusing: { since: number; message: string } | null = null;
  private reconciling: Promise<void> | null = null;
  private again = false;
  /** Whether a full pass over a resumed run's outstanding rollouts has completed (a new run needs none). */
  private resumeChecked: boolean;
  /** A resume that runs again the rollouts stored as infra errors (`--retry-infra`). */
  private readonly retryingInfraErrors: boolean;
  /** What the (last) first pass over a resumed run did: rollouts it enqueued, and those Redis already held a job or result for. */
  private resumeFound = { enqueued: 0, inRedis: 0 };
  private ticker: NodeJS.Timeout | undefined;
  private resolveDone: (summary: QueuedRunSummary) => void = () => {};
  private rejectDone: (error: unknown) => void = () => {};
  private readonly onAbort = () => this.stop();

  constructor(init: { options: QueuedRunOptions; opened: OpenedRun; client: Redis; started: number; bullmq: typeof BullMQ }) {
    const { Queue, QueueEvents } = init.bullmq;
    const Worker = tolerantWorker(init.bullmq.Worker);
    this.options = init.options;
    this.opened = init.opened;
    this.client = init.client;
    this.started = init.started;
    this.now = init.options.now ?? Date.now;
    this.run = init.opened.run;
    this.notify = init.options.onQueue ?? (() => {});
    this.key = init.options.queue.key;
    this.resumeChecked = !('resume' in init.options.run);
    this.endpoint = endpointOf(this.run.config);
    this.queueName = rolloutQueueName(this.endpoint);
    this.resultsName = resultQueueName(this.run.id);
    this.streak = new InfraErrorStreak(this.run.config, this.run.id);
    const store = init.options.store;
    this.retryingInfraErrors = 'resume' in init.options.run && init.options.run.retryInfraErrors === true;
    const finished = store.finishedRolloutIds(this.run.id, { exceptInfraErrors: this.retryingInfraErrors });
    const work = missingWork(init.opened, finished);
    this.byId = new Map(work.map((w) => [w.rolloutId, w]));
    this.outstanding = new Set(this.byId.keys());
    this.window = new FinishWindow({ size: work.length, now: this.now });
    this.consumer = new FinishedRollouts({ window: this.window, store, rolloutIdAt: (p) => work[p]!.rolloutId });
    this.progress = { total: init.opened.tasks.length * this.run.config.epochs, done: finished.size, scored: 0, passed: 0, infraErrors: 0, errors: 0, tokens: 0 };
    const redis = init.options.queue.redis;
    this.rollouts = new Queue(this.queueName, { connection: redisOptions(redis), prefix: QUEUE_PREFIX });
    this.results = new Queue(this.resultsName, { connection: redisOptions(redis), prefix: QUEUE_PREFIX });
    this.failures = new QueueEvents(this.queueName, { connection: redisOptions(redis, { blocking: true }), prefix: QUEUE_PREFIX });
    // A result's commit is synchronous: a short lock, so a killed coordinator's result is taken up again soon.
    this.resultsWorker = new Worker(this.resultsName, (job) => this.processResult(job), {
      connection: redisOptions(redis, { blocking: true }),
      prefix: QUEUE_PREFIX,
      concurrency: 1,
      lockDuration: 15_000,
      stalledInterval: 5_000,
      autorun: false,
    });
    // Connection trouble surfaces as outages (below); these would otherwise be unhandled 'error' events.
    this.rollouts.on('error', () => {});
    this.results.on('error', () => {});
    this.failures.on('error', () => {});
    this.resultsWorker.on('error', () => {});
    this.client.on('error', () => {});
    for (const owner of [this.rollouts, this.results, this.failures, this.resultsWorker]) this.connections.keep(owner);
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
  }

  /** Starts consuming results and enqueues the missing rollouts (a resumed run: only those Redis holds nothing for). */
  async start(): Promise<void> {
    this.failures.on('failed', ({ jobId, failedReason }) => this.markFailed(jobId, failedReason));
    this.client.on('close', () => this.lostConnection());
    this.client.on('ready', () => this.regainedConnection());
    const { maxOutageMs = 300_000, checkMs = 30_000 } = this.options.queue;
    let lastCheck = this.now();
    this.ticker = setInterval(() => {
      if (this.outageSince !== null && this.now() - this.outageSince > maxOutageMs) {
        this.stop(`Redis at ${this.options.queue.redis.display} was unreachable for over ${duration(maxOutageMs)}; resume with --resume ${this.run.id}`);
      } else if (this.outageSince === null && this.refusing !== null && this.now() - this.refusing.since > maxOutageMs) {
        this.stop(`Redis at ${this.options.queue.redis.display} refused the run's commands for over ${duration(maxOutageMs)} (${this.refusing.message}); fix Redis and resume with --resume ${this.run.id}`);
      } else if (this.outageSince === null && this.now() - lastCheck >= checkMs) {
        lastCheck = this.now();
        void this.scheduleReconcile();
        void this.checkWorkers();
      }
    }, Math.min(1000, checkMs));
    this.options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (this.options.signal?.aborted) this.stop();
    try {
      this.options.onProgress?.(this.progress);
      void this.resultsWorker.run().catch((error: unknown) => this.stop(`results worker: ${errorMessage(error)}`));
      // Listening before anything is enqueued: a job a worker refuses at once fails within milliseconds.
      await this.failures.waitUntilReady();
      let found = { enqueued: this.byId.size, inRedis: 0 };
      if ('resume' in this.options.run) {
        await this.scheduleReconcile();
        found = this.resumeFound;
      } else {
        await this.register();
        const jobs = [...this.byId.values()].map((item) => this.jobFor(item));
        for (let i = 0; i < jobs.length; i += 500) await this.rollouts.addBulk(jobs.slice(i, i + 500));
        // Again once the jobs are there: a worker that let the queue go between the first
        // announcement and the jobs (it saw none yet) serves it again.
        await this.announce();
      }
      const limit = await this.rollouts.getGlobalRateLimit();
      const rateLimit = limit ? { max: limit.max, durationMs: limit.duration } : null;
      this.notify({ type: 'enqueued', count: found.enqueued, alreadyQueued: found.inRedis, queue: this.queueName, endpoint: this.endpoint, rateLimit, ...(this.key ? { signed: true } : {}) });
      this.settleIfDone();
    } catch (error) {
      this.stop(`enqueuing on ${this.options.queue.redis.display}: ${errorMessage(error)}`);
    }
  }

  private jobFor(item: WorkItem): { name: string; data: RolloutJob; opts: JobsOptions } {
    const config = this.run.config;
    const { store } = this.options;
    const firstAttempt = store.nextAttempt(item.rolloutId);
    // Read only for a rollout resumed after attempts of an earlier process.
    const earlier = firstAttempt > 1 ? store.attemptsSpend(item.rolloutId, firstAttempt) : undefined;
    const stored = firstAttempt > 1 && this.retryingInfraErrors ? store.getRollout(item.rolloutId) : null;
    const replaced = stored?.status === 'infra_error' ? recordedSpend(stored) : undefined;
    const data: RolloutJob = {
      protocol: QUEUE_PROTOCOL,
      runId: this.run.id,
      rolloutId: item.rolloutId,
      epoch: item.epoch,
      seed: rolloutSeed(config.seed, item.task.id, item.epoch, config.groupSize),
      firstAttempt,
      ...(earlier && earlier.attempts > 0 ? { earlier } : {}),
      ...(replaced ? { replaced } : {}),
      position: item.position,
      config,
      task: item.task,
      taskHash: taskHash(item.task),
      ...(this.run.environmentFiles?.[item.task.env] !== undefined ? { environmentFile: this.run.environmentFiles[item.task.env] } : {}),
      resultQueue: this.resultsName,
    };
    return {
      name: rolloutJobName(this.run.id),
      // Bound to the endpoint queue and the rollout's id: copied under another rollout, run or queue it is refused.
      data: this.key ? signed(this.key, 'job', { queue: this.queueName, jobId: item.rolloutId }, data) : data,
      // Failed jobs are kept a week, so `--resume` can retry them and people can see why.
      opts: { jobId: item.rolloutId, attempts: this.options.queue.jobAttempts ?? JOB_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: { age: 7 * 24 * 3600 } },
    };
  }

  /** Tells workers about the endpoint queue and sets (or lifts) its rate limit; repeated after Redis lost its data. */
  private async register(): Promise<void> {
    await this.client.hset(REGISTRY_KEY, this.queueName, this.endpoint);
    await this.announce();
    const limit = this.options.queue.rateLimit;
    if (limit) await this.rollouts.setGlobalRateLimit(limit.max, limit.durationMs);
    else if (limit === null) await this.rollouts.removeGlobalRateLimit();
  }

  /**
   * Says when the number of workers serving the endpoint queue changes while rollouts are
   * outstanding: a run whose workers all died (or never started) would otherwise wait in silence.
   */
  private async checkWorkers(): Promise<void> {
    if (this.stopping || this.outstanding.size === 0) return;
    let count: number;
    try {
      count = await this.rollouts.getWorkersCount();
    } catch {
      return; // Redis trouble is reported as an outage
    }
    if (count === this.workersSeen || this.stopping) return;
    this.workersSeen = count;
    this.notify({ type: 'workers', queue: this.queueName, count, outstanding: this.outstanding.size });
  }

  /** Tells workers that let this endpoint's queue go while it was idle to serve it again. */
  private async announce(): Promise<void> {
    await this.client.hincrby(ANNOUNCED_KEY, this.queueName, 1);
  }

  private lostConnection(): void {
    if (this.outageSince !== null) return;
    // Noted while stopping too: closing then waits less on Redis.
    this.outageSince = this.now();
    if (!this.stopping) this.notify({ type: 'outage', message: `lost the connection to ${this.options.queue.redis.display}` });
  }

  private regainedConnection(): void {
    if (this.outageSince === null || this.stopping) return;
    this.outageSince = null;
    this.notify({ type: 'reconnected' });
    void this.scheduleReconcile();
  }

  /**
   * Makes sure every outstanding rollout has a job or a result in Redis, enqueuing those with
   * neither. Checked in the order a worker leaves traces (job gone, then result gone, then stored),
   * so a rollout finishing meanwhile is never enqueued twice. At start (a resume), failed jobs and
   * results are tried again; later, a failed job means no worker could run it.
   */
  private async reconcile(initial: boolean): Promise<void> {
    await this.register();
    const found = { enqueued: 0, inRedis: 0 };
    if (initial) this.resumeFound = found;
    // A first pass counts every rollout the session began with: one stored since came from a result waiting in Redis.
    for (const rolloutId of initial ? [...this.byId.keys()] : [...this.outstanding]) {
      if (this.stopping || (!initial && this.failedJobs.has(rolloutId))) continue;
      const trace = await this.reconcileOne(rolloutId, initial);
      if (trace === 'enqueued') found.enqueued++;
      if (trace === 'in-redis') found.inRedis++;
    }
    if (found.enqueued > 0) await this.announce();
  }

  /** Checks one rollout for `reconcile`: what Redis held of it (a job or a result), or that it was enqueued now, or failed. */
  private async reconcileOne(rolloutId: string, initial: boolean): Promise<'in-redis' | 'enqueued' | 'failed'> {
    // Stored meanwhile, from a result that was waiting in Redis.
    if (!this.outstanding.has(rolloutId)) return 'in-redis';
    const state = await this.rollouts.getJobState(rolloutId);
    if (state === 'failed') {
      let job: Job | undefined;
      try {
        job = await this.rollouts.getJob(rolloutId);
      } catch (error) {
        // BullMQ parses the job's data to build it: data that is not JSON would fail every check of the run.
        if (!(error instanceof SyntaxError)) throw error;
        this.markFailed(rolloutId, `job ${rolloutId} failed, and its stored data is not JSON (${errorMessage(error)}): it cannot be retried`);
        return 'failed';
      }
      if (!initial || !job) {
        this.markFailed(rolloutId, job?.failedReason ?? 'failed');
        return 'failed';
      }
      // Signed as this coordinator signs now: a job refused for a missing or stale signature (the
      // key set or changed since) would be refused again as it was.
      if (this.key || carriesSignature(job.data)) await job.updateData(this.jobFor(this.byId.get(rolloutId)!).data);
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return 'enqueued';
    }
    if (state !== 'unknown' && state !== 'completed') return 'in-redis';
    const resultState = await this.results.getJobState(rolloutId);
    if (resultState === 'failed') await (await this.results.getJob(rolloutId))?.retry('failed');
    if (resultState !== 'unknown' || !this.outstanding.has(rolloutId) || this.storedForGood(rolloutId)) return 'in-redis';
    // A completed job whose result is gone: remove it so the id can be enqueued again.
    if (state === 'completed') await (await this.rollouts.getJob(rolloutId))?.remove();
    const job = this.jobFor(this.byId.get(rolloutId)!);
    await this.rollouts.add(job.name, job.data, job.opts);
    if (!initial) {
      this.counts.requeued++;
      this.notify({ type: 'requeued', rolloutId, reason: 'Redis held neither its job nor its result' });
    }
    return 'enqueued';
  }

  /** Whether the store holds the rollout's final row: one stored as an infra error is not, when this resume retries those. */
  private storedForGood(rolloutId: string): boolean {
    const stored = this.options.store.getRollout(rolloutId);
    return stored !== null && !(this.retryingInfraErrors && stored.status === 'infra_error');
  }

  /** Runs `reconcile` now, or once more after the one in progress. A resume's first full pass retries failed work. */
  private scheduleReconcile(): Promise<void> {
    if (this.reconciling) {
      this.again = true;
      return this.reconciling;
    }
    this.reconciling = (async () => {
      do {
        this.again = false;
        try {
          await this.reconcile(!this.resumeChecked);
          this.resumeChecked = true;
          this.refusing = null;
        } catch (error) {
          // Redis went away mid-check (the reconnect checks again), or answers with errors (timed by `refusing`).
          if (this.outageSince === null) {
            const message = errorMessage(error);
            if (this.refusing?.message !== message) this.notify({ type: 'outage', message: `checking jobs: ${message}` });
            this.refusing = { since: this.refusing?.since ?? this.now(), message };
          }
        }
      } while (this.again && !this.stopping);
      this.reconciling = null;
    })();
    return this.reconciling;
  }

  private markFailed(rolloutId: string, message: string, type: 'job_failed' | 'result_unreadable' = 'job_failed'): void {
    if (!this.outstanding.has(rolloutId) || this.failedJobs.has(rolloutId)) return;
    this.failedJobs.set(rolloutId, message);
    this.window.abandon(this.byId.get(rolloutId)!.position);
    this.notify({ type, rolloutId, message });
    this.consumer.notify();
    this.settleIfDone();
  }

  /** Stores a worker's result once; a second delivery of a stored rollout is counted and dropped. */
  private async processResult(job: Job): Promise<void> {
    if (this.stopping) throw new Error('the coordinator is stopping; the result stays in Redis for --resume');
    const envelope = ResultEnvelope.safeParse(job.data);
    if (!envelope.success) {
      const why = unreadableReason(job.data) ?? describeZodIssues(envelope.error.issues);
      return this.keepUnreadable(job, { rolloutId: job.id ?? '?', worker: null }, `is not a result of queue protocol ${QUEUE_PROTOCOL}: ${why}`);
    }
    // Before anything in it is believed: with the key, only a result signed for this run's queue and this job's rollout is read.
    const refusal = resultRefusal(this.key, job);
    if (refusal !== null) return this.keepUnreadable(job, { rolloutId: job.id ?? envelope.data.rolloutId, worker: envelope.data.worker }, refusal);
    const { rolloutId, worker, attempt } = envelope.data;
    const { store } = this.options;
    const stored = store.getRollout(rolloutId);
    const item = this.byId.get(rolloutId);
    // A rollout stored as an infra error is outstanding again when the resume retries those: a newer attempt replaces it.
    const replaces = stored !== null && this.retryingInfraErrors && stored.status === 'infra_error' && attempt > stored.attempt;
    // Every rollout of the run is awaited or stored: a result for any other is no duplicate but a stray (another run's, or forged).
    if (!item && stored?.runId !== this.run.id) {
      return this.keepUnreadable(job, { rolloutId, worker }, `is for rollout ${rolloutId}, which is not one of run ${this.run.id}'s`);
    }
    if (!item || !this.outstanding.has(rolloutId) || (stored && !replaces)) {
      this.counts.duplicates++;
      this.notify({ type: 'duplicate', rolloutId, attempt, storedAttempt: stored?.attempt ?? null, worker });
      return;
    }
    let decoded;
    try {
      decoded = decodeResult(JSON.parse(envelope.data.payload), { runId: this.run.id, rolloutId: item.rolloutId, taskId: item.task.id, epoch: item.epoch });
    } catch (error) {
      return this.keepUnreadable(job, { rolloutId, worker }, `cannot be decoded: ${errorMessage(error)}`);
    }
    try {
      commitResult(store, decoded);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      // Stop taking results; this one stays in Redis (failed) and --resume stores it.
      this.stop(error.message);
      throw error;
    }
    const { rollout } = decoded;
    this.outstanding.delete(rolloutId);
    this.failedJobs.delete(rolloutId);
    this.window.finish(item.position);
    countFinished(this.progress, rollout);
    this.options.onRollout?.({ type: 'finished', rollout, ...(replaces ? { replaced: recordedSpend(stored) } : {}) });
    this.options.onProgress?.(this.progress);
    // Workers keep running the jobs already in Redis; a resume stores what they finish meanwhile.
    const down = this.streak.observe(rollout);
    if (down && this.outstanding.size > 0) this.stop(down);
    this.consumer.notify();
    this.settleIfDone();
  }

  /**
   * Copies a result that cannot be stored aside (its job is then let go, freeing the rollout's id
   * for a good result) and reports it; its rollout counts as not run. When the copy fails, the job
   * fails instead and stays in Redis as it is.
   */
  private async keepUnreadable(job: Job, from: { rolloutId: string; worker: string | null }, why: string): Promise<void> {
    const { rolloutId, worker } = from;
    const what = `result job ${job.id ?? '?'}${worker === null ? '' : ` from worker ${worker}`} ${why}`;
    let entry: number;
    try {
      entry = await keepResult(this.client, this.run.id, this.results.toKey(job.id ?? '?'), { rolloutId, worker, reason: why, at: new Date(this.now()).toISOString() });
    } catch (error) {
      const message = `${what}; copying it aside failed (${errorMessage(error)}), so it stays in Redis as a failed result job`;
      this.reportUnreadable(rolloutId, message);
      throw new Error(message, { cause: error });
    }
    this.counts.unreadableResults++;
    const kept = `its data is kept in Redis (${keptResultsKey(this.run.id)}, field data:${entry}; \`gauntlet queue status\` lists it)`;
    const rollout = this.outstanding.has(rolloutId) ? `the rollout counts as not run (--resume ${this.run.id} runs it again)` : 'no rollout of this session waits for it';
    this.reportUnreadable(rolloutId, `${what}; ${kept}, and ${rollout}`);
  }

  /** Every unreadable result is reported, also one for a rollout already failed or not awaited (a duplicate). */
  private reportUnreadable(rolloutId: string, message: string): void {
    if (this.outstanding.has(rolloutId) && !this.failedJobs.has(rolloutId)) this.markFailed(rolloutId, message, 'result_unreadable');
    else this.notify({ type: 'result_unreadable', rolloutId, message });
  }

  /** Ends the session once every outstanding rollout is stored or has no worker left to run it. */
  private settleIfDone(): void {
    if ([...this.outstanding].every((id) => this.failedJobs.has(id))) this.stop();
  }

  /** Ends the session (after the current step: a result being processed finishes first). */
  private stop(reason?: string): void {
    if (reason) this.failure ??= reason;
    if (this.stopping) return;
    this.stopping = true;
    setImmediate(() => void this.finish());
  }

  private async finish(): Promise<void> {
    clearInterval(this.ticker);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    const { store } = this.options;
    // Commands wait for a Redis that is gone (BullMQ's blocking ones forever), so each wait is
    // bounded, briefly once Redis is known to be gone; whatever is still open after is ended.
    const outage = () => this.outageSince !== null;
    const bounded = (work: Promise<unknown> | null) => settlesWithin(outage() ? OUTAGE_CLOSE_MS : CLOSE_MS, work);
    try {
      await bounded(this.reconciling);
      // Workers stop taking this run's rollouts; results of running ones wait in Redis for --resume.
      if (this.options.signal?.aborted) await bounded(Promise.all([...this.outstanding].map((id) => this.rollouts.remove(id).catch(() => 0))));
      // In an outage, without waiting for Redis to hand back the blocking call.
      await bounded(this.resultsWorker.close(outage()));
      // Everything stored: the run's results queue, and the results kept aside from it, are of no further use.
      if (this.outstanding.size === 0 && !this.failure) {
        await bounded(this.results.obliterate({ force: true }));
        await bounded(dropKeptResults(this.client, this.run.id));
      }
      await bounded(Promise.all([this.failures.close(), this.rollouts.close(), this.results.close()]));
      // Left open, a connection a bounded wait gave up on would reconnect forever and keep the process alive.
      this.connections.disconnect();
      this.client.disconnect();
      let status: Run['status'] = this.options.signal?.aborted || this.failure || this.failedJobs.size > 0 ? 'interrupted' : 'finished';
      try {
        store.setRunStatus(this.run.id, status);
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        this.failure ??= error.message;
        status = 'interrupted';
      }
      this.consumer.end();
      const summary = summarise(this.run.id, status, store.rolloutOutcomes(this.run.id), { expected: this.progress.total, durationMs: this.now() - this.started, spent: store.runSpend(this.run.id) });
      const failed = [...this.failedJobs].map(([rolloutId, message]) => ({ rolloutId, message }));
      const jobFailure = failed.length > 0 ? `${failed.length} rollout${failed.length === 1 ? '' : 's'} could not be run by any worker (first: ${failed[0]!.message}); fix the workers and resume with --resume ${this.run.id}` : undefined;
      const message = this.failure ?? jobFailure;
      this.resolveDone({ ...summary, ...(message ? { failure: message } : {}), queue: { endpoint: this.endpoint, name: this.queueName, ...this.counts, failedJobs: failed } });
    } catch (error) {
      this.rejectDone(error);
    } finally {
      this.opened.lease.release();
    }
  }
}
