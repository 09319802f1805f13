// `gauntlet worker`: takes rollout jobs from every endpoint queue in Redis, runs each with the
// same `executeRollout` as the in-process runner (records buffered instead of stored), and sends
// the result to the run's results queue. A worker that dies mid-rollout leaves its job locked
// until the lock expires; BullMQ's stalled-job check then gives it to another worker.
import { hostname } from 'node:os';
import type * as BullMQ from 'bullmq';
import type { Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeZodIssues, errorMessage, InputError, rolloutIdFor, taskHash, type AttemptsSpend, type Rollout, type RunConfig } from '../../core/index.ts';
import { processClosing, type EpisodeDriver } from '../episode.ts';
import { configuredSecrets, gatewayModels, type ModelEnvironment } from '../model.ts';
import { builtinCatalog, type EnvironmentCatalog } from '../resolve.ts';
import type { EnvironmentDefinition } from '../../envs/index.ts';
import { executeRollout, rolloutSeed, type RolloutEvent } from '../rollout.ts';
import { resultPayload, RolloutBuffer } from './buffer.ts';
import { ModelClients } from './clients.ts';
import { ANNOUNCED_KEY, bullmq, BullmqConnections, connectRedis, QUEUE_PREFIX, REGISTRY_KEY, redisOptions, rolloutQueueName, settlesWithin, type RedisTarget } from './connection.ts';
import { QUEUE_PROTOCOL, RolloutJob, savedSpend, type ResultEnvelope } from './jobs.ts';
import { checkQueueTrust, checkSignature, jobRefusal, QUEUE_KEY_VARIABLE, QueueKey, signed } from './signing.ts';
import { tolerantWorker, unreadableReason } from './unreadable.ts';

export type WorkerEvent =
  | { type: 'serving'; queue: string; endpoint: string }
  /** An endpoint queue idle for `idleMs`, let go (its Redis connections closed) until a run enqueues there again. */
  | { type: 'released'; queue: string; endpoint: string }
  | { type: 'started'; rolloutId: string; taskId: string; epoch: number }
  | { type: 'finished'; rolloutId: string; status: Rollout['status']; durationMs: number }
  /** A job this worker could not complete; `final` when no attempt is left. */
  | { type: 'failed'; rolloutId: string; message: string; final: boolean }
  /** A running rollout given up by a stop (`close({ handBack: true })`), its job put back in the queue for any worker. */
  | { type: 'handed_back'; rolloutId: string }
  | { type: 'error'; message: string };

export interface QueueWorkerOptions {
  redis: RedisTarget;
  /** Rollouts in flight at once, per endpoint queue. */
  concurrency: number;
  catalog?: EnvironmentCatalog;
  /** Where this worker's API keys come from (never from the job). */
  modelEnvironment?: ModelEnvironment;
  /**
   * A job whose lock is not renewed for this long is taken to be abandoned (its worker died) and is
   * retried elsewhere: within a quarter of this more (see `STALL_CHECKS_PER_LOCK`). Default 30 s.
   */
  lockMs?: number;
  /** How often the registry of endpoint queues is read. */
  discoverMs?: number;
  /**
   * An endpoint queue with nothing waiting, running or delayed for this long is let go, so a
   * worker that runs for weeks does not hold a blocking connection for every endpoint ever used;
   * it is served again as soon as a run enqueues there. Default 10 minutes.
   */
  idleMs?: number;
  /** How often served queues are checked for idleness. Default 30 s (at most `idleMs`). */
  idleCheckMs?: number;
  graceMs?: number;
  now?: () => number;
  /** Shown in Redis client lists and in messages; `host:pid` by default. */
  name?: string;
  onEvent?: (event: WorkerEvent) => void;
  /** Hears each rollout this worker runs, and each result it sends (metrics); see RolloutEvent. */
  onRollout?: (event: RolloutEvent) => void;
  /** Plays the episodes of runs with an external agent (`config.agent`); without it, their jobs fail. */
  agents?: ExternalAgents;
  /**
   * How often a rollout's spend so far is saved with its job (as the job's progress), so that a
   * worker that dies mid-rollout leaves what it spent for the worker that takes the job over.
   * Default 5 s; 0 saves after every model or tool call.
   */
  spendSaveMs?: number;
  /**
   * The key shared with coordinators (GAUNTLET_QUEUE_KEY). With it the worker runs only jobs
   * signed with it, whatever a job says of itself, and signs its results and saved spend; without
   * it, it trusts Redis (which a Redis beyond this machine must be told, `trustRedis`) and refuses
   * only jobs that say their run requires the key.
   */
  key?: QueueKey;
  /** Run unsigned (no `key`) on a Redis beyond loopback: anyone who can write to it can make this worker call endpoints with its keys. */
  trustRedis?: boolean;
}

/**
 * Saves the latest spend with the job at most every `everyMs`, without waiting on Redis: a save
 * that fails (Redis away for a moment, the job already done) only loses what the next would carry.
 */
interface SpendSaver {
  update(spent: AttemptsSpend): void;
  /** Saves what was spent so far now (a hand-back's last word); resolves once Redis took it or refused. */
  flush(): Promise<void>;
  stop(): void;
}

function spendSaver(job: Job, everyMs: number, progressOf: (spent: AttemptsSpend) => object): SpendSaver {
  let latest: AttemptsSpend | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const save = () => {
    timer = undefined;
    if (!stopped && latest) void job.updateProgress(progressOf(latest)).catch(() => undefined);
  };
  return {
    update(spent) {
      latest = spent;
      if (timer || stopped) return;
      timer = setTimeout(save, everyMs);
      timer.unref();
    },
    async flush() {
      clearTimeout(timer);
      timer = undefined;
      if (!stopped && latest) await job.updateProgress(progressOf(latest)).catch(() => undefined);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** A job being run, with what a hand-back needs: the rollout's own stop, and its spend so far. */
interface HeldJob {
  readonly stop: AbortController;
  /** `finishing` once its rollout ended (its result on its way): too late to hand back. */
  state: 'running' | 'finishing' | 'handed_back';
  saver?: SpendSaver;
}

/**
 * External agent programs, for the runs that name one: the CLI installs them and starts their
 * gateways (modules above the runner), so the worker only asks. Owned by the caller, who closes it.
 */
export interface ExternalAgents {
  /** The driver that plays episodes with the run's agent through a gateway in front of its model; equal settings share one. */
  driverFor(config: RunConfig): Promise<EpisodeDriver>;
  /**
   * Told once the rollout that got a driver from `driverFor(config)` is done with it, however it
   * ended: a driver no rollout holds may be let go (its gateway closed) until a job needs it again.
   */
  release?(config: RunConfig): void;
}

export interface QueueWorker {
  readonly name: string;
  /** The endpoint queues this worker takes jobs from. */
  serving(): string[];
  /**
   * Stops taking jobs and waits for running rollouts. `handBack` cancels them instead and puts each
   * job back in the queue at once, with what it spent so far, so other workers take them without
   * waiting out the stall timeout (a rollout already sending its result finishes); it may be asked
   * while a plain close waits. `force` abandons them (their jobs stall, then go to other workers).
   */
  close(options?: { force?: boolean; handBack?: boolean }): Promise<void>;
  /**
   * Resolves once no endpoint queue in the registry has had anything waiting, running or delayed
   * for `forMs` (looked at every `checkMs`, default a fifth of it, at most 5 s; `onCheck` hears
   * what each look counted); never, once the worker closes. For workers that should end when the
   * work does (a batch job, a spot machine).
   */
  whenIdle(forMs: number, options?: { checkMs?: number; onCheck?: (pending: number) => void }): Promise<void>;
}

/** How often a job may stall (its worker died) before it is failed rather than retried again. */
const MAX_STALLS = 3;
/**
 * Stalled-job checks per lock duration. BullMQ takes a job at a check that finds its lock expired
 * only if an earlier check found it running since its last renewal (a renewal, every half lock,
 * unmarks it): with a check every lock duration that took up to twice it after the last renewal;
 * with four, at most a quarter more than the lock duration.
 */
const STALL_CHECKS_PER_LOCK = 4;
/** A run's results queue unused this long is let go (the run has most likely ended). */
const RESULT_QUEUE_IDLE_MS = 10 * 60_000;
/** How long a stop waits on Redis once running rollouts are done: a Redis that answers takes far less. */
const CLOSE_MS = 5000;
/**
 * Refusals of a Redis that is up but cannot take a write for now (out of memory with
 * `noeviction`, a replica mid-failover, loading, a busy script). A finished rollout's result
 * waits them out: failing its job would run the whole rollout again, and spend again, for a
 * result that would be refused the same way.
 */
const PASSING_REFUSAL = /^(OOM|READONLY|LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;
/** The longest wait between tries of a refused result. */
const RESEND_MAX_MS = 5000;

function jsonEscaped(secret: string): string {
  return JSON.stringify(secret).slice(1, -1);
}

/** Replaces this worker's configured API keys (and its queue key) wherever they appear in the result's JSON text. */
function scrubber(env: Record<string, string | undefined>, key: QueueKey | undefined): (json: string) => string {
  const secrets = configuredSecrets(env).filter((s) => s.length >= 4).map(jsonEscaped);
  return (json) => {
    const scrubbed = secrets.reduce((text, secret) => (text.includes(secret) ? text.split(secret).join('***') : text), json);
    return key ? key.redact(scrubbed) : scrubbed;
  };
}

/**
 * A job's failure message is stored in Redis (and read by coordinators and `queue status`): it
 * carries no API key of this worker's, whatever the error said. The error keeps its class, so an
 * unrecoverable one is still not retried.
 */
function scrubbedFailures<A extends unknown[], R>(process: (...args: A) => Promise<R>, scrub: (text: string) => string): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await process(...args);
    } catch (error) {
      if (!(error instanceof Error)) throw new Error(scrub(String(error)), { cause: error });
      const message = scrub(error.message);
      if (message !== error.message) {
        error.message = message;
        if (error.stack) error.stack = scrub(error.stack);
      }
      throw error;
    }
  };
}

/**
 * The job's environment from this worker's catalog; one the run loaded from a file this worker was
 * not given is refused naming that file.
 */
function environmentOn(catalog: EnvironmentCatalog, env: string, file: string | undefined): EnvironmentDefinition {
  if (file !== undefined && !catalog.names().includes(env)) {
    throw new InputError('environment', `unknown environment "${env}" on this worker: the run loaded it from ${file}`, `the worker started with --env-module ${file}, or that file's path here in GAUNTLET_ENV_MODULES`);
  }
  return catalog.get(env);
}

/**
 * Checks that a job is one this worker can run as the coordinator meant it, signed as this
 * worker's key requires, before anything in it is read; anything else is a defect, not retried
 * (but a signed job on a worker without the key: another worker may hold it).
 */
function checkedJob(job: Job, UnrecoverableError: typeof BullMQ.UnrecoverableError, key: QueueKey | undefined): RolloutJob {
  const unreadable = unreadableReason(job.data);
  if (unreadable !== null) throw new UnrecoverableError(`job ${job.id ?? '?'} is not a rollout job of queue protocol ${QUEUE_PROTOCOL}: ${unreadable}`);
  const refusal = jobRefusal(key, job);
  if (refusal) throw refusal.final ? new UnrecoverableError(refusal.message) : new Error(refusal.message);
  const parsed = RolloutJob.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`job ${job.id ?? '?'} is not a rollout job of queue protocol ${QUEUE_PROTOCOL}:\n${describeZodIssues(parsed.error.issues)}`);
  const data = parsed.data;
  const expected = {
    rolloutId: rolloutIdFor(data.runId, data.task.id, data.epoch),
    seed: rolloutSeed(data.config.seed, data.task.id, data.epoch, data.config.groupSize),
    taskHash: taskHash(data.task),
  };
  for (const field of ['rolloutId', 'seed', 'taskHash'] as const) {
    if (data[field] !== expected[field]) {
      throw new UnrecoverableError(`job ${job.id ?? '?'}: ${field} is ${data[field]} but this worker derives ${expected[field]} (coordinator and worker run different Gauntlet code)`);
    }
  }
  return data;
}

export async function startWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const catalog = options.catalog ?? builtinCatalog;
  const modelEnvironment = options.modelEnvironment ?? { env: process.env };
  const now = options.now ?? Date.now;
  const lockMs = options.lockMs ?? 30_000;
  const emit = options.onEvent ?? (() => {});
  const { key } = options;
  if (key !== undefined && !(key instanceof QueueKey)) throw new InputError('worker options: key', `is a ${typeof key}`, `a QueueKey (queueKeyFrom(env) reads ${QUEUE_KEY_VARIABLE})`);
  checkQueueTrust({ redis: options.redis, key, trustRedis: options.trustRedis, role: 'worker' });
  const scrub = scrubber(modelEnvironment.env, key);
  const registry = await connectRedis(options.redis, { name: `gauntlet-worker-registry:${name}` });
  const bull = await bullmq();
  const { Queue, UnrecoverableError, WaitingError } = bull;
  const Worker = tolerantWorker(bull.Worker);
  registry.on('error', () => {});
  // Results are added through one connection that waits out a Redis restart rather than failing the job.
  const resultsClient: Redis = registry.duplicate({ connectionName: `gauntlet-worker-results:${name}`, maxRetriesPerRequest: null });
  resultsClient.on('error', () => {});
  const resultQueues = new Map<string, { queue: Queue; usedAt: number }>();
  const clients = new ModelClients({ environment: modelEnvironment });
  const workers = new Map<string, { worker: Worker; endpoint: string }>();
  const connections = new BullmqConnections();
  /** Rollouts being run (with their results being sent), so a stop can wait for them and no longer. */
  const running = new Set<Promise<unknown>>();
  /** Jobs being run, each with the way to hand it back. */
  const holding = new Map<HeldJob, () => Promise<void>>();
  /** Handed-back rollouts still stopping: their sandboxes and clients go before the worker closes. */
  const windingDown = new Set<Promise<unknown>>();
  /** Queues let go while idle, with the announcement counter they had then. */
  const released = new Map<string, string>();
  const idleSince = new Map<string, number>();
  const idleMs = options.idleMs ?? 10 * 60_000;
  let closing = false;
  /** A forced stop: results waiting for Redis to take them are given up (their jobs go to other workers). */
  let abandoning = false;
  let lastError = '';
  /** Registry entries a keyed worker would not serve, already reported. */
  const refusedEntries = new Set<string>();

  const resultQueue = (queueName: string): Queue => {
    const at = Date.now();
    for (const [name, entry] of resultQueues) {
      if (at - entry.usedAt < RESULT_QUEUE_IDLE_MS) continue;
      resultQueues.delete(name);
      void entry.queue.close().catch(() => undefined);
    }
    let entry = resultQueues.get(queueName);
    if (!entry) {
      const queue = new Queue(queueName, { connection: resultsClient, prefix: QUEUE_PREFIX });
      queue.on('error', () => {});
      entry = { queue, usedAt: at };
      resultQueues.set(queueName, entry);
    }
    entry.usedAt = at;
    return entry.queue;
  };

  /** Adds a result, trying again while Redis refuses writes for a passing reason; other failures fail the job. */
  const sendResult = async (queueName: string, envelope: ResultEnvelope): Promise<void> => {
    for (let waitMs = 100; ; waitMs = Math.min(2 * waitMs, RESEND_MAX_MS)) {
      try {
        // The result's job id is the rollout's: a second delivery while the first waits is dropped by Redis itself.
        await resultQueue(queueName).add('result', envelope, { jobId: envelope.rolloutId, removeOnComplete: true, removeOnFail: false, attempts: 1 });
        return;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        if (abandoning || !PASSING_REFUSAL.test(reason)) throw error;
        const message = `sending the result of ${envelope.rolloutId}: Redis refuses it (${reason}); trying again until it takes it (the rollout is not run again)`;
        if (message !== lastError) emit({ type: 'error', message });
        lastError = message;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  };

  /** Where the job's saved spend (a dead holder's) goes: signed by a keyed worker, for the next holder to check. */
  const progressOf = (job: Job) => (spent: AttemptsSpend): object => (key ? signed(key, 'progress', { queue: job.queueName, jobId: job.id ?? '' }, { spent }) : { spent });

  /** The spend an earlier holder saved with the job; a keyed worker counts it only when signed with its key, and says so otherwise. */
  const heldSpend = (job: Job, data: RolloutJob): AttemptsSpend | undefined => {
    const saved = savedSpend(job.progress);
    if (!saved || !key || checkSignature(key, 'progress', { queue: job.queueName, jobId: job.id ?? '' }, job.progress) === 'valid') return saved;
    emit({ type: 'error', message: `rollout ${data.rolloutId} of run ${data.runId}: the spend saved with its job is not signed with this worker's ${QUEUE_KEY_VARIABLE}, so it is not counted (the record counts what the coordinator sent and what this worker spends)` });
    return undefined;
  };

  const observe = options.onRollout ?? (() => {});
  const runJob = async (data: RolloutJob, job: Job, holder: HeldJob, signal: AbortSignal): Promise<{ attempt: number; status: Rollout['status'] }> => {
    const started = now();
    emit({ type: 'started', rolloutId: data.rolloutId, taskId: data.task.id, epoch: data.epoch });
    const agent = data.config.agent;
    if (agent && !options.agents) throw new UnrecoverableError(`rollout ${data.rolloutId}: its run plays episodes with the external agent ${agent.name}, and this worker was started without external agents (\`gauntlet worker\` has them)`);
    const driver = agent ? await options.agents!.driverFor(data.config) : undefined;
    const releaseDriver = () => void (driver && options.agents!.release?.(data.config));
    const lease = await clients.acquire(data.config).catch((error: unknown) => {
      releaseDriver();
      throw error;
    });
    // A holder before this one that died mid-rollout saved what it spent (the job's earlier spend
    // included). Its attempts never reached the store: this one numbers its own after them.
    const saved = heldSpend(job, data);
    const held = saved && saved.attempts >= data.firstAttempt ? saved : undefined;
    const firstAttempt = held ? held.attempts + 1 : data.firstAttempt;
    const earlier = held ?? data.earlier;
    const saver = spendSaver(job, options.spendSaveMs ?? 5000, progressOf(job));
    holder.saver = saver;
    try {
      const buffer = new RolloutBuffer({ runId: data.runId, rolloutId: data.rolloutId, firstAttempt, ...(earlier ? { earlier } : {}) });
      const rollout = await executeRollout(
        {
          runId: data.runId,
          config: data.config,
          store: buffer,
          model: lease.model,
          ...(lease.judge ? { judge: lease.judge } : {}),
          ...(lease.judges ? { judges: lease.judges } : {}),
          ...(lease.user ? { user: lease.user } : {}),
          ...(data.config.gateway ? { attemptModel: gatewayModels(data.config, modelEnvironment)! } : {}),
          ...(driver ? { driver } : {}),
          environment: (env) => environmentOn(catalog, env, data.environmentFile),
          now,
          sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
          graceMs: options.graceMs ?? 10_000,
          signal,
        },
        data.task,
        data.epoch,
        { onSpent: saver.update },
      );
      // Only a stop of this worker ends a rollout without a record; the job is then retried elsewhere.
      if (!rollout) throw new Error(`worker ${name} stopped during rollout ${data.rolloutId}`);
      // Handed back while it finished: another worker runs it now, and delivers its result.
      if (holder.state === 'handed_back') throw new Error(`worker ${name} handed rollout ${data.rolloutId} back`);
      holder.state = 'finishing';
      const result: ResultEnvelope = { protocol: QUEUE_PROTOCOL, rolloutId: data.rolloutId, attempt: rollout.attempt, worker: name, payload: scrub(resultPayload(buffer.result(rollout))) };
      // Bound to the run's results queue and the rollout: it cannot be stored under another.
      const envelope = key ? signed(key, 'result', { queue: data.resultQueue, jobId: data.rolloutId }, result) : result;
      await sendResult(data.resultQueue, envelope);
      emit({ type: 'finished', rolloutId: data.rolloutId, status: rollout.status, durationMs: now() - started });
      observe({ type: 'finished', rollout, ...(data.replaced ? { replaced: data.replaced } : {}) });
      return { attempt: rollout.attempt, status: rollout.status };
    } finally {
      saver.stop();
      lease.release();
      releaseDriver();
    }
  };

  /** Moves a job this worker holds back to waiting; why not, if Redis refused or did not answer within CLOSE_MS. */
  const moveBack = (job: Job, token: string | undefined): Promise<string | undefined> => {
    const moved = job.moveToWait(token).then(
      () => undefined,
      (error: unknown) => errorMessage(error),
    );
    return Promise.race([moved, new Promise<string>((resolve) => setTimeout(resolve, CLOSE_MS, `Redis did not answer within ${CLOSE_MS} ms`).unref())]);
  };

  const processJob = async (job: Job, token?: string, signal?: AbortSignal): Promise<{ attempt: number; status: Rollout['status'] }> => {
    const data = checkedJob(job, UnrecoverableError, key);
    // BullMQ can still hand over a job it was fetching when the stop began (a handed-back one
    // too): a stopping worker starts nothing, and puts it straight back.
    if (closing) {
      const failure = await moveBack(job, token);
      throw failure === undefined ? new WaitingError() : new Error(`worker ${name} is stopping and could not put job ${job.id ?? '?'} back (${failure}); it goes to another worker once it stalls`);
    }
    const { env } = data.task;
    const held: HeldJob = { stop: new AbortController(), state: 'running' };
    observe({ type: 'started', env });
    const run = (async () => {
      try {
        return await runJob(data, job, held, signal ? AbortSignal.any([signal, held.stop.signal]) : held.stop.signal);
      } finally {
        if (held.state === 'running') held.state = 'finishing';
        observe({ type: 'ended', env });
      }
    })();
    // Settles only when handed back: with WaitingError once the job is back in the queue, which
    // BullMQ takes as moved on purpose (no failure, no attempt used).
    const handedBack = new Promise<never>((_resolve, reject) => {
      holding.set(held, async () => {
        if (held.state !== 'running') return;
        held.state = 'handed_back';
        held.stop.abort(new Error(`worker ${name} is stopping and handed this rollout back`));
        // Saving waits on Redis, forever while it is down: bounded, as the move is, so a stop does not hang.
        await settlesWithin(CLOSE_MS, held.saver?.flush() ?? null);
        const failure = await moveBack(job, token);
        if (failure !== undefined) return reject(new Error(`worker ${name} could not hand rollout ${data.rolloutId} back (${failure}); its job goes to another worker once it stalls`));
        emit({ type: 'handed_back', rolloutId: data.rolloutId });
        reject(new WaitingError());
      });
    });
    try {
      return await Promise.race([run, handedBack]);
    } finally {
      holding.delete(held);
      if (held.state === 'handed_back') {
        const stopping = run.catch(() => undefined);
        windingDown.add(stopping);
        void stopping.then(() => windingDown.delete(stopping));
      }
    }
  };

  const tracked = <A extends unknown[], R>(process: (...args: A) => Promise<R>): ((...args: A) => Promise<R>) => {
    return (...args) => {
      const rollout = process(...args);
      running.add(rollout);
      const forget = () => void running.delete(rollout);
      rollout.then(forget, forget);
      return rollout;
    };
  };

  const serve = (queueName: string, endpoint: string) => {
    const worker = new Worker(queueName, tracked(scrubbedFailures(processJob, scrub)), {
      connection: redisOptions(options.redis, { blocking: true }),
      prefix: QUEUE_PREFIX,
      concurrency: options.concurrency,
      lockDuration: lockMs,
      stalledInterval: Math.max(1, Math.round(lockMs / STALL_CHECKS_PER_LOCK)),
      maxStalledCount: MAX_STALLS,
      name,
    });
    worker.on('error', (error) => {
      if (error.message !== lastError) emit({ type: 'error', message: `${queueName}: ${error.message}` });
      lastError = error.message;
    });
    worker.on('failed', (job, error) => {
      const final = !job || error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      emit({ type: 'failed', rolloutId: job?.id ?? '?', message: error.message, final });
    });
    connections.keep(worker);
    workers.set(queueName, { worker, endpoint });
    emit({ type: 'serving', queue: queueName, endpoint });
  };

  const discover = async () => {
    try {
      const [entries, announced] = await Promise.all([registry.hgetall(REGISTRY_KEY), registry.hgetall(ANNOUNCED_KEY)]);
      for (const [queueName, endpoint] of Object.entries(entries)) {
        if (closing || workers.has(queueName)) continue;
        // Every job there is authenticated, but the name is not: a keyed worker takes from endpoint
        // queues only, never (say) a run's results queue that a forged entry names.
        if (key && queueName !== rolloutQueueName(endpoint)) {
          if (!refusedEntries.has(queueName)) emit({ type: 'error', message: `${REGISTRY_KEY}: entry ${JSON.stringify(queueName.slice(0, 80))} is not the queue of its endpoint (${rolloutQueueName(endpoint)}); not served` });
          refusedEntries.add(queueName);
          continue;
        }
        const seen = released.get(queueName);
        if (seen !== undefined && announced[queueName] === seen) continue;
        released.delete(queueName);
        serve(queueName, endpoint);
      }
    } catch (error) {
      const message = `reading ${REGISTRY_KEY}: ${error instanceof Error ? error.message : String(error)}`;
      if (message !== lastError) emit({ type: 'error', message });
      lastError = message;
    }
  };
  /** An endpoint queue's jobs by state, counted through the registry's connection (its failures reach the caller). */
  const pendingCounts = async (queueName: string): Promise<Record<string, number>> => {
    const queue = new Queue(queueName, { connection: registry, prefix: QUEUE_PREFIX });
    queue.on('error', () => {});
    return queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed').finally(() => queue.close());
  };

  /** Lets go of served queues that have been idle for `idleMs` (only those whose coordinators announce work). */
  const releaseIdle = async () => {
    for (const [queueName, { worker, endpoint }] of [...workers]) {
      if (closing) return;
      try {
        // The counter first: an announcement after it (work enqueued) brings the queue back.
        const version = await registry.hget(ANNOUNCED_KEY, queueName);
        if (version === null) continue;
        const counts = await pendingCounts(queueName);
        if (Object.values(counts).some((n) => n > 0)) {
          idleSince.delete(queueName);
          continue;
        }
        const since = idleSince.get(queueName) ?? now();
        idleSince.set(queueName, since);
        if (now() - since < idleMs || closing || workers.get(queueName)?.worker !== worker) continue;
        workers.delete(queueName);
        idleSince.delete(queueName);
        released.set(queueName, version);
        await worker.close();
        connections.forget(worker);
        emit({ type: 'released', queue: queueName, endpoint });
      } catch (error) {
        if (closing) return; // the connection was closed under the check
        const message = `${queueName}: checking whether it is idle: ${error instanceof Error ? error.message : String(error)}`;
        if (message !== lastError) emit({ type: 'error', message });
        lastError = message;
      }
    }
  };

  /** Rollouts waiting, running or delayed on every endpoint queue in the registry. */
  const pendingEverywhere = async (): Promise<number> => {
    let pending = 0;
    for (const queueName of Object.keys(await registry.hgetall(REGISTRY_KEY))) {
      const counts = await pendingCounts(queueName);
      pending += Object.values(counts).reduce((a, b) => a + b, 0);
    }
    return pending;
  };

  const whenIdle = (forMs: number, { checkMs = Math.min(5000, Math.max(10, forMs / 5)), onCheck }: { checkMs?: number; onCheck?: (pending: number) => void } = {}): Promise<void> =>
    new Promise((resolve) => {
      let idleFrom: number | null = null;
      const look = async () => {
        if (closing) return;
        try {
          const pending = await pendingEverywhere();
          onCheck?.(pending);
          if (pending > 0) idleFrom = null;
          else idleFrom ??= now();
        } catch {
          idleFrom = null; // Redis unreachable says nothing about the work
        }
        if (idleFrom !== null && now() - idleFrom >= forMs) return resolve();
        if (!closing) setTimeout(() => void look(), checkMs).unref();
      };
      void look();
    });

  await discover();
  const timer = setInterval(() => void discover(), options.discoverMs ?? 1000);
  let sweeping = false;
  const idleTimer = setInterval(
    () => {
      if (sweeping) return;
      sweeping = true;
      void releaseIdle().finally(() => (sweeping = false));
    },
    Math.min(options.idleCheckMs ?? 30_000, idleMs),
  );

  let closingDown: Promise<void> | undefined;
  let abandon: () => void = () => {};
  const abandoned = new Promise<void>((resolve) => (abandon = () => ((abandoning = true), resolve())));
  const finish = async (closed: Promise<unknown>): Promise<void> => {
    await settlesWithin(CLOSE_MS, closed);
    await settlesWithin(CLOSE_MS, Promise.all([...resultQueues.values()].map((e) => e.queue.close())));
    await clients.close();
    await processClosing.settled();
    // Left open, a connection a bounded wait gave up on would reconnect forever and keep the process alive.
    connections.disconnect();
    resultsClient.disconnect();
    registry.disconnect();
  };

  return {
    name,
    serving: () => [...workers.keys()],
    whenIdle,
    close: async ({ force = false, handBack = false } = {}) => {
      closing = true;
      if (force) abandon();
      clearInterval(timer);
      clearInterval(idleTimer);
      // BullMQ stops taking jobs at once (a job it was still fetching is put straight back by
      // processJob). Running rollouts take as long as they take; what follows (telling Redis they
      // completed, QUIT) waits on Redis, forever while it is down, so that is bounded.
      const closed = Promise.all([...workers.values()].map(({ worker }) => worker.close(force)));
      if (handBack) await Promise.all([...holding.values()].map((handBackJob) => handBackJob()));
      // A later call may hand back or abandon what an earlier one still waits for.
      closingDown ??= (async () => {
        while (!abandoning && running.size > 0) await Promise.race([Promise.allSettled(running), abandoned]);
        // Handed-back rollouts were cancelled: they stop within the episode's grace, then let go of their sandboxes.
        await settlesWithin((options.graceMs ?? 10_000) + CLOSE_MS, Promise.allSettled(windingDown));
        await finish(closed);
      })();
      await closingDown;
    },
  };
}
