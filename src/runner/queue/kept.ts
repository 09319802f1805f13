// Results the coordinator cannot decode (data that is not JSON, another protocol, a payload that
// fails its checks) may be a long, expensive rollout: they are copied aside, byte for byte, under
// a key of the run before their job is let go, so a person can look at them. The rollout itself
// counts as not run (`--resume` runs it again). The copies are bounded per run and removed with
// the run's results queue once everything is stored.
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { RunId } from '../../core/index.ts';
import { QUEUE_PREFIX, resultQueueName } from './connection.ts';

/** Copies kept per run, newest first; older ones are dropped (their count stays). */
export const KEPT_RESULTS_MAX = 20;

/**
 * The hash holding a run's undecodable results: `count` (every one ever kept), and per copy n
 * (1, 2, …) `meta:n` (JSON: rollout, worker, why, when) and `data:n` (the job's stored data, as it was).
 */
export function keptResultsKey(runId: RunId): string {
  return `${QUEUE_PREFIX}:${resultQueueName(runId)}:unreadable`;
}

/** What is said of one kept result. */
export const KeptResult = z.object({
  /** The result job's id: the rollout's id. */
  rolloutId: z.string(),
  /** The worker that sent it, when its envelope could be read. */
  worker: z.string().nullable(),
  reason: z.string(),
  at: z.string(),
});
export type KeptResult = z.infer<typeof KeptResult> & { /** Its number in the hash (`data:<entry>`). */ entry: number };

// One script, so the copy is exact (the bytes never pass through a JS string) and the bound holds
// however many coordinators write at once. KEYS: the result job's hash, the run's kept hash.
// ARGV: the description (JSON), how many copies to keep.
const KEEP_SCRIPT = `
local n = redis.call('HINCRBY', KEYS[2], 'count', 1)
local raw = redis.call('HGET', KEYS[1], 'data')
if not raw then raw = '' end
redis.call('HSET', KEYS[2], 'meta:' .. n, ARGV[1], 'data:' .. n, raw)
local old = n - tonumber(ARGV[2])
if old > 0 then redis.call('HDEL', KEYS[2], 'meta:' .. old, 'data:' .. old) end
return n`;

/** Copies the result job's stored data aside with why; returns its number (`data:<n>` in `keptResultsKey`). */
export async function keepResult(client: Redis, runId: RunId, jobKey: string, what: Omit<KeptResult, 'entry'>, max = KEPT_RESULTS_MAX): Promise<number> {
  return Number(await client.eval(KEEP_SCRIPT, 2, jobKey, keptResultsKey(runId), JSON.stringify(what), String(max)));
}

/** How many of the run's results were kept, and the newest `limit` copies still held (newest first). */
export async function keptResults(client: Redis, runId: RunId, limit = KEPT_RESULTS_MAX): Promise<{ count: number; newest: KeptResult[] }> {
  const key = keptResultsKey(runId);
  const count = Number((await client.hget(key, 'count')) ?? 0);
  const numbers = Array.from({ length: Math.max(0, Math.min(limit, KEPT_RESULTS_MAX, count)) }, (_, i) => count - i);
  if (numbers.length === 0) return { count, newest: [] };
  const metas = await client.hmget(key, ...numbers.map((n) => `meta:${n}`));
  const newest: KeptResult[] = [];
  metas.forEach((text, i) => {
    if (text === null) return; // dropped past the bound
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (_error) {
      parsed = null;
    }
    const meta = KeptResult.safeParse(parsed);
    // Written by this code; anything else (a hand edit) is still listed, as unreadable.
    newest.push(meta.success ? { ...meta.data, entry: numbers[i]! } : { rolloutId: '?', worker: null, reason: `its description is not readable: ${text.slice(0, 60)}`, at: '?', entry: numbers[i]! });
  });
  return { count, newest };
}

/** Removes the run's kept results, with its results queue. */
export async function dropKeptResults(client: Redis, runId: RunId): Promise<void> {
  await client.del(keptResultsKey(runId));
}
