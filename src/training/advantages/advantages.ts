import { z } from 'zod';
import { InputError, type Rollout } from '../../core/index.ts';

/**
 * Group-relative advantages, for a group's rewards r_1..r_n with mean m:
 * - `grpo`:   A_i = (r_i − m) / (s + ε), s the sample standard deviation (n − 1 in the
 *             denominator, as torch.std computes it in verl and TRL), ε = 1e-6.
 * - `drgrpo`: A_i = r_i − m (Dr. GRPO: no division by the std, which favours easy and hard groups).
 * - `rloo`:   A_i = r_i − (Σ_{j≠i} r_j) / (n − 1), the leave-one-out baseline (= n/(n−1)·(r_i − m)).
 * A group whose rewards are all equal, or that has one member, gets 0 for everyone: there is
 * nothing to compare against (and GRPO's ε would otherwise turn rounding noise into a signal).
 * A reward that is not a finite number is an error, never NaN in the output.
 */
export const AdvantageMethod = z.enum(['grpo', 'drgrpo', 'rloo']);
export type AdvantageMethod = z.infer<typeof AdvantageMethod>;

export const GRPO_EPSILON = 1e-6;

/** Neumaier's compensated sum of `f(values[i])`: a group of a million rewards sums to within an ulp or two. */
function accurateSum(values: ArrayLike<number>, f: (v: number) => number = (v) => v): number {
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const v = f(values[i] as number);
    const t = sum + v;
    compensation += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + compensation;
}

/** The power of two at or above |x| (at most 2^1023), so dividing by it is exact and nothing overflows. */
function powerOfTwoScale(maxAbs: number): number {
  let scale = 2 ** Math.min(1023, Math.max(-1074, Math.ceil(Math.log2(maxAbs))));
  while (scale < maxAbs && scale < 2 ** 1023) scale *= 2;
  return scale;
}

export function groupAdvantages(rewards: readonly number[], method: AdvantageMethod, epsilon = GRPO_EPSILON): number[] {
  return advantagesFor(rewards, method, epsilon, (i) => `reward ${i} of the group`);
}

/** `groupAdvantages`, with errors naming the offending member as `where(i)` does. */
function advantagesFor(rewards: readonly number[], method: AdvantageMethod, epsilon = GRPO_EPSILON, where: (index: number) => string): number[] {
  rewards.forEach((r, i) => {
    if (typeof r !== 'number' || !Number.isFinite(r)) throw new InputError(where(i), `the reward is ${String(r)}`, 'a finite number');
  });
  if (!Number.isFinite(epsilon) || epsilon < 0) throw new InputError('epsilon', `is ${epsilon}`, 'a finite number ≥ 0');
  const n = rewards.length;
  if (n < 2 || rewards.every((r) => r === rewards[0])) return rewards.map(() => 0);
  // Scaled by a power of two (exact) so that sums of rewards near ±1e308 cannot overflow; the
  // mean is compensated so large groups far from 0 keep their small differences.
  const scale = powerOfTwoScale(rewards.reduce((max, r) => Math.max(max, Math.abs(r)), 0));
  const deviations = Float64Array.from(rewards, (r) => r / scale);
  const mean = accurateSum(deviations) / n;
  for (let i = 0; i < n; i++) deviations[i]! -= mean;
  // The mean holds only a double's precision; the deviations' own mean is what it missed
  // (the corrected two-pass method), so small differences far from 0 keep their digits.
  const missed = accurateSum(deviations) / n;
  for (let i = 0; i < n; i++) deviations[i]! -= missed;
  let toAdvantage: (d: number) => number;
  switch (method) {
    case 'drgrpo':
      toAdvantage = (d) => d * scale;
      break;
    case 'rloo':
      // r_i minus the mean of the others, without the cancellation of (Σ r − r_i).
      toAdvantage = (d) => ((d * n) / (n - 1)) * scale;
      break;
    case 'grpo': {
      const std = Math.sqrt(accurateSum(deviations, (d) => d * d) / (n - 1));
      // (r − m) / (s + ε): in scaled units (ε scaled too) when the rewards are large, in the
      // rewards' own units when they are small, so neither ε / scale nor d · scale overflows.
      // A deviation that vanished below the smallest double (0 / 0) has advantage 0.
      const inScaledUnits = scale > 1 || epsilon === 0;
      toAdvantage = (d) => (d === 0 ? 0 : inScaledUnits ? d / (std + epsilon / scale) : (d * scale) / (std * scale + epsilon));
      break;
    }
  }
  return Array.from(deviations, (d, i) => {
    const advantage = toAdvantage(d) + 0; // + 0 turns −0 into 0
    if (!Number.isFinite(advantage)) {
      throw new InputError(where(i), `the reward ${rewards[i]} is so far from the group's mean that its ${method} advantage overflows a double`, 'rewards within ±1e307 of one another');
    }
    return advantage;
  });
}

/**
 * Which rollouts are compared with each other. `group`: the rollout's `groupId` when it has one,
 * else the same task and seed (the same prompt and world; `--group-size` on a run makes epochs
 * share one). `task`: every rollout of a task whatever its seed, for runs where each epoch got its
 * own world but the prompt is the same.
 */
export const GroupBy = z.enum(['group', 'task']);
export type GroupBy = z.infer<typeof GroupBy>;

export function groupKey(rollout: Rollout, by: GroupBy): string {
  if (by === 'task') return rollout.taskId;
  return rollout.groupId ?? `${rollout.taskId}#${rollout.seed}`;
}

export interface RolloutGroup {
  id: string;
  /** Scored members, by epoch; the index is the member's repetition id. */
  members: Rollout[];
  rewards: number[];
  advantages: number[];
}

export interface Grouping {
  groups: RolloutGroup[];
  /** Rollouts that are not part of any group (not scored), with why. */
  excluded: { rollout: Rollout; reason: string }[];
  /** Ids of groups with a single member (their advantage is 0). */
  singletons: string[];
  method: AdvantageMethod;
  groupBy: GroupBy;
}

export interface GroupingOptions {
  method: AdvantageMethod;
  groupBy?: GroupBy;
  epsilon?: number;
}

/**
 * Groups a run's rollouts and computes each member's advantage. Only `scored` rollouts count:
 * an infra error or cancelled rollout says nothing about the policy, so it joins no group and is
 * reported instead. Groups keep the order their first member appears in.
 */
export function groupRollouts(rollouts: readonly Rollout[], options: GroupingOptions): Grouping {
  const groupBy = options.groupBy ?? 'group';
  const byKey = new Map<string, Rollout[]>();
  const excluded: Grouping['excluded'] = [];
  for (const rollout of rollouts) {
    if (rollout.status !== 'scored') excluded.push({ rollout, reason: rollout.status });
    else if (rollout.score === null) excluded.push({ rollout, reason: 'scored without a score' });
    else {
      const key = groupKey(rollout, groupBy);
      // Appended in place: copying the group on every member made a 100k-rollout group take minutes.
      const members = byKey.get(key);
      if (members) members.push(rollout);
      else byKey.set(key, [rollout]);
    }
  }
  const groups = [...byKey].map(([id, members]): RolloutGroup => {
    // Code points, not localeCompare: a locale's collation would make the order depend on the machine exporting.
    const sorted = [...members].sort((a, b) => a.epoch - b.epoch || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // The composed reward where the run configured one (`--reward`); it is null exactly when the score is.
    const rewards = sorted.map((r) => r.reward ?? (r.score as number));
    return { id, members: sorted, rewards, advantages: advantagesFor(rewards, options.method, options.epsilon, (i) => `rollout ${sorted[i]?.id} of run ${sorted[i]?.runId} (group ${id})`) };
  });
  return { groups, excluded, singletons: groups.filter((g) => g.members.length === 1).map((g) => g.id), method: options.method, groupBy };
}
