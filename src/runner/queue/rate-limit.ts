// Rate limits per model endpoint, written as `60/min`, `5/s` or `100/30s` (`off` removes one). BullMQ enforces them
// on the endpoint's queue for every worker at once (a limit on rollouts started, not on requests).
import { InputError } from '../../core/index.ts';

export interface RateLimit {
  /** Rollouts started at most … */
  max: number;
  /** … per this many milliseconds. */
  durationMs: number;
}

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
  return { max, durationMs };
}
