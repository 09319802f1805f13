// Rewards as Harbor defines them: /logs/verifier/reward.txt holds one number (the key `reward`),
// reward.json an object of named numeric metrics (booleans and non-numbers dropped, as Harbor
// drops them). Which file wins is unsettled upstream; we read reward.json first, merging
// reward.txt's number in as `reward` when the JSON lacks that key (the behaviour of Harbor's code).
import { z } from 'zod';
import { InputError } from '../../core/index.ts';

export type Rewards = Record<string, number>;

export type RewardRead =
  | { kind: 'rewards'; file: 'reward.txt' | 'reward.json'; rewards: Rewards }
  | { kind: 'none' }
  | { kind: 'invalid'; problem: string };

/**
 * When a task passes: every key the reward file wrote, plus `require`d ones, must reach its minimum
 * (`min[key]`, else `default`). The default — every key at 1 — is "all keys at their maximum" for
 * Harbor's 0..1 rewards.
 */
export const PassRule = z.object({
  require: z.array(z.string().min(1)).default([]),
  min: z.record(z.string(), z.number()).default({}),
  default: z.number().default(1),
});
export type PassRule = z.infer<typeof PassRule>;

function parseNumber(text: string): number | null {
  const trimmed = text.trim();
  // `\d+(?:\.\d*)?`, not `\d+\.?\d*`, which backtracks quadratically over a long run of digits
  // that is no number: the agent's own code may write reward.txt.
  if (!/^[+-]?(\d+(?:\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) return null;
  // "1e999" reads as Infinity: a reward no weighted sum survives (0 × Infinity is NaN), as reward.json's are dropped.
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

/** `read(name)` gives a file of the verifier's log folder, or null when it is missing. */
export async function readRewards(read: (file: string) => Promise<string | null>): Promise<RewardRead> {
  const txt = await read('reward.txt');
  const txtValue = txt !== null && txt.trim() !== '' ? parseNumber(txt) : null;
  if (txt !== null && txt.trim() !== '' && txtValue === null) return { kind: 'invalid', problem: `reward.txt holds ${JSON.stringify(txt.trim().slice(0, 40))}, not a number` };
  const json = await read('reward.json');
  if (json !== null && json.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      return { kind: 'invalid', problem: 'reward.json is not valid JSON' };
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { kind: 'invalid', problem: 'reward.json is not an object of named numbers' };
    const rewards: Rewards = {};
    for (const [key, value] of Object.entries(parsed)) if (typeof value === 'number' && Number.isFinite(value)) rewards[key] = value;
    if (rewards.reward === undefined && txtValue !== null) rewards.reward = txtValue;
    if (Object.keys(rewards).length === 0) return { kind: 'invalid', problem: 'reward.json has no numeric values' };
    return { kind: 'rewards', file: 'reward.json', rewards };
  }
  if (txtValue !== null) return { kind: 'rewards', file: 'reward.txt', rewards: { reward: txtValue } };
  if (txt !== null || json !== null) return { kind: 'invalid', problem: `${txt !== null ? 'reward.txt' : 'reward.json'} is empty` };
  return { kind: 'none' };
}

export function passes(rewards: Rewards, rule: PassRule): { passed: true } | { passed: false; reason: string } {
  const keys = [...new Set([...Object.keys(rewards), ...rule.require])];
  const short: string[] = [];
  for (const key of keys) {
    const min = rule.min[key] ?? rule.default;
    const value = rewards[key];
    if (value === undefined) short.push(`${key} missing`);
    else if (value < min) short.push(`${key} ${value} < ${min}`);
  }
  return short.length === 0 ? { passed: true } : { passed: false, reason: `short of the pass rule: ${short.join(', ')}` };
}

/** `key=value` pairs (`--pass-min correctness=1`) as a pass rule; an unparsable pair is named. */
export function passRuleFrom(pairs: string[], where: string): PassRule {
  const min: Record<string, number> = {};
  for (const pair of pairs) {
    const match = /^([^=\s]+)=(.+)$/.exec(pair.trim());
    const value = match ? parseNumber(match[2]!) : null;
    if (!match || value === null) throw new InputError(where, `${JSON.stringify(pair)} is not a key and a minimum`, 'key=number, e.g. correctness=1');
    min[match[1]!] = value;
  }
  return { require: Object.keys(min), min, default: 1 };
}
