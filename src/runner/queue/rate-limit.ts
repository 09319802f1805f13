// Rate limits per model endpoint, written as `60/min`, `5/s` or `100/30s` (`off` removes one). BullMQ enforces them
// on the endpoint's queue for every worker at once (a limit on rollouts started, not on requests).
import { z } from 'zod';
import { InputError, parseInput } from '../../core/index.ts';

/** The longest window: BullMQ hands it to Redis as an expiry, and a value past ~1e14 ms reaches Redis as `1e+14`, which every worker's take then fails on. */
export const MAX_RATE_WINDOW_MS = 7 * 24 * 3_600_000;
export const MAX_RATE = 1_000_000_000;

/** BullMQ reads a max below 1 as no limit at all, so 0 or a negative number must not get that far. */
export const RateLimit = z.strictObject({
  /** Rollouts started at most … */
  max: z.number().int('a whole number of rollouts').min(1, 'at least 1 rollout per window').max(MAX_RATE, `at most ${MAX_RATE} rollouts per window`),
  /** … per this many milliseconds. */
  durationMs: z.number().int('a whole number of milliseconds').min(1, 'a window of at least 1 ms').max(MAX_RATE_WINDOW_MS, `a window of at most ${MAX_RATE_WINDOW_MS} ms (7 days)`),
});
export type RateLimit = z.infer<typeof RateLimit>;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
const FORM = 'N/UNIT or N/DURATION UNIT, e.g. 60/min, 5/s or 100/30s (units ms, s, min, h), or off';

/** `off` (null) removes the endpoint's limit. */
export function parseRateLimit(text: string, where = '--rate-limit'): RateLimit | null {
  if (text.trim() === 'off') return null;
  const match = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)?\s*([a-z]+)\s*$/.exec(text);
  const unit = match ? UNIT_MS[match[3]!] : undefined;
  if (!match || unit === undefined) throw new InputError(where, `got "${text}"`, FORM);
  const max = Number(match[1]);
  const durationMs = Math.round(Number(match[2] ?? 1) * unit);
  if (max < 1) throw new InputError(where, `got ${max} rollouts per window`, 'at least 1');
  if (durationMs < 1) throw new InputError(where, `got a window of ${durationMs} ms`, 'a window of at least 1 ms');
  return parseInput(RateLimit, { max, durationMs }, where);
}
