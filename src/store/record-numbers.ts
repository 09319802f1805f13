// Which non-finite numbers each kind of record may hold (non-finite.ts keeps them through JSON),
// and how a rollout reads whose reward an older Gauntlet stored damaged.
import type { NonFinitePolicy, RecordPath } from './non-finite.ts';

const isLogprob = (path: RecordPath) => path.length === 4 && path[0] === 'response' && path[1] === 'tokens' && path[2] === 'completionLogprobs';

/**
 * Model calls: a completion logprob may be -∞ (a token of probability 0, which an engine reports
 * as such); NaN or +∞ is no logprob. Elsewhere the record's schema decides: verbatim JSON (wire
 * bodies, the arguments a model wrote) takes any number, a typed field (usage, latency) none.
 */
export const CALL_NUMBERS: NonFinitePolicy = {
  refuse: (path, word) => (isLogprob(path) && word !== '-Infinity' ? `a logprob cannot be ${word} (expected a number ≤ 0, or -Infinity for a token of probability 0)` : null),
  placeholder: (path) => (isLogprob(path) ? 0 : null),
};

/** Rollouts: `score` and `reward` are nullable numbers, so the schema alone would take a stand-in there. */
export const ROLLOUT_NUMBERS: NonFinitePolicy = {
  refuse: (path) => (path.length === 1 && (path[0] === 'score' || path[0] === 'reward') ? `a rollout's ${path[0]} must be a finite number, or null when it has none` : null),
};

/** Events: their schema decides (a world event's parameters are verbatim JSON, counts are typed). */
export const EVENT_NUMBERS: NonFinitePolicy = { refuse: () => null };

type Raw = Record<string, unknown>;

const isObject = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Where a stored rollout's reward is damaged: null where a number belongs in its reward terms, its
 * total or its verifier's numbers. Gauntlet before this check wrote NaN and ±Infinity there as
 * null (JSON has no word for them), which the rollout's schema refuses. Empty when undamaged.
 */
export function damagedReward(raw: Raw): string[] {
  const damaged: string[] = [];
  if (Array.isArray(raw.rewardTerms)) {
    raw.rewardTerms.forEach((term: unknown, i) => {
      if (!isObject(term)) return;
      const name = typeof term.name === 'string' ? ` (term ${JSON.stringify(term.name)})` : '';
      for (const field of ['value', 'weight']) if (term[field] === null) damaged.push(`rewardTerms.${i}.${field}${name}`);
    });
  }
  // A scored rollout's total is a number (null only on rollouts that were never scored).
  if (raw.status === 'scored' && raw.reward === null && Array.isArray(raw.rewardTerms) && raw.rewardTerms.length > 0) damaged.push('reward (the total)');
  const verifier = raw.verifier;
  if (isObject(verifier)) {
    if (verifier.score === null) damaged.push('verifier.score');
    if (isObject(verifier.rewards)) for (const [key, value] of Object.entries(verifier.rewards)) if (value === null) damaged.push(`verifier.rewards.${key}`);
  }
  return damaged;
}

/**
 * A damaged rollout as it reads: a scored one becomes an `error` whose reward is unavailable, as a
 * reward term that computes NaN makes it today (never a score). What is intact stays: the other
 * terms, the verifier outcome (without its damaged rewards; none at all when its score is
 * damaged). The stored row is not changed.
 */
export function withRewardUnavailable(raw: Raw, damaged: readonly string[]): { record: Raw; message: string } {
  const verdict = raw.status === 'scored' ? `; it was stored as scored, ${raw.passed === true ? 'passed' : raw.passed === false ? 'not passed' : 'unjudged'}` : '';
  const message = `the reward is unavailable: ${damaged.join(', ')} ${damaged.length === 1 ? 'is' : 'are'} null where a number belongs (a Gauntlet before this one stored NaN or an infinite number as null)${verdict}`;
  const terms = Array.isArray(raw.rewardTerms) ? raw.rewardTerms.filter((t) => isObject(t) && t.value !== null && t.weight !== null) : [];
  let verifier = raw.verifier;
  if (isObject(verifier)) {
    if (verifier.score === null) verifier = null;
    else if (isObject(verifier.rewards)) {
      const rewards = Object.fromEntries(Object.entries(verifier.rewards).filter(([, value]) => value !== null));
      verifier = { ...verifier, rewards };
    }
  }
  const intact = { ...raw, rewardTerms: terms, verifier };
  // A rollout that was not scored keeps its own status and error: only its damaged numbers go.
  if (raw.status !== 'scored') return { record: intact, message };
  const record = { ...intact, status: 'error', terminationReason: 'error', score: null, passed: null, reward: null, error: { source: 'gauntlet', kind: 'defect', message } };
  return { record, message };
}
