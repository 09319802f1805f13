// `gauntlet queue cancel RUN_ID`: takes a run's rollouts that no worker has started off every
// endpoint queue, for a run whose coordinator is gone (killed, its machine lost) and whose jobs
// would otherwise keep workers and the endpoint busy. Rollouts already running finish; their
// results wait for `gauntlet run --resume`, which also enqueues again whatever was cancelled.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { InputError } from '../../core/index.ts';
import { bullmq, connectRedis, QUEUE_PREFIX, REGISTRY_KEY, RESULT_QUEUE_PREFIX, type RedisTarget } from './connection.ts';
import { rolloutJobName } from './session.ts';

export interface CancelQueuedRunOptions {
  redis: RedisTarget;
  runId: string;
  /** Jobs read per request while looking for the run's. Default 500. */
  pageSize?: number;
}

export interface CancelledRun {
  runId: string;
  /** Jobs taken off the queues (not started). */
  removed: number;
  /** The run's rollouts running now: they finish, and their results wait for `--resume`. */
  running: number;
  /** Per endpoint queue that held any of the run's jobs. */
  queues: { queue: string; endpoint: string; removed: number; running: number }[];
}

const JobRun = z.object({ runId: z.string() });

function runOf(data: unknown): string | null {
  const parsed = JobRun.safeParse(data);
  return parsed.success ? parsed.data.runId : null;
}

/**
 * Ids of the run's jobs in `states`, read page by page (removing while paging would shift the
 * pages). A job's name says its run; only jobs named as earlier versions named them have their
 * payload read.
 */
async function jobIdsOf(client: Redis, queue: Queue, states: ('waiting' | 'prioritized' | 'delayed' | 'active')[], runId: string, pageSize: number): Promise<string[]> {
  const ids: string[] = [];
  const ours = rolloutJobName(runId);
  for (let start = 0; ; start += pageSize) {
    const page = await queue.getRanges(states, start, start + pageSize - 1, true);
    const names = await fieldOf(client, queue, page, 'name');
    ids.push(...page.filter((_, i) => names[i] === ours));
    const unnamed = page.filter((_, i) => names[i] === 'rollout');
    const payloads = await fieldOf(client, queue, unnamed, 'data');
    ids.push(...unnamed.filter((_, i) => runOf(parsed(payloads[i])) === runId));
    if (page.length < pageSize) return ids;
  }
}

/** One hash field of each job (null for a job removed meanwhile), in one round trip. */
async function fieldOf(client: Redis, queue: Queue, ids: readonly string[], field: string): Promise<(string | null)[]> {
  if (ids.length === 0) return [];
  const pipeline = client.pipeline();
  for (const id of ids) pipeline.hget(queue.toKey(id), field);
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, value]) => (error ? null : typeof value === 'string' ? value : null));
}

function parsed(text: string | null | undefined): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (_error) {
    return null;
  }
}

/** Whether a coordinator (the one consumer of the run's results queue) is connected for `runId`. */
export async function coordinatorConnected(client: Redis, runId: string): Promise<boolean> {
  const { Queue } = await bullmq();
  const results = new Queue(`${RESULT_QUEUE_PREFIX}${runId}`, { connection: client, prefix: QUEUE_PREFIX });
  try {
    return (await results.getWorkers()).length > 0;
  } finally {
    await results.close();
  }
}

/**
 * Removes the run's waiting and delayed rollout jobs from every endpoint queue. Refused while the
 * run's coordinator is connected: it would enqueue them again at its next check (stop it instead;
 * a coordinator that is stopped takes its jobs back itself).
 */
export async function cancelQueuedRun(options: CancelQueuedRunOptions): Promise<CancelledRun> {
  const { runId } = options;
  if (!/^[^\s:]+$/.test(runId)) throw new InputError('RUN_ID', `"${runId}" is not a run id`, 'a run id as `gauntlet runs` or `gauntlet queue status` shows it');
  const pageSize = options.pageSize ?? 500;
  const client = await connectRedis(options.redis, { name: 'gauntlet-queue-cancel' });
  try {
    if (await coordinatorConnected(client, runId)) {
      throw new InputError('RUN_ID', `run ${runId} has a coordinator connected, which would enqueue its rollouts again`, 'a run whose coordinator is gone; stop a live one with Ctrl-C (or SIGTERM), which takes its waiting rollouts back');
    }
    const registry = await client.hgetall(REGISTRY_KEY);
    const { Queue } = await bullmq();
    const queues: CancelledRun['queues'] = [];
    for (const [queueName, endpoint] of Object.entries(registry).sort(([a], [b]) => a.localeCompare(b))) {
      const queue = new Queue(queueName, { connection: client, prefix: QUEUE_PREFIX });
      try {
        let removed = 0;
        for (const id of await jobIdsOf(client, queue, ['waiting', 'prioritized', 'delayed'], runId, pageSize)) removed += await queue.remove(id);
        // A job taken by a worker between the listing and its removal is running now.
        const running = (await jobIdsOf(client, queue, ['active'], runId, pageSize)).length;
        if (removed > 0 || running > 0) queues.push({ queue: queueName, endpoint, removed, running });
      } finally {
        await queue.close();
      }
    }
    return { runId, removed: queues.reduce((n, q) => n + q.removed, 0), running: queues.reduce((n, q) => n + q.running, 0), queues };
  } finally {
    client.disconnect();
  }
}
