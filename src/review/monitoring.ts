// Training-time monitoring: runs tagged with a policy version, grouped per version and ordered by
// training step, with the rates that move when a policy starts gaming its reward — reward and pass
// rate, detector flags, shell use and response length.
import { DETECTION_CATEGORIES, type DetectionCategory, type Run, type Store } from '../core/index.ts';
import { finalFindings, flagCounts, rates, trainingStepOf } from './summary.ts';

/** Tool names that run shell commands, as the detectors read them (`bash`, `run_shell`, `harbor.exec`…). */
const SHELL_TOOL = /(^|[_.-])(bash|shell|run_command|run_shell|execute_command|execute_bash|exec|terminal)$/;

export interface MonitoringPoint {
  policyVersion: string;
  trainingStep: number | null;
  runs: string[];
  rollouts: number;
  scored: number;
  /** Mean score of scored rollouts; null when none was scored. */
  rewardMean: number | null;
  passRate: number | null;
  /** Share of examined rollouts with a flag (any, and per category); null where no rollout was examined. */
  flagRate: number | null;
  flagRates: Partial<Record<DetectionCategory, number>>;
  examined: number;
  toolCalls: number;
  /** Shell commands as a share of all tool calls; null without tool calls. */
  bashCommandRate: number | null;
  bashCommandsPerRollout: number | null;
  /** Completion tokens per model call; null when the endpoint reported no usage. */
  responseTokensMean: number | null;
}

export interface MonitoringFilter {
  env?: string;
  model?: string;
}

export function monitoringSeries(store: Store, filter: MonitoringFilter = {}): MonitoringPoint[] {
  const runs = store
    .listRuns(100_000)
    .filter((r) => r.config.policyVersion !== undefined)
    .filter((r) => filter.env === undefined || r.config.envs.includes(filter.env))
    .filter((r) => filter.model === undefined || r.config.model === filter.model);
  const byVersion = new Map<string, Run[]>();
  for (const run of runs) byVersion.set(run.config.policyVersion!, [...(byVersion.get(run.config.policyVersion!) ?? []), run]);
  const points = [...byVersion.entries()].map(([policyVersion, group]): MonitoringPoint => {
    const rows = group.flatMap((run) => store.rolloutSummaries(run.id));
    const findings = new Map(group.flatMap((run) => [...finalFindings(rows, store.runDetections(run.id))]));
    const flags = flagCounts(findings);
    const tools = group.map((run) => store.toolCallCounts(run.id));
    const toolCalls = tools.reduce((sum, counts) => sum + Object.values(counts).reduce((a, b) => a + b, 0), 0);
    const shellCalls = tools.reduce((sum, counts) => sum + Object.entries(counts).filter(([name]) => SHELL_TOOL.test(name)).reduce((a, [, n]) => a + n, 0), 0);
    const modelCalls = rows.reduce((sum, r) => sum + r.modelCalls, 0);
    const completionTokens = rows.reduce((sum, r) => sum + r.completionTokens, 0);
    const summary = rates(rows);
    return {
      policyVersion,
      trainingStep: trainingStepOf(group[0]!),
      runs: group.map((r) => r.id),
      rollouts: rows.length,
      scored: summary.scored,
      rewardMean: summary.meanScore,
      passRate: summary.pooledPassRate,
      flagRate: flags.examined > 0 ? flags.flagged / flags.examined : null,
      flagRates: Object.fromEntries(DETECTION_CATEGORIES.flatMap((c) => (flags.examined > 0 ? [[c, (flags.byCategory[c] ?? 0) / flags.examined]] : []))),
      examined: flags.examined,
      toolCalls,
      bashCommandRate: toolCalls > 0 ? shellCalls / toolCalls : null,
      bashCommandsPerRollout: rows.length > 0 ? shellCalls / rows.length : null,
      responseTokensMean: modelCalls > 0 && completionTokens > 0 ? completionTokens / modelCalls : null,
    };
  });
  return points.sort((a, b) => (a.trainingStep ?? Infinity) - (b.trainingStep ?? Infinity) || a.policyVersion.localeCompare(b.policyVersion));
}
