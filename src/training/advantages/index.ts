// Group-relative advantages (GRPO, Dr. GRPO, RLOO) over a run's scored rollouts.
export {
  AdvantageMethod,
  GroupBy,
  GRPO_EPSILON,
  groupAdvantages,
  groupKey,
  groupRollouts,
  type Grouping,
  type GroupingOptions,
  type RolloutGroup,
} from './advantages.ts';
