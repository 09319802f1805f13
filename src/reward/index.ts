// Turning a trajectory into a reward: named, weighted terms (verifier outcome and rewards, process
// and time measures, rule-detector penalties and gates, rubric judges), each stored on the rollout,
// and their weighted sum. See docs/design/rewards.md.
export {
  DEFAULT_REWARD_CONFIG,
  BUILT_IN_REWARD_SOURCE,
  environmentRewardConfig,
  loadRewardConfig,
  needs as rewardNeeds,
  parseRewardConfig,
  rewardConfigJson,
  rewardsByEnvironment,
  TERM_NAMES,
  type RewardConfig,
  type RewardTermSpec,
} from './config.ts';
export {
  composeReward,
  composeToolReward,
  rewardRollout,
  scoreRollout,
  termsNeedingTheModel,
  RUBRIC_CALL_INDEX,
  type ComposedReward,
  type ComposeOptions,
  type ToolEpisode,
} from './compose.ts';
export { traceAttempt, traceOf, type AttemptSpend, type AttemptTrace, type ToolUse, type TraceOptions } from './trace.ts';
export { processCounts, type ProcessCounts } from './process.ts';
export { loadRubric, normalised, Rubric, RubricCriterion, rubricRef, type RubricInput } from './rubric.ts';
export { gradeWithRubric, judgeSystemPrompt, JudgeGrade, readGrade, type JudgeRecording, type RubricGrade, type RubricGraderOptions } from './judge.ts';
export { agreementOf, type Agreement, type CriterionAgreement } from './agreement.ts';
export { benchRewardComposition, type RewardBenchOptions, type RewardBenchResult } from './bench.ts';
