// Module `eval`: confident numbers from stored rollouts. Pure functions; the runner and CLI call them.
export { buildReport, resolveOptions, OVERALL } from './report.ts';
export type { EvalInput } from './report.ts';
export { taskMetaOf } from './tasks.ts';
export type { RunInput, TaskMeta } from './tasks.ts';
export { compareRuns, compareReports, Comparison, ComparisonRow, PairedTask, Verdict } from './compare.ts';
export type { CompareRunsOptions, CompareSettings } from './compare.ts';
export { checkGate, parseGateSuite, sharedScoredTasks, GateRule, GateSuite } from './gate.ts';
export type { CheckGateOptions, GateFailure, GateParse, GateResult, GateRuleSource, GateSkip, GateSuiteInput } from './gate.ts';
export { renderTable, renderComparison, checkTable } from './render-text.ts';
export { renderMarkdown, markdownCode, markdownText } from './render-markdown.ts';
export { printable } from './format.ts';
export { renderHtml } from './render-html.ts';
export { passAtK, passHatK, passCurves } from './passk.ts';
export { bootstrapMeans, signFlipTest } from './bootstrap.ts';
export { difficultyEstimate, discrimination } from './discrimination.ts';
export { holmAdjust, normalCdf, normalQuantile } from './stats.ts';
export { exactTestPower, fitTaskModel, groupPower, minDecisivePairs, minDetectableDifference, requiredTasks } from './power.ts';
export type { GroupPower, PowerDesign, TaskCounts, TaskModel } from './power.ts';
export { clopperPearson } from './exact.ts';
export { checkRates } from './group.ts';
export {
  EVAL_REPORT_VERSION,
  CheckRate,
  Discrimination,
  EpochOutcome,
  Estimate,
  EvalMeta,
  ExactInterval,
  EvalOptions,
  EvalReport,
  ExcludedTask,
  GroupStats,
  ModelReport,
  ResolvedEvalOptions,
  TaskDifficulty,
  TaskResult,
} from './schema.ts';
export type { EvalOptionsInput } from './schema.ts';
