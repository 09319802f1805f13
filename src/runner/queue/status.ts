// `gauntlet queue status`: what a Redis queue holds right now, read without taking anything. For
// each model endpoint's queue: jobs by state, the workers serving it, its rate limit, the oldest
// waiting job, the rollouts running and the jobs that failed every try; for each run with results
// in flight: how many wait for its coordinator and whether one is taking them; for each run whose
// coordinator could not decode some results: the copies kept aside. Problems a person should act on (work and no worker, results and
// no coordinator, results kept aside) are spelled out.
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { AttemptsSpend, RunId } from '../../core/index.ts';
import { KEPT_RESULTS_MAX, keptResults, keptResultsKey, type KeptResult } from './kept.ts';
import { bullmq, connectRedis, QUEUE_PREFIX, REGISTRY_KEY, RESULT_QUEUE_PREFIX, type RedisTarget } from './connection.ts';
import { savedSpend } from './jobs.ts';

/** A client Redis lists for a queue: a worker (a `gauntlet worker`, or a run's coordinator on its results). */
export interface QueueClient {
  /** The worker's name (`host:pid` for `gauntlet worker`), or null for an unnamed one. */
  name: string | null;
  /** Where it connects from (`ip:port`, as Redis sees it). */
  address: string;
  connectedForS: number;
  idleForS: number;
}

export interface ActiveJob {
  rolloutId: string;
  runId: string | null;
  taskId: string | null;
  epoch: number | null;
  /** The worker holding it, as it named itself. */
  worker: string | null;
  /** Since the worker took it (this try). */
  runningForMs: number | null;
  /** 1 on the first try. */
  attempt: number;
  /**
   * What the rollout has spent so far, as its worker last saved it (every `--save-spend-every`;
   * earlier attempts included); null before the first save.
   */
  spent: AttemptsSpend | null;
}

export interface FailedJob {
  rolloutId: string;
  runId: string | null;
  taskId: string | null;
  reason: string;
  attempts: number;
  failedAt: string | null;
}

export interface EndpointQueueStatus {
  queue: string;
  endpoint: string;
  paused: boolean;
  /** `waiting` includes prioritized jobs; `delayed` are jobs waiting out a retry's backoff. */
  counts: { waiting: number; active: number; delayed: number; failed: number };
  rateLimit: { max: number; durationMs: number } | null;
  /** How long the rate limit still holds jobs back (0 when it does not right now). */
  rateLimitedForMs: number;
  workers: QueueClient[];
  oldestWaitingMs: number | null;
  /** The running rollouts, longest running first (at most `listLimit`). */
  active: ActiveJob[];
  /** The jobs that failed every try, newest first (at most `listLimit`); `gauntlet run --resume` retries them. */
  failed: FailedJob[];
  /** Lists that could not be read, and why (a job whose stored data is not JSON): their jobs are counted, not listed. */
  unlisted: string[];
}

export interface RunResultsStatus {
  runId: string;
  queue: string;
  /** Results workers sent that the run's coordinator has not stored yet. */
  waiting: number;
  /** Whether a coordinator (`gauntlet run --queue`, or `--resume`) is taking this run's results. */
  coordinator: boolean;
}

/** A run's results that its coordinator could not decode, copied aside (their rollouts count as not run). */
export interface UnreadableResults {
  runId: string;
  /** How many were kept aside so far; at most `KEPT_RESULTS_MAX` copies are held. */
  count: number;
  /** The hash holding them: field `data:<entry>` is a result's stored data as it was. */
  key: string;
  /** The newest copies held, newest first (at most `listLimit`). */
  kept: KeptResult[];
}

export interface QueueStatus {
  redis: string;
  at: string;
  endpoints: EndpointQueueStatus[];
  /** Runs with results in flight or a coordinator connected; runs long finished are left out. */
  runs: RunResultsStatus[];
  /** Runs with results kept aside because they could not be decoded, until the run's results queue is removed. */
  unreadableResults: UnreadableResults[];
  /** What needs someone's attention, one sentence each. */
  problems: string[];
}

export interface QueueStatusOptions {
  redis: RedisTarget;
  /** Running and failed jobs listed per queue (the counts cover all). Default 20. */
  listLimit?: number;
  now?: () => number;
}

/** The few fields of a rollout job a status shows; anything else in the job is not read. */
const JobSummary = z.object({ runId: z.string(), task: z.object({ id: z.string() }), epoch: z.number() }).partial();

function summary(job: Job): { runId: string | null; taskId: string | null; epoch: number | null } {
  const parsed = JobSummary.safeParse(job.data);
  const data = parsed.success ? parsed.data : {};
  return { runId: data.runId ?? null, taskId: data.task?.id ?? null, epoch: data.epoch ?? null };
}

/** BullMQ names a named worker's connection `PREFIX:QUEUE:w:NAME`. */
function clientOf(entry: Record<string, string>): QueueClient {
  const raw = entry.rawname ?? '';
  const at = raw.indexOf(':w:');
  return {
    name: at >= 0 ? raw.slice(at + 3) : null,
    address: entry.addr ?? '?',
    connectedForS: Number(entry.age ?? 0),
    idleForS: Number(entry.idle ?? 0),
  };
}

/** One entry per worker: a worker may hold several connections to the same queue. */
function distinctClients(entries: Record<string, string>[]): QueueClient[] {
  const seen = new Map<string, QueueClient>();
  for (const client of entries.map(clientOf)) {
    const key = client.name ?? client.address;
    const known = seen.get(key);
    if (!known || client.idleForS < known.idleForS) seen.set(key, client);
  }
  return [...seen.values()].sort((a, b) => (a.name ?? a.address).localeCompare(b.name ?? b.address));
}

/** The jobs BullMQ lists, or none and why when one holds data that is not JSON (BullMQ parses every job it lists). */
async function listed(jobs: Promise<Job[]>, what: string, unlisted: string[]): Promise<Job[]> {
  try {
    return await jobs;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    unlisted.push(`the ${what} jobs cannot be listed: one's stored data is not JSON (${error.message})`);
    return [];
  }
}

async function endpointStatus(client: Redis, queueName: string, endpoint: string, options: { listLimit: number; now: number }): Promise<EndpointQueueStatus> {
  const { Queue } = await bullmq();
  const queue = new Queue(queueName, { connection: client, prefix: QUEUE_PREFIX });
  const unlisted: string[] = [];
  try {
    const [counts, paused, limit, limitedFor, workers, oldest, active, failed] = await Promise.all([
      queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
      queue.isPaused(),
      queue.getGlobalRateLimit(),
      queue.getRateLimitTtl(),
      queue.getWorkers(),
      listed(queue.getJobs(['waiting', 'prioritized'], 0, 0, true), 'waiting', unlisted),
      listed(queue.getActive(0, -1), 'running', unlisted),
      listed(queue.getFailed(0, options.listLimit - 1), 'failed', unlisted),
    ]);
    const oldestJob = oldest[0];
    const running = active
      .map((job): ActiveJob => ({
        rolloutId: job.id ?? '?',
        ...summary(job),
        worker: job.processedBy ?? null,
        runningForMs: job.processedOn ? Math.max(0, options.now - job.processedOn) : null,
        attempt: job.attemptsStarted > 0 ? job.attemptsStarted : job.attemptsMade + 1,
        spent: savedSpend(job.progress) ?? null,
      }))
      .sort((a, b) => (b.runningForMs ?? 0) - (a.runningForMs ?? 0))
      .slice(0, options.listLimit);
    return {
      queue: queueName,
      endpoint,
      paused,
      counts: { waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0), active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0 },
      rateLimit: limit ? { max: limit.max, durationMs: limit.duration } : null,
      rateLimitedForMs: Math.max(0, limitedFor),
      workers: distinctClients(workers),
      oldestWaitingMs: oldestJob ? Math.max(0, options.now - oldestJob.timestamp) : null,
      active: running,
      failed: failed.map((job) => ({
        rolloutId: job.id ?? '?',
        ...summary(job),
        reason: job.failedReason ?? '',
        attempts: job.attemptsMade,
        failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      })),
      unlisted,
    };
  } finally {
    await queue.close();
  }
}

/** Every run's results queue Redis holds (BullMQ keeps a queue's `meta` key for as long as the queue exists). */
async function resultQueueNames(client: Redis): Promise<string[]> {
  const names = new Set<string>();
  const pattern = `${QUEUE_PREFIX}:${RESULT_QUEUE_PREFIX}*:meta`;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) names.add(key.slice(QUEUE_PREFIX.length + 1, -':meta'.length));
  } while (cursor !== '0');
  return [...names].sort();
}

async function runStatus(client: Redis, queueName: string): Promise<RunResultsStatus> {
  const { Queue } = await bullmq();
  const queue = new Queue(queueName, { connection: client, prefix: QUEUE_PREFIX });
  try {
    const [counts, workers] = await Promise.all([queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed'), queue.getWorkers()]);
    const waiting = Object.values(counts).reduce((a, b) => a + b, 0);
    return { runId: queueName.slice(RESULT_QUEUE_PREFIX.length), queue: queueName, waiting, coordinator: workers.length > 0 };
  } finally {
    await queue.close();
  }
}

/** "12 model calls, 3,400 tokens": a running rollout's spend in a status line. */
function spentSoFar(spent: AttemptsSpend): string {
  const calls = spent.modelCalls;
  return `${calls.toLocaleString('en-US')} model call${calls === 1 ? '' : 's'}, ${(spent.promptTokens + spent.completionTokens).toLocaleString('en-US')} tokens`;
}

function seconds(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : ms < 7_200_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`;
}

/** "1 rollout waits", "3 rollouts wait". */
function count(n: number, noun: string, verb: string): string {
  return n === 1 ? `1 ${noun} ${verb}s` : `${n} ${noun}s ${verb}`;
}

function problemsOf(endpoints: readonly EndpointQueueStatus[], runs: readonly RunResultsStatus[], unreadable: readonly UnreadableResults[]): string[] {
  const problems: string[] = [];
  for (const e of endpoints) {
    const pending = e.counts.waiting + e.counts.delayed;
    if (pending > 0 && e.workers.length === 0) problems.push(`${e.queue} (${e.endpoint}): ${count(pending, 'rollout', 'wait')} and no worker serves this queue; start one with \`gauntlet worker --queue URL\``);
    if (e.paused && pending > 0) problems.push(`${e.queue} (${e.endpoint}): the queue is paused with ${pending} rollout${pending === 1 ? '' : 's'} waiting`);
    for (const why of e.unlisted) problems.push(`${e.queue} (${e.endpoint}): ${why}`);
    if (e.counts.failed > 0) problems.push(`${e.queue} (${e.endpoint}): ${e.counts.failed} rollout job${e.counts.failed === 1 ? '' : 's'} failed every try (kept a week); \`gauntlet run --resume RUN_ID --queue URL\` tries them again`);
  }
  for (const r of runs) {
    if (r.waiting > 0 && !r.coordinator) problems.push(`run ${r.runId}: ${count(r.waiting, 'result', 'wait')} and no coordinator takes them; \`gauntlet run --resume ${r.runId} --queue URL\` stores them`);
  }
  for (const u of unreadable) {
    const n = u.count;
    problems.push(`run ${u.runId}: ${n} result${n === 1 ? '' : 's'} could not be decoded and ${n === 1 ? 'was' : 'were'} kept aside in ${u.key}${n > KEPT_RESULTS_MAX ? ` (the newest ${KEPT_RESULTS_MAX} of them)` : ''}; ${n === 1 ? 'it counts' : 'they count'} as not run, and \`gauntlet run --resume ${u.runId} --queue URL\` runs again the rollouts still missing`);
  }
  return problems;
}

/** Reads the state of every queue Gauntlet keeps in that Redis; takes, changes and removes nothing. */
export async function queueStatus(options: QueueStatusOptions): Promise<QueueStatus> {
  const now = options.now ?? Date.now;
  const listLimit = options.listLimit ?? 20;
  const client = await connectRedis(options.redis, { name: 'gauntlet-queue-status' });
  try {
    const registry = await client.hgetall(REGISTRY_KEY);
    const at = now();
    const endpoints = [];
    for (const [queueName, endpoint] of Object.entries(registry).sort(([a], [b]) => a.localeCompare(b))) endpoints.push(await endpointStatus(client, queueName, endpoint, { listLimit, now: at }));
    const runs = [];
    const unreadableResults: UnreadableResults[] = [];
    // Results are kept aside only by a coordinator taking the run's results, so the run's results queue exists while they do.
    for (const name of await resultQueueNames(client)) {
      const run = await runStatus(client, name);
      if (run.waiting > 0 || run.coordinator) runs.push(run);
      const runId = run.runId as RunId;
      const kept = await keptResults(client, runId, listLimit);
      if (kept.count > 0) unreadableResults.push({ runId, count: kept.count, key: keptResultsKey(runId), kept: kept.newest });
    }
    return { redis: options.redis.display, at: new Date(at).toISOString(), endpoints, runs, unreadableResults, problems: problemsOf(endpoints, runs, unreadableResults) };
  } finally {
    client.disconnect();
  }
}

/** The status as lines for a person. */
export function describeQueueStatus(status: QueueStatus): string {
  const lines = [`queue ${status.redis} at ${status.at}`];
  if (status.endpoints.length === 0) lines.push('  no model endpoint queues (no run has enqueued rollouts here)');
  for (const e of status.endpoints) {
    const { waiting, active, delayed, failed } = e.counts;
    lines.push(`endpoint ${e.endpoint}  [${e.queue}]${e.paused ? '  PAUSED' : ''}`);
    lines.push(`  rollouts: ${waiting} waiting, ${active} running, ${delayed} waiting to retry, ${failed} failed`);
    if (e.oldestWaitingMs !== null) lines.push(`  oldest waiting: ${seconds(e.oldestWaitingMs)}`);
    if (e.rateLimit) lines.push(`  rate limit: ${e.rateLimit.max} per ${seconds(e.rateLimit.durationMs)}${e.rateLimitedForMs > 0 ? ` (holding jobs back for ${seconds(e.rateLimitedForMs)})` : ''}`);
    lines.push(`  workers: ${e.workers.length === 0 ? 'none' : e.workers.map((w) => `${w.name ?? '(unnamed)'} from ${w.address} (connected ${seconds(w.connectedForS * 1000)})`).join(', ')}`);
    for (const job of e.active) lines.push(`  running ${job.rolloutId} ${job.taskId ?? '?'} #${job.epoch ?? '?'} of run ${job.runId ?? '?'} on ${job.worker ?? '?'}${job.runningForMs !== null ? ` for ${seconds(job.runningForMs)}` : ''}${job.attempt > 1 ? ` (try ${job.attempt})` : ''}${job.spent ? `; so far ${spentSoFar(job.spent)}` : ''}`);
    if (e.counts.active > e.active.length) lines.push(`  … and ${e.counts.active - e.active.length} more running`);
    for (const job of e.failed) lines.push(`  failed ${job.rolloutId} ${job.taskId ?? '?'} of run ${job.runId ?? '?'} after ${job.attempts} tries${job.failedAt ? ` at ${job.failedAt}` : ''}: ${job.reason.replace(/\s*\n\s*/g, ' ')}`);
    if (e.counts.failed > e.failed.length) lines.push(`  … and ${e.counts.failed - e.failed.length} more failed`);
  }
  for (const r of status.runs) lines.push(`run ${r.runId}: ${r.waiting} results waiting to be stored; coordinator ${r.coordinator ? 'connected' : 'not connected'}`);
  for (const u of status.unreadableResults) {
    lines.push(`run ${u.runId}: ${u.count} result${u.count === 1 ? '' : 's'} could not be decoded, kept in ${u.key}`);
    for (const k of u.kept) lines.push(`  data:${k.entry} ${k.rolloutId}${k.worker === null ? '' : ` from ${k.worker}`} at ${k.at}: ${k.reason.replace(/\s*\n\s*/g, ' ')}`);
    const held = Math.min(u.count, KEPT_RESULTS_MAX);
    if (held > u.kept.length) lines.push(`  … and ${held - u.kept.length} more kept`);
  }
  if (status.problems.length > 0) lines.push('problems:', ...status.problems.map((p) => `  - ${p}`));
  return `${lines.join('\n')}\n`;
}

/** Prometheus label values: backslash, double quote and newline escaped. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The status in Prometheus' text format (for a node exporter's textfile collector, or a scrape wrapper). */
export function queueStatusMetrics(status: QueueStatus): string {
  const out: string[] = [];
  const family = (name: string, help: string, type: 'gauge', samples: [string, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}{${labels}} ${value}`);
  };
  const of = (e: EndpointQueueStatus) => `queue="${label(e.queue)}",endpoint="${label(e.endpoint)}"`;
  family('gauntlet_queue_rollouts', 'Rollout jobs on a model endpoint queue, by state', 'gauge', status.endpoints.flatMap((e) => Object.entries(e.counts).map(([state, n]): [string, number] => [`${of(e)},state="${state}"`, n])));
  family('gauntlet_queue_workers', 'Workers serving a model endpoint queue', 'gauge', status.endpoints.map((e) => [of(e), e.workers.length]));
  family('gauntlet_queue_oldest_waiting_seconds', 'Age of the oldest waiting rollout job (0 when none waits)', 'gauge', status.endpoints.map((e) => [of(e), (e.oldestWaitingMs ?? 0) / 1000]));
  family('gauntlet_queue_rate_limited_seconds', 'How long the endpoint rate limit still holds jobs back', 'gauge', status.endpoints.map((e) => [of(e), e.rateLimitedForMs / 1000]));
  family('gauntlet_queue_paused', 'Whether the queue is paused (1) or not (0)', 'gauge', status.endpoints.map((e) => [of(e), e.paused ? 1 : 0]));
  family('gauntlet_run_results_waiting', 'Results waiting for a run coordinator to store them', 'gauge', status.runs.map((r) => [`run="${label(r.runId)}"`, r.waiting]));
  family('gauntlet_run_results_unreadable', 'Results the run coordinator could not decode, kept aside (their rollouts count as not run)', 'gauge', status.unreadableResults.map((u) => [`run="${label(u.runId)}"`, u.count]));
  family('gauntlet_run_coordinator_connected', 'Whether a coordinator takes the run results (1) or not (0)', 'gauge', status.runs.map((r) => [`run="${label(r.runId)}"`, r.coordinator ? 1 : 0]));
  return `${out.join('\n')}\n`;
}
