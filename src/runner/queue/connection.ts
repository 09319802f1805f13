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
  /** The flag or field that gave the URL, named by errors about what it asks of the server (a database it lacks). */
  where: string;
}

const FORM = 'redis://[USER:PASSWORD@]HOST[:PORT][/DB] or rediss://… for TLS, e.g. redis://127.0.0.1:6379';

/**
 * `text` with everything before its last `@` (after any `scheme://`) masked: a URL too broken to
 * parse may still carry a password, and where its credentials end is anyone's guess.
 */
function maskedCredentials(text: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
  const at = text.lastIndexOf('@');
  return at < scheme.length ? text : `${scheme}***${text.slice(at)}`;
}

/** Parses a Redis URL; every problem is an InputError at `where` (the flag or field that gave it). */
export function parseRedisUrl(text: string, where = '--queue'): RedisTarget {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch (_error) {
    throw new InputError(where, `"${maskedCredentials(text.trim())}" is not a URL`, FORM);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new InputError(where, `"${url.protocol}" is not a Redis scheme`, FORM);
  if (!url.hostname) throw new InputError(where, 'the URL names no host', FORM);
  const port = url.port ? Number(url.port) : 6379;
  const path = url.pathname.replace(/^\/+/, '');
  // An '@' there is user info whose password holds a '/' (not percent-encoded): not repeated.
  if (path.includes('@')) throw new InputError(where, `"${maskedCredentials(`${url.protocol}//${path}`)}" follows the host: a password holding "/" must be percent-encoded (%2F)`, FORM);
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
    where,
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
  } catch (error) {
    client.disconnect();
    const why = reason ?? (error instanceof Error ? error.message : String(error));
    // Redis answered, so it is running: what is wrong is the URL's credentials, which the user fixes.
    if (/^(NOAUTH|WRONGPASS)\b/.test(why)) {
      const problem = target.password === undefined ? 'the server requires a password and the URL gives none' : "the server refuses the URL's user and password";
      throw new InputError(target.where, `${target.display}: ${problem} (${why.replace(/,.*$/s, '')})`, 'redis://[USER]:PASSWORD@HOST:PORT[/DB] with the password (and ACL user) the server expects');
    }
    throw new QueueError(target, `cannot connect (${why}); is redis-server running there?`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  await selectDatabase(client, target);
  return client;
}

/**
 * Selects the URL's database again, to hear the answer: ioredis reports a refused SELECT (a
 * database the server lacks) only as an 'error' event and goes on using database 0.
 */
async function selectDatabase(client: Redis, target: RedisTarget): Promise<void> {
  if (target.db === 0) return;
  try {
    await client.select(target.db);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const refused = error instanceof Error && error.name === 'ReplyError';
    const count = refused ? await databaseCount(client) : undefined;
    client.disconnect();
    if (!refused) throw new QueueError(target, `cannot select database ${target.db} (${message})`, { cause: error });
    throw new InputError(target.where, `${target.display}: the server refuses database ${target.db} (${message})`, count ? `a database from 0 to ${count - 1}` : 'a database the server has');
  }
}

/** How many databases the server has, where it says (managed servers may refuse CONFIG). */
async function databaseCount(client: Redis): Promise<number | undefined> {
  try {
    const [, value] = (await client.config('GET', 'databases')) as string[];
    const count = Number(value);
    return Number.isInteger(count) && count > 0 ? count : undefined;
  } catch {
    return undefined;
  }
}

/** Waits for `work` at most `ms`; says whether it settled in time (how it settled is the caller's concern). */
export async function settlesWithin(ms: number, work: Promise<unknown> | null): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve(work).then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** What closing needs of a raw client (ioredis, as BullMQ wraps it). */
interface RawClient {
  readonly status: string;
  disconnect(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** A BullMQ Queue, QueueEvents or Worker on its Redis backend. */
interface BullmqObject {
  getBackend(): {
    readonly connection?: object;
    readonly blockingConnection?: object | undefined;
    readonly client: Promise<RawClient>;
    readonly blockingClient?: Promise<RawClient> | undefined;
  };
}

/**
 * The Redis connections BullMQ objects open for themselves, kept so that closing can end them.
 * BullMQ's close sends QUIT, which waits out a Redis outage (forever on a blocking connection),
 * and when it fails BullMQ drops its 'error' listener while the client goes on reconnecting:
 * ioredis then prints "Unhandled error event" at every retry, and the process never exits. So
 * each kept client gets an 'error' listener of its own, and `disconnect()` ends what is left.
 * Clients are kept from the start, not once connected: one that Redis went away from before it was
 * ready (its version check waits for Redis forever) is exactly one BullMQ's close cannot end.
 */
export class BullmqConnections {
  private readonly clients = new Map<BullmqObject, Set<RawClient>>();

  /** Keeps `owner`'s clients, connected or not. */
  keep(owner: BullmqObject): void {
    const kept = new Set<RawClient>();
    this.clients.set(owner, kept);
    const add = (client: RawClient) => {
      if (kept.has(client)) return;
      client.on('error', () => {});
      kept.add(client);
    };
    const backend = owner.getBackend();
    // BullMQ's wrapper of a connection makes its client (`_client`, protected in its types) in its constructor.
    for (const holder of [backend.connection, backend.blockingConnection]) {
      const client = (holder as { _client?: RawClient } | undefined)?._client;
      if (client) add(client);
    }
    // Through the public promises as well, should a BullMQ version make its clients later.
    for (const connecting of [backend.client, backend.blockingClient]) {
      connecting?.then(add, () => {}); // BullMQ reports a failed connect through the owner's 'error' event
    }
  }

  /** Stops keeping `owner`'s clients (it closed). */
  forget(owner: BullmqObject): void {
    this.clients.delete(owner);
  }

  /** Ends every kept connection still open or reconnecting; commands waiting on it fail at once. */
  disconnect(): void {
    for (const kept of this.clients.values()) {
      for (const client of kept) if (client.status !== 'end') client.disconnect();
    }
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
