// Message authentication for the queue. Without it Redis is trusted: anyone who can write there
// can make workers call any endpoint with their API keys, start MCP commands, or hand the
// coordinator a well-formed result it cannot tell from a worker's. With a key shared through the
// environment (GAUNTLET_QUEUE_KEY) by the coordinator and every worker, each message one side acts
// on carries an HMAC-SHA256 over a canonical form of exactly what is acted on, bound to the queue
// and job id it was written for: it can be neither altered nor replayed under another run,
// rollout or queue. The key is held where no log, error or JSON text can print it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import { z } from 'zod';
import { InputError, isLoopbackHost } from '../../core/index.ts';
import type { RedisTarget } from './connection.ts';

/** The environment variable holding the key (never a flag: flags show in `ps`). */
export const QUEUE_KEY_VARIABLE = 'GAUNTLET_QUEUE_KEY';

/** Shorter keys are refused: a guessable key authenticates nothing. */
const MIN_KEY_CHARS = 16;

const KEY_FORM = `a secret of at least ${MIN_KEY_CHARS} characters, the same for the coordinator and every worker, e.g. from \`openssl rand -hex 32\``;

/** The shared key. It computes MACs and never shows itself: printed, inspected or written as JSON it reads `[queue key]`. */
export class QueueKey {
  readonly #secret: Buffer;

  /** `where` names the variable (or field) that gave the secret, in errors; they never quote it. */
  constructor(secret: string, where = QUEUE_KEY_VARIABLE) {
    if (secret === '') throw new InputError(where, 'is set but empty', `${KEY_FORM}, or unset it to trust Redis`);
    // A newline from a file on one machine and none on another would read as a forgery everywhere.
    if (secret.trim() !== secret) throw new InputError(where, 'has leading or trailing whitespace', KEY_FORM);
    if (secret.length < MIN_KEY_CHARS) throw new InputError(where, `is ${secret.length} characters long`, KEY_FORM);
    this.#secret = Buffer.from(secret, 'utf8');
  }

  /** HMAC-SHA256 of `text` (UTF-8). */
  mac(text: string): Buffer {
    return createHmac('sha256', this.#secret).update(text, 'utf8').digest();
  }

  /** `text` with the key, as written and as JSON escapes it, replaced by `***` (what a worker sends must never carry it). */
  redact(text: string): string {
    const secret = this.#secret.toString('utf8');
    let out = text;
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) if (out.includes(form)) out = out.split(form).join('***');
    return out;
  }

  toString(): string {
    return '[queue key]';
  }

  toJSON(): string {
    return '[queue key]';
  }

  [inspect.custom](): string {
    return 'QueueKey [queue key]';
  }
}

/** The key in `env`, or undefined where it is unset; set but unusable is an InputError naming the variable. */
export function queueKeyFrom(env: Record<string, string | undefined>): QueueKey | undefined {
  const secret = env[QUEUE_KEY_VARIABLE];
  return secret === undefined ? undefined : new QueueKey(secret);
}

export const Signature = z.object({ scheme: z.literal('hmac-sha256'), mac: z.string() });
export type Signature = z.infer<typeof Signature>;

/** What a MAC is of: a rollout job (coordinator → worker), a result (worker → coordinator), a job's saved spend (worker → worker). */
export type SignedPurpose = 'job' | 'result' | 'progress';

/** What a message is bound to: the queue it was added to and its job id there (a rollout id; the run's for a result queue). */
export interface SignedBinding {
  queue: string;
  jobId: string;
}

/**
 * JSON with every object's keys sorted, undefined members left out (as JSON.stringify leaves them):
 * one text for one value, whatever order its keys were written or read back in.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  const text = JSON.stringify(value);
  if (text === undefined) throw new Error(`canonicalJson: ${typeof value} has no JSON form`);
  return text;
}

function signedText(purpose: SignedPurpose, binding: SignedBinding, body: unknown): string {
  return canonicalJson({ purpose: `gauntlet-queue-${purpose}/1`, queue: binding.queue, jobId: binding.jobId, body });
}

/** `body` with its signature added (any earlier one replaced). */
export function signed<T extends object>(key: QueueKey, purpose: SignedPurpose, binding: SignedBinding, body: T): T & { signature: Signature } {
  const { signature: _old, ...rest } = body as T & { signature?: unknown };
  // The receiver holds what BullMQ's JSON text reads back as, so that is what is signed.
  const sent: unknown = JSON.parse(JSON.stringify(rest));
  return { ...(rest as T), signature: { scheme: 'hmac-sha256', mac: key.mac(signedText(purpose, binding, sent)).toString('hex') } };
}

/** Whether `data` carries a signature at all (a keyless worker reads it as: the run requires the key). */
export function carriesSignature(data: unknown): boolean {
  return data !== null && typeof data === 'object' && !Array.isArray(data) && Object.hasOwn(data, 'signature');
}

/** `valid`: the MAC of everything in `data` but its signature, for this purpose and binding, under `key`. */
export function checkSignature(key: QueueKey, purpose: SignedPurpose, binding: SignedBinding, data: unknown): 'valid' | 'missing' | 'mismatch' {
  if (!carriesSignature(data)) return 'missing';
  const { signature, ...body } = data as Record<string, unknown>;
  const claimed = Signature.safeParse(signature);
  if (!claimed.success || !/^[0-9a-f]{64}$/.test(claimed.data.mac)) return 'mismatch';
  let expected: Buffer;
  try {
    expected = key.mac(signedText(purpose, binding, body));
  } catch (_error) {
    return 'mismatch'; // nested too deep to serialise: nothing this code signed
  }
  return timingSafeEqual(expected, Buffer.from(claimed.data.mac, 'hex')) ? 'valid' : 'mismatch';
}

/** A field of unauthenticated data as it may appear in a message: short, and quoted unless it is a plain id. */
function named(value: unknown): string {
  if (typeof value === 'string' && /^[\w.:-]{1,120}$/.test(value)) return value;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * Why a worker holding `key` (or none) must not run this job, or null when it may. `final`: no
 * worker should (unsigned or badly signed, for a keyed worker); otherwise a worker that holds the
 * key may still take it (the job is tried again).
 */
export function jobRefusal(key: QueueKey | undefined, job: { id?: string | undefined; queueName: string; data: unknown }): { message: string; final: boolean } | null {
  const data = job.data as { runId?: unknown } | null;
  const run = named(data !== null && typeof data === 'object' ? data.runId : undefined);
  const what = `job ${named(job.id)} of run ${run} on ${job.queueName}`;
  if (!key) {
    if (!carriesSignature(job.data)) return null;
    return {
      message: `${what} is signed: its coordinator holds ${QUEUE_KEY_VARIABLE} and runs only with workers that hold it too, and this worker has none; set ${QUEUE_KEY_VARIABLE} to the coordinator's key in this worker's environment`,
      final: false,
    };
  }
  switch (checkSignature(key, 'job', { queue: job.queueName, jobId: job.id ?? '' }, job.data)) {
    case 'valid':
      return null;
    case 'missing':
      return {
        message: `${what} refused: it is unsigned, and this worker holds ${QUEUE_KEY_VARIABLE}, so it runs signed jobs only. Its coordinator sent unsigned messages: set ${QUEUE_KEY_VARIABLE} to this worker's key in the coordinator's environment and resume the run (--resume ${run}); or someone else wrote the job into Redis`,
        final: true,
      };
    case 'mismatch':
      return {
        message: `${what} refused: its signature does not match this worker's ${QUEUE_KEY_VARIABLE} (a coordinator with another key, or a job altered, forged, or copied from another rollout, run or queue)`,
        final: true,
      };
  }
}

/** Why a coordinator holding `key` must not store this result, or null when it may (a keyless coordinator trusts Redis). */
export function resultRefusal(key: QueueKey | undefined, job: { id?: string | undefined; queueName: string; data: unknown }): string | null {
  if (!key) return null;
  switch (checkSignature(key, 'result', { queue: job.queueName, jobId: job.id ?? '' }, job.data)) {
    case 'valid':
      return null;
    case 'missing':
      return `is unsigned, and this coordinator holds ${QUEUE_KEY_VARIABLE}: it came from a worker without the key (set ${QUEUE_KEY_VARIABLE} on every worker) or someone else wrote it into Redis`;
    case 'mismatch':
      return `has a signature that does not match this coordinator's ${QUEUE_KEY_VARIABLE} (a worker with another key, or a result forged, altered, or copied from another rollout or run)`;
  }
}

/** What a coordinator or worker without a key lets anyone who can write to its Redis do. */
const UNSIGNED_RISK = {
  worker: 'make this worker call any endpoint with its API keys or start MCP commands',
  coordinator: 'hand this run results it cannot tell from a worker\'s',
} as const;

/**
 * Refuses to run unsigned on a Redis beyond this machine unless told to trust it (`trustRedis`,
 * `--trust-redis`): as a server bound beyond loopback needs a token, a queue reachable beyond it
 * needs the key. On loopback only this machine's users reach it.
 */
export function checkQueueTrust(options: { redis: RedisTarget; key: QueueKey | undefined; trustRedis: boolean | undefined; role: keyof typeof UNSIGNED_RISK }): void {
  const { redis } = options;
  if (options.key !== undefined || options.trustRedis === true || isLoopbackHost(redis.host)) return;
  throw new InputError(
    redis.where,
    `${redis.display} is not on this machine and ${QUEUE_KEY_VARIABLE} is not set: anyone who can write to that Redis could ${UNSIGNED_RISK[options.role]}`,
    `${QUEUE_KEY_VARIABLE} set to one secret of at least ${MIN_KEY_CHARS} characters for the coordinator and every worker, or --trust-redis (trustRedis) to run unsigned`,
  );
}
