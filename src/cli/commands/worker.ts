import type { Command } from 'commander';
import { InputError, type RunConfig } from '../../core/index.ts';
import { checkMetricsEndpoint, createMetrics, serveMetrics, type EpisodeDriver, type GauntletMetrics, type MetricsEndpoint, type MetricsEndpointOptions, type MetricsRole } from '../../runner/index.ts';
import { parseRedisUrl, QUEUE_KEY_VARIABLE, queueKeyFrom, startWorker, type CoordinatorEvent, type ExternalAgents, type QueueKey, type QueueWorker, type WorkerEvent } from '../../runner/queue/index.ts';
import { defaultAgentCache, startAgentRun, type AgentRun } from '../../training/agents/index.ts';
import { safeText, type CliIo } from '../io.ts';
import { nonNegativeInt, number, positiveInt } from '../options.ts';

interface WorkerFlags {
  queue: string;
  trustRedis?: boolean;
  concurrency: number;
  stallTimeout: number;
  idleTimeout: number;
  saveSpendEvery: number;
  exitWhenIdle?: number;
  stopGrace?: number;
  json?: boolean;
}

/** The metrics flags `run` and `worker` share. */
export interface MetricsFlags {
  metricsPort?: number;
  metricsHost?: string;
  metricsToken?: string;
}

/** `--trust-redis`, for `worker` and `run --queue`. */
export const TRUST_REDIS_HELP = `run unsigned on a Redis beyond this machine (no ${QUEUE_KEY_VARIABLE}): anyone who can write to it can then make workers call any endpoint with their API keys, start MCP commands and forge results`;

export const METRICS_FLAG_HELP = {
  port: 'serve Prometheus metrics at http://HOST:PORT/metrics while this runs (0 picks a free port)',
  host: 'address for --metrics-port (default 127.0.0.1); anything beyond loopback needs a token',
  token: 'bearer token a scrape must carry (prefer the GAUNTLET_TOKEN environment variable: flags show in ps)',
};

/** The metrics endpoint the flags ask for, checked before anything starts; undefined without --metrics-port. */
export function metricsEndpointOf(flags: MetricsFlags, env: Record<string, string | undefined>): MetricsEndpointOptions | undefined {
  if (flags.metricsPort === undefined) {
    const stray = flags.metricsHost !== undefined ? '--metrics-host' : flags.metricsToken !== undefined ? '--metrics-token' : null;
    if (stray) throw new InputError(stray, 'only applies with --metrics-port', '--metrics-port PORT as well');
    return undefined;
  }
  if (flags.metricsToken === undefined && env.GAUNTLET_TOKEN !== undefined && env.GAUNTLET_TOKEN.trim() === '') throw new InputError('GAUNTLET_TOKEN', 'is set but empty', 'a non-empty secret, or unset it');
  const token = flags.metricsToken ?? env.GAUNTLET_TOKEN;
  const endpoint = { port: flags.metricsPort, host: flags.metricsHost ?? '127.0.0.1', ...(token !== undefined ? { token } : {}) };
  checkMetricsEndpoint(endpoint);
  return endpoint;
}

/**
 * The queue key (GAUNTLET_QUEUE_KEY) for `worker` and `run --queue`, taken out of this process's
 * environment once read, so that nothing it starts (MCP servers, sandboxes, agents) inherits it.
 */
export function takeQueueKey(env: Record<string, string | undefined>): QueueKey | undefined {
  const key = queueKeyFrom(env);
  if (env === process.env) delete process.env[QUEUE_KEY_VARIABLE];
  return key;
}

/** This process's metrics and their endpoint, its address printed on stderr. */
export async function startMetrics(role: MetricsRole, options: MetricsEndpointOptions, io: CliIo): Promise<{ metrics: GauntletMetrics; endpoint: MetricsEndpoint }> {
  const metrics = await createMetrics(role);
  const endpoint = await serveMetrics(metrics, options);
  io.stderr(`metrics on ${endpoint.url}${options.token !== undefined ? ' (bearer token required)' : ''}\n`);
  return { metrics, endpoint };
}

export interface WorkerHooks {
  /**
   * Resolves with how to stop: `graceful` waits for running rollouts (for at most `--stop-grace`),
   * `hand_back` puts them back in the queue at once, `force` abandons them. Default: signals.
   */
  untilStopped?: (worker: QueueWorker) => Promise<'graceful' | 'hand_back' | 'force'>;
}

/**
 * The first SIGINT/SIGTERM stops taking jobs and lets running rollouts finish; a second hands them
 * back to the queue for other workers at once; a third exits without waiting for that.
 */
function untilSignal(io: CliIo, grace: string): { stopped: Promise<'graceful'>; again: Promise<void>; dispose: () => void } {
  let signals = 0;
  let stop: (how: 'graceful') => void = () => {};
  let handBack: () => void = () => {};
  const stopped = new Promise<'graceful'>((resolve) => (stop = resolve));
  const again = new Promise<void>((resolve) => (handBack = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      io.stderr(`worker: stopping; running rollouts finish first${grace} (signal again to hand them back to the queue now)\n`);
      stop('graceful');
    } else if (signals === 2) {
      io.stderr('worker: handing running rollouts back to the queue (signal again to exit at once)\n');
      handBack();
    } else process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { stopped, again, dispose: () => (process.off('SIGINT', onSignal), process.off('SIGTERM', onSignal)) };
}

function describe(event: WorkerEvent): string {
  switch (event.type) {
    case 'serving':
      return `serving ${event.queue} (${safeText(event.endpoint)})`;
    case 'released':
      return `let ${event.queue} (${safeText(event.endpoint)}) go while it is idle; served again when a run enqueues there`;
    case 'started':
      return `started ${event.rolloutId} ${safeText(event.taskId)} #${event.epoch}`;
    case 'finished':
      return `finished ${event.rolloutId} ${event.status} in ${(event.durationMs / 1000).toFixed(1)} s`;
    case 'failed':
      return `FAILED ${event.rolloutId}${event.final ? '' : ' (will be retried)'}: ${safeText(event.message)}`;
    case 'handed_back':
      return `handed ${event.rolloutId} back to the queue (another worker runs it)`;
    case 'error':
      return `queue trouble: ${safeText(event.message)}`;
  }
}

/** How long an agent's gateway that no rollout holds is kept for the next job before it is closed. */
export const AGENT_IDLE_MS = 10 * 60_000;

export interface WorkerAgentsOptions {
  /** Starts an agent's gateway (tests replace it). Default: startAgentRun. */
  start?: typeof startAgentRun;
  /** Default AGENT_IDLE_MS. */
  idleMs?: number;
}

/**
 * External agents for a worker, as `run --agent` starts them in process: installed on first use
 * into the agent cache, one gateway per agent and model endpoint, shared by the rollouts that need
 * it and closed once none has for `idleMs`. A worker runs for weeks, and a trainer may serve every
 * checkpoint under a model name of its own: kept until the worker stops, they added up without end.
 */
export function workerAgents(io: CliIo, options: WorkerAgentsOptions = {}): ExternalAgents & { release(config: RunConfig): void; close(): Promise<void>; held(): number } {
  const start = options.start ?? startAgentRun;
  const idleMs = options.idleMs ?? AGENT_IDLE_MS;
  const runs = new Map<string, { run: Promise<AgentRun>; users: number; idle?: NodeJS.Timeout }>();
  const keyOf = (config: RunConfig) => `${config.agent!.name}@${config.agent!.version} ${config.model}`;
  const closeRun = (run: Promise<AgentRun>) =>
    run.then(
      (r) => r.close(),
      () => undefined,
    );
  return {
    async driverFor(config: RunConfig): Promise<EpisodeDriver> {
      const agent = config.agent!;
      const key = keyOf(config);
      let entry = runs.get(key);
      if (!entry) {
        const run = start({ agent, model: config.model, cacheDir: defaultAgentCache(io.env), ...(io.env.OPENAI_API_KEY ? { apiKey: io.env.OPENAI_API_KEY } : {}), log: (line) => io.stderr(`worker: ${line}\n`) });
        const created = { run, users: 0 };
        runs.set(key, created);
        // A failed install is tried again by the next job, not remembered.
        run.catch(() => runs.get(key) === created && runs.delete(key));
        entry = created;
      }
      // Held from here: an idle close must not come between handing the driver out and its use.
      entry.users++;
      clearTimeout(entry.idle);
      try {
        return (await entry.run).driver;
      } catch (error) {
        entry.users--;
        throw error;
      }
    },
    release(config: RunConfig) {
      const key = keyOf(config);
      const entry = runs.get(key);
      if (!entry || --entry.users > 0) return;
      entry.idle = setTimeout(() => {
        if (entry.users > 0 || runs.get(key) !== entry) return;
        runs.delete(key);
        void closeRun(entry.run).catch((error: unknown) => io.stderr(`worker: closing the gateway of ${safeText(key)} failed: ${safeText(String(error))}\n`));
      }, idleMs);
      entry.idle.unref();
    },
    held: () => runs.size,
    async close() {
      const entries = [...runs.values()];
      runs.clear();
      for (const entry of entries) clearTimeout(entry.idle);
      await Promise.all(entries.map((entry) => closeRun(entry.run)));
    },
  };
}

/** A line for `run --queue` to print on stderr about what the queue is doing. */
export function describeCoordinatorEvent(event: CoordinatorEvent): string {
  switch (event.type) {
    case 'enqueued': {
      const limit = event.rateLimit ? `, rate limit ${event.rateLimit.max} per ${event.rateLimit.durationMs} ms` : '';
      const waiting = event.alreadyQueued > 0 ? `; ${event.alreadyQueued} more already in Redis (jobs or results waiting)` : '';
      const workers = event.signed ? `; jobs signed with ${QUEUE_KEY_VARIABLE}: start workers with it set and \`gauntlet worker --queue URL\`` : '; start workers with `gauntlet worker --queue URL`';
      return `queue: ${event.count} rollouts enqueued on ${event.queue} (${safeText(event.endpoint)}${limit})${waiting}${workers}`;
    }
    case 'duplicate':
      return `queue: ${event.rolloutId} delivered again by ${safeText(event.worker)} (attempt ${event.attempt}; stored attempt ${event.storedAttempt ?? '-'}): dropped`;
    case 'requeued':
      return `queue: ${event.rolloutId} enqueued again: ${event.reason}`;
    case 'job_failed':
      return `queue: no worker could run ${event.rolloutId}: ${safeText(event.message)}`;
    case 'result_unreadable':
      return `queue: the result of ${event.rolloutId} could not be read: ${safeText(event.message)}`;
    case 'workers':
      return event.count === 0
        ? `queue: no worker serves ${event.queue}, and ${event.outstanding} rollouts are outstanding; start one with \`gauntlet worker --queue URL\``
        : `queue: ${event.count} worker${event.count === 1 ? '' : 's'} serving ${event.queue} (${event.outstanding} rollouts outstanding)`;
    case 'outage':
      return `queue: ${safeText(event.message)}; waiting for Redis`;
    case 'reconnected':
      return 'queue: reconnected to Redis; checking every outstanding rollout';
  }
}

export function registerWorkerCommand(program: Command, io: CliIo, hooks: WorkerHooks = {}): void {
  program
    .command('worker')
    .description('Run rollouts that `gauntlet run --queue` enqueued, for every run and model endpoint in that Redis; start as many as you like, anywhere')
    .requiredOption('--queue <url>', `Redis holding the queue: redis://HOST:PORT[/DB]; beyond this machine, jobs must be signed (${QUEUE_KEY_VARIABLE}) or the Redis trusted (--trust-redis)`)
    .option('--trust-redis', TRUST_REDIS_HELP)
    .option('--concurrency <n>', 'rollouts in flight at once (per model endpoint)', positiveInt('--concurrency', { max: 10_000 }), 4)
    .option('--stall-timeout <seconds>', 'a rollout whose worker stops renewing its claim this long (it died) goes to another worker, within a quarter of this more', number('--stall-timeout', { min: 0.1, max: 3600 }), 30)
    .option('--save-spend-every <seconds>', "how often a rollout's calls and tokens so far are saved with its job, so a worker that dies mid-rollout leaves them counted (0: after every call)", number('--save-spend-every', { min: 0, max: 3600 }), 5)
    .option('--idle-timeout <seconds>', 'an endpoint queue with nothing to run this long is let go (its connections closed) until a run enqueues there again', number('--idle-timeout', { min: 1, max: 30 * 86_400 }), 600)
    .option('--exit-when-idle <seconds>', 'stop (letting running rollouts finish) once no endpoint queue has had anything to run for this long; for batch jobs and spot machines', number('--exit-when-idle', { min: 0.01, max: 30 * 86_400 }))
    .option('--stop-grace <seconds>', 'once stopping, give running rollouts this long to finish, then hand them back to the queue with what they spent, so other workers take them without waiting out --stall-timeout (default: wait for them); for spot machines and pods with a termination grace period', number('--stop-grace', { min: 0, max: 30 * 86_400 }))
    .option('--json', 'one JSON object per event on stdout')
    .option('--metrics-port <port>', METRICS_FLAG_HELP.port, nonNegativeInt('--metrics-port', { max: 65_535 }))
    .option('--metrics-host <address>', METRICS_FLAG_HELP.host)
    .option('--metrics-token <secret>', METRICS_FLAG_HELP.token)
    .action(async (flags: WorkerFlags & MetricsFlags) => {
      const redis = parseRedisUrl(flags.queue);
      const key = takeQueueKey(io.env);
      const metricsAt = metricsEndpointOf(flags, io.env);
      const served = metricsAt ? await startMetrics('worker', metricsAt, io) : undefined;
      const report = (event: WorkerEvent) => {
        served?.metrics.onWorkerEvent(event);
        if (flags.json) io.stdout(`${JSON.stringify(event)}\n`);
        else io.stderr(`worker: ${describe(event)}\n`);
      };
      const agents = workerAgents(io);
      const worker = await startWorker({
        redis,
        concurrency: flags.concurrency,
        lockMs: Math.round(flags.stallTimeout * 1000),
        idleMs: Math.round(flags.idleTimeout * 1000),
        spendSaveMs: Math.round(flags.saveSpendEvery * 1000),
        modelEnvironment: { env: io.env },
        onEvent: report,
        ...(served ? { onRollout: served.metrics.onRollout } : {}),
        agents,
        ...(key ? { key } : {}),
        ...(flags.trustRedis ? { trustRedis: true } : {}),
      }).catch(async (error: unknown) => {
        await Promise.all([agents.close(), served?.endpoint.close()]);
        throw error;
      });
      const trust = key ? `; only jobs signed with ${QUEUE_KEY_VARIABLE}` : '';
      io.stderr(`worker ${worker.name}: taking rollouts from ${redis.display} (concurrency ${flags.concurrency}${trust})\n`);
      const grace = flags.stopGrace === undefined ? '' : `, for at most ${flags.stopGrace} s`;
      const signals = hooks.untilStopped ? null : untilSignal(io, grace);
      let graceTimer: NodeJS.Timeout | undefined;
      try {
        const stops: Promise<'graceful' | 'hand_back' | 'force'>[] = [hooks.untilStopped ? hooks.untilStopped(worker) : signals!.stopped];
        if (flags.exitWhenIdle !== undefined) {
          const seconds = flags.exitWhenIdle;
          stops.push(worker.whenIdle(Math.round(seconds * 1000)).then(() => (io.stderr(`worker ${worker.name}: nothing to run for ${seconds} s; stopping\n`), 'graceful' as const)));
        }
        const how = await Promise.race(stops);
        const handBack = () => void worker.close({ handBack: true }).catch(() => undefined);
        void signals?.again.then(handBack);
        if (how === 'graceful' && flags.stopGrace !== undefined) {
          graceTimer = setTimeout(() => (io.stderr(`worker: --stop-grace of ${flags.stopGrace} s is over; handing running rollouts back to the queue\n`), handBack()), flags.stopGrace * 1000);
        }
        await worker.close({ force: how === 'force', handBack: how === 'hand_back' });
      } finally {
        clearTimeout(graceTimer);
        signals?.dispose();
        await Promise.all([agents.close(), served?.endpoint.close()]);
      }
      io.stderr(`worker ${worker.name}: stopped\n`);
    });
}
