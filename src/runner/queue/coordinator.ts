// `gauntlet run --queue`: the coordinator. It opens the run in the store as the in-process runner
// does, enqueues every missing rollout on its model endpoint's queue, and commits the results that
// workers send back, each exactly once, whatever is delivered twice. Workers never see the store.
import { z } from 'zod';
import { InputError, parseInput, type Run, type Store } from '../../core/index.ts';
import { builtinCatalog, type EnvironmentCatalog, type ResolvedRun } from '../resolve.ts';
import type { RolloutEvent } from '../rollout.ts';
import type { RunNotes, RunProgress, RunSummary } from '../run.ts';
import { coordinatorConnected } from './cancel.ts';
import { bullmq, connectRedis, type RedisTarget } from './connection.ts';
import type { TakenBatch, TakeOptions } from './consumer.ts';
import { openRun } from './open-run.ts';
import { RateLimit } from './rate-limit.ts';
import { QueueSession } from './session.ts';
import { checkQueueTrust, QUEUE_KEY_VARIABLE, QueueKey } from './signing.ts';
import type { StalenessReport } from './window.ts';

export interface QueueSettings {
  redis: RedisTarget;
  /**
   * Rollouts started per window on this run's model endpoint, across every worker and every run on
   * it. The limit belongs to the endpoint and stays until changed: absent keeps what is set, null removes it.
   */
  rateLimit?: RateLimit | null;
  /** Redis unreachable for longer than this stops the run as interrupted (resume later). Default 5 minutes. */
  maxOutageMs?: number;
  /** How often every outstanding rollout is checked for a job or a result (a backstop; reconnects check at once). Default 30 s. */
  checkMs?: number;
  /** Tries a rollout's job gets when workers fail it (a missing key or environment there) before it is reported failed. Default 5. */
  jobAttempts?: number;
  /**
   * The key shared with the workers (`queueKeyFrom(env)`, GAUNTLET_QUEUE_KEY): every job is signed
   * with it and only results signed with it are stored. Without it Redis is trusted, which a Redis
   * beyond this machine must be told (`trustRedis`).
   */
  key?: QueueKey;
  /** Run unsigned (no `key`) on a Redis beyond loopback: anyone who can write to it can forge results. */
  trustRedis?: boolean;
}

/**
 * The settings beside the Redis target, checked before anything is created: a rate limit of 0 or
 * less is no limit at all to BullMQ, a huge window makes every worker's take fail, and an interval
 * of 0, a negative one or NaN spins or never checks.
 */
const QueueTimings = z.object({
  rateLimit: RateLimit.nullable().optional(),
  maxOutageMs: z.number().int('a whole number of milliseconds').min(1, 'at least 1 ms').optional(),
  checkMs: z.number().int('a whole number of milliseconds').min(10, 'at least 10 ms').optional(),
  jobAttempts: z.number().int('a whole number of tries').min(1, 'at least 1 try').max(1000, 'at most 1000 tries').optional(),
});

export type CoordinatorEvent =
  /** `count` rollouts enqueued now; `alreadyQueued` more (a resumed run's) had a job or a result waiting in Redis. */
  | { type: 'enqueued'; count: number; alreadyQueued: number; queue: string; endpoint: string; rateLimit: RateLimit | null; /** Jobs signed with the queue key (absent: unsigned). */ signed?: boolean }
  /** A result for a rollout already stored (`storedAttempt`): dropped. */
  | { type: 'duplicate'; rolloutId: string; attempt: number; storedAttempt: number | null; worker: string }
  | { type: 'requeued'; rolloutId: string; reason: string }
  /** A job no worker could run, or a result that could not be decoded (kept aside; the message says where). */
  | { type: 'job_failed'; rolloutId: string; message: string }
  /** A worker's result for the rollout that could not be decoded (kept aside in Redis; the rollout counts as not run). */
  | { type: 'result_unreadable'; rolloutId: string; message: string }
  /** The workers serving the run's endpoint queue, when their number changes while rollouts are outstanding (checked every `checkMs`). */
  | { type: 'workers'; queue: string; count: number; outstanding: number }
  | { type: 'outage'; message: string }
  | { type: 'reconnected' };

export interface QueuedRunOptions {
  store: Store;
  run: { resolved: ResolvedRun } | { resume: string; retryInfraErrors?: boolean };
  queue: QueueSettings;
  catalog?: EnvironmentCatalog;
  signal?: AbortSignal;
  onProgress?: (progress: RunProgress) => void;
  /** Hears each record stored (metrics): only `finished` events, since the rollouts run on workers. */
  onRollout?: (event: RolloutEvent) => void;
  onStart?: (run: Run, notes: RunNotes) => void;
  onQueue?: (event: CoordinatorEvent) => void;
  now?: () => number;
}

export interface QueuedRunSummary extends RunSummary {
  queue: {
    endpoint: string;
    name: string;
    /** Results delivered more than once (a stalled job run twice), stored once. */
    duplicates: number;
    /** Rollouts whose job and result Redis no longer held (a restart without persistence), enqueued again. */
    requeued: number;
    /**
     * Results that could not be decoded (not JSON, another protocol, failing their checks): kept
     * aside in Redis (`gauntlet queue status` lists them), their rollouts counted as not run.
     */
    unreadableResults: number;
    /** Rollouts no worker could run (their jobs failed every attempt, or their result could not be decoded); `--resume` retries them. */
    failedJobs: { rolloutId: string; message: string }[];
  };
}

export interface QueuedRun {
  readonly run: Run;
  /**
   * Resolves with `batch` finished rollouts (of any status) taken from the first `window` positions
   * not yet taken (see window.ts), or fewer once the run has ended.
   */
  takeFinished(request: { batch: number; window?: number; windowFraction?: number }, options?: TakeOptions): Promise<TakenBatch>;
  /** What the window allows and what the takes so far saw. */
  staleness(): StalenessReport;
  readonly done: Promise<QueuedRunSummary>;
}

/** Runs a run through the queue and returns its summary: `executeRun`'s shape, with the queue's figures added. */
export async function executeQueuedRun(options: QueuedRunOptions): Promise<QueuedRunSummary> {
  return (await startQueuedRun(options)).done;
}

export async function startQueuedRun(options: QueuedRunOptions): Promise<QueuedRun> {
  const { redis, key, trustRedis, ...timings } = options.queue;
  parseInput(QueueTimings, timings, 'queue settings');
  if (key !== undefined && !(key instanceof QueueKey)) throw new InputError('queue settings: key', `is a ${typeof key}`, `a QueueKey (queueKeyFrom(env) reads ${QUEUE_KEY_VARIABLE})`);
  checkQueueTrust({ redis, key, trustRedis, role: 'coordinator' });
  const started = (options.now ?? Date.now)();
  // Reach Redis before creating anything: a wrong URL must not leave a run behind.
  const client = await connectRedis(options.queue.redis, { name: 'gauntlet-coordinator' });
  let opened;
  try {
    // The store's lease keeps out a second coordinator on the same store file; one storing into a
    // copy of it (another machine) would split the run's results with the first and enqueue again
    // what the first stored, so a run whose results queue has a consumer is not resumed.
    if ('resume' in options.run && options.store.getRun(options.run.resume) && (await coordinatorConnected(client, options.run.resume))) {
      throw new InputError('run', `run ${options.run.resume} already has a coordinator taking its results from ${options.queue.redis.display} (another process or machine)`, 'one coordinator per run: stop the other (Ctrl-C or SIGTERM), then --resume');
    }
    opened = openRun({ store: options.store, run: options.run, catalog: options.catalog ?? builtinCatalog, started });
  } catch (error) {
    client.disconnect();
    throw error;
  }
  try {
    options.onStart?.(opened.run, opened.notes);
  } catch (error) {
    opened.lease.release();
    client.disconnect();
    throw error;
  }
  const session = new QueueSession({ options, opened, client, started, bullmq: await bullmq() });
  await session.start();
  return {
    run: session.run,
    takeFinished: (request, takeOptions) => session.consumer.take(request, takeOptions),
    staleness: () => session.consumer.staleness(),
    done: session.done,
  };
}
