import { z } from 'zod';
import type { Rollout } from '../../core/index.ts';

/**
 * Group-relative advantages, for a group's rewards r_1..r_n with mean m:
 * - `grpo`:   A_i = (r_i − m) / (s + ε), s the sample standard deviation (n − 1 in the
 *             denominator, as torch.std computes it in verl and TRL), ε = 1e-6.
 * - `drgrpo`: A_i = r_i − m (Dr. GRPO: no division by the std, which favours easy and hard groups).
 * - `rloo`:   A_i = r_i − (Σ_{j≠i} r_j) / (n − 1), the leave-one-out baseline (= n/(n−1)·(r_i − m)).
 * A group whose rewards are all equal, or that has one member, gets 0 for everyone: there is
 * nothing to compare against (and GRPO's ε would otherwise turn rounding noise into a signal).
 */
export const AdvantageMethod = z.enum(['grpo', 'drgrpo', 'rloo']);
export type AdvantageMethod = z.infer<typeof AdvantageMethod>;

export const GRPO_EPSILON = 1e-6;

export function groupAdvantages(rewards: readonly number[], method: AdvantageMethod, epsilon = GRPO_EPSILON): number[] {
  const n = rewards.length;
  if (n < 2 || rewards.every((r) => r === rewards[0])) return rewards.map(() => 0);
  const sum = rewards.reduce((a, b) => a + b, 0);
  const mean = sum / n;
  switch (method) {
    case 'drgrpo':
      return rewards.map((r) => r - mean);
    case 'rloo':
      return rewards.map((r) => r - (sum - r) / (n - 1));
    case 'grpo': {
      const std = Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / (n - 1));
      return rewards.map((r) => (r - mean) / (std + epsilon));
    }
  }
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
      byKey.set(key, [...(byKey.get(key) ?? []), rollout]);
    }
  }
  const groups = [...byKey].map(([id, members]): RolloutGroup => {
    const sorted = [...members].sort((a, b) => a.epoch - b.epoch || a.id.localeCompare(b.id));
    // The composed reward where the run configured one (`--reward`); it is null exactly when the score is.
    const rewards = sorted.map((r) => r.reward ?? (r.score as number));
    return { id, members: sorted, rewards, advantages: groupAdvantages(rewards, options.method, options.epsilon) };
  });
  return { groups, excluded, singletons: groups.filter((g) => g.members.length === 1).map((g) => g.id), method: options.method, groupBy };
}
