// Where the queue lives and what its keys are called. The Redis URL is an operational setting,
// never part of a run's record: the same run may be resumed through another Redis, or in process.
import { createHash } from 'node:crypto';
import type * as BullMQ from 'bullmq';
import type { Redis } from 'ioredis';
import { InputError, type RunConfig, type RunId } from '../../core/index.ts';

/** A parsed `redis://` URL; `display` is safe to print (no password). */
export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  display: string;
}

const FORM = 'redis://[USER:PASSWORD@]HOST[:PORT][/DB] or rediss://… for TLS, e.g. redis://127.0.0.1:6379';

/** Parses a Redis URL; every problem is an InputError at `where` (the flag or field that gave it). */
export function parseRedisUrl(text: string, where = '--queue'): RedisTarget {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch (_error) {
    throw new InputError(where, `"${text}" is not a URL`, FORM);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new InputError(where, `"${url.protocol}" is not a Redis scheme`, FORM);
  if (!url.hostname) throw new InputError(where, 'the URL names no host', FORM);
  const port = url.port ? Number(url.port) : 6379;
  const path = url.pathname.replace(/^\/+/, '');
  if (path !== '' && !/^\d+$/.test(path)) throw new InputError(where, `"/${path}" is not a database number`, FORM);
  if (url.search || url.hash) throw new InputError(where, 'query strings and fragments are not understood', FORM);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const tls = url.protocol === 'rediss:';
  const db = path === '' ? 0 : Number(path);
  return {
    host,
    port,
    db,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    tls,
    display: `${url.protocol}//${url.username ? `${url.username}@` : ''}${url.host}/${db}`,
  };
}

/** Options for ioredis and BullMQ. `blocking` connections (workers) must retry forever, never give up a command. */
export function redisOptions(target: RedisTarget, options: { blocking?: boolean } = {}) {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
    // Reconnect quickly after a Redis restart; the coordinator decides when an outage is too long.
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    ...(options.blocking ? { maxRetriesPerRequest: null } : {}),
  };
}

/** An infrastructure failure of the queue itself (Redis unreachable, a queue in an unusable state). */
export class QueueError extends Error {
  constructor(target: RedisTarget, message: string, options: { cause?: unknown } = {}) {
    super(`queue ${target.display}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'QueueError';
  }
}

let loadedBullmq: Promise<typeof BullMQ> | undefined;

/**
 * BullMQ, loaded by the first queue operation: with ioredis it takes ~0.13 s to load, which the
 * commands that never touch a queue (most of them) should not pay.
 */
export function bullmq(): Promise<typeof BullMQ> {
  loadedBullmq ??= import('bullmq');
  return loadedBullmq;
}

/** Connects a plain client, or throws a QueueError naming the URL when Redis does not answer within `timeoutMs`. */
export async function connectRedis(target: RedisTarget, options: { timeoutMs?: number; name: string }): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const client = new Redis({ ...redisOptions(target), lazyConnect: true, connectionName: options.name, maxRetriesPerRequest: 1 });
  // Until connected, failures are reported by connect() below (with the socket's own reason); afterwards the owner listens.
  let reason: string | undefined;
  client.on('error', (error: Error) => void (reason ??= error.message));
  const timeoutMs = options.timeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    await client.ping();
    return client;
  } catch (error) {
    client.disconnect();
    throw new QueueError(target, `cannot connect (${reason ?? (error instanceof Error ? error.message : String(error))}); is redis-server running there?`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** Every BullMQ key Gauntlet writes starts with this (BullMQ's own default is `bull`). */
export const QUEUE_PREFIX = 'gauntlet';

/** Hash of endpoint queues in use: field = queue name, value = the endpoint it serves. Workers watch it. */
export const REGISTRY_KEY = `${QUEUE_PREFIX}:registry:endpoints`;

/**
 * Hash of counters, field = queue name: a coordinator bumps its queue's counter when it enqueues,
 * so a worker that let an idle queue go knows to serve it again (a counter, not a time: the
 * machines' clocks need not agree). A queue with no counter (an older coordinator) is never let go.
 */
export const ANNOUNCED_KEY = `${QUEUE_PREFIX}:registry:announced`;

/**
 * The model endpoint a run's rollouts go to, as text: the model spec with any base URL override.
 * Rollouts for one endpoint share one queue, so its rate limit holds across runs and workers.
 */
export function endpointOf(config: Pick<RunConfig, 'model' | 'modelOptions'>): string {
  const baseUrl = typeof config.modelOptions.baseUrl === 'string' ? config.modelOptions.baseUrl : undefined;
  return baseUrl ? `${config.model} @ ${baseUrl}` : config.model;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** BullMQ queue names may not contain `:`; a hash keeps any spec (URLs, `#`, `/`) out of key names. */
export function rolloutQueueName(endpoint: string): string {
  return `rollouts-${shortHash(endpoint)}`;
}

/** What every run's results queue name starts with. */
export const RESULT_QUEUE_PREFIX = 'results-';

/** Each run gets its own results queue: its coordinator is the one consumer. */
export function resultQueueName(runId: RunId): string {
  return `${RESULT_QUEUE_PREFIX}${runId}`;
}
