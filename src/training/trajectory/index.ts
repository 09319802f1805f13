// Token trajectories: a rollout's model calls merged into exact token segments, with the drift
// that broke a merge, and a group's segments as a prefix tree.
export {
  CallSpan,
  DriftCause,
  DriftRecord,
  SegmentStart,
  SkipReason,
  tokenPolicyVersions,
  type AssembleResult,
  type Segment,
  type TokenDecoder,
  type Trajectory,
} from './types.ts';
export { assembleTrajectory, engineTokens, policyVersionOf, trainingCalls, trainingParents, type AssembleOptions } from './assemble.ts';
export { classifyDrift, commonPrefixLength, type DriftFinding, type DriftInput } from './drift.ts';
export { addSavings, buildPrefixTree, NO_SAVINGS, type PrefixLink, type PrefixTree, type TokenSavings } from './prefix-tree.ts';
export { prefixMergingBench, prefixMergingFigures, type PrefixMergingCase, type PrefixMergingFigure, type PrefixMergingOptions } from './bench.ts';
