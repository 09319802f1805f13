// Module `perturb`: seeded, composable perturbations of an episode — its tools, prompts, tool
// results, world and scaffold — and suites of them. The runner calls `resolvePerturbations` once
// per run and `perturbEpisode` once per rollout.
export { FAMILIES, type EpisodeSettings, type Family, type Perturbation, type PerturbationEffect, type PerturbationTarget, type ToolLayer } from './types.ts';
export { PERTURBATIONS, perturbationIds } from './catalog.ts';
export {
  PerturbationSpec,
  describePerturbations,
  paramsOf,
  parsePerturbationText,
  resolvePerturbations,
  splitPerturbFlag,
  type ResolvedPerturbation,
  type ResolvedPerturbations,
} from './spec.ts';
export {
  isPerturbationId,
  perturbEpisode,
  perturbationSeed,
  replayPerturbations,
  toolsOf,
  type PerturbEpisodeOptions,
  type PerturbedEpisode,
  type SkippedPerturbation,
} from './apply.ts';
export { buildSuite, loadSuite, pickTrainingArm, seedForEpoch, SuiteFile, trainingArms, type Split, type Suite, type SuiteArm } from './suite.ts';
export { goldenTurns, MIN_CONTEXT_BUDGET } from './scaffold.ts';
export { ACKNOWLEDGEMENT } from './prompts/instruction.ts';
export { benchPerturbations, type PerturbBench } from './bench.ts';
