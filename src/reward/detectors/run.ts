// One pass of the detectors over one trajectory: the rules' flags, the monitor's verdict (or the
// infrastructure error that kept it from judging), the commands the parser could not read, and a
// review entry for each category on which the rules and the monitor disagree.
import {
  DETECTION_CATEGORIES,
  InfraError,
  type DetectionCategory,
  type DetectionFlag,
  type DetectionReport,
  type MonitorOutcome,
  type ReviewEntry,
  type UnparsedCommand,
} from '../../core/index.ts';
import { analyse, cut, excerpt } from './actions.ts';
import { contextFor, contextOfTask, type DetectionContext } from './context.ts';
import { MAX_REASON, type Detector } from './detector.ts';
import { isMonitor } from './monitor.ts';
import { RULE_DETECTORS } from './rules/index.ts';
import type { Trajectory } from './trajectory.ts';

export interface DetectTrajectoryOptions {
  /** The rule detectors when absent. */
  detectors?: readonly Detector[];
  /** Replaces what is derived from the trajectory (work dir, internal domains, what the user permitted). */
  context?: Partial<DetectionContext>;
  /** The task the trajectory ran, for what its environment marks (commits holding the answer); `context` wins over it. */
  task?: { metadata?: Record<string, unknown> | undefined };
  signal?: AbortSignal;
  now?: () => Date;
}

const ORDER = new Map<DetectionCategory, number>(DETECTION_CATEGORIES.map((c, i) => [c, i]));

function byPlace(a: DetectionFlag, b: DetectionFlag): number {
  return a.evidence.callIndex - b.evidence.callIndex || (ORDER.get(a.category) ?? 0) - (ORDER.get(b.category) ?? 0) || a.detector.localeCompare(b.detector);
}

/** Categories both sides look at, where exactly one of them flagged something. */
function disagreements(ruleFlags: readonly DetectionFlag[], monitorFlags: readonly DetectionFlag[], covered: ReadonlySet<DetectionCategory>): ReviewEntry[] {
  const entries: ReviewEntry[] = [];
  for (const category of ORDER.keys()) {
    if (!covered.has(category)) continue;
    const rules = ruleFlags.filter((f) => f.category === category);
    const monitor = monitorFlags.filter((f) => f.category === category);
    if ((rules.length > 0) === (monitor.length > 0)) continue;
    entries.push({ category, disagreement: rules.length > 0 ? 'rules_only' : 'monitor_only', ruleFlags: rules, monitorFlags: monitor });
  }
  return entries;
}

export async function detectTrajectory(trajectory: Trajectory, options: DetectTrajectoryOptions = {}): Promise<DetectionReport> {
  const detectors = options.detectors ?? RULE_DETECTORS;
  const context = contextFor(trajectory, { ...(options.task ? contextOfTask(options.task) : {}), ...options.context });
  const ruleFlags: DetectionFlag[] = [];
  const monitorFlags: DetectionFlag[] = [];
  let monitor: MonitorOutcome | null = null;
  const ruleCategories = new Set<DetectionCategory>();
  const monitorCategories = new Set<DetectionCategory>();
  for (const detector of detectors) {
    if (!isMonitor(detector)) {
      // Loops, not push(...): a long trajectory can raise more flags than a call takes arguments.
      for (const flag of await detector.detect(trajectory, context, { ...(options.signal ? { signal: options.signal } : {}) })) ruleFlags.push(flag);
      for (const c of detector.categories) ruleCategories.add(c);
      continue;
    }
    try {
      const judgement = await detector.judge(trajectory, context, { ...(options.signal ? { signal: options.signal } : {}) });
      monitor = { status: 'ok', spec: detector.spec, verdict: judgement.verdict, ...(judgement.summary ? { summary: judgement.summary } : {}) };
      for (const flag of judgement.flags) monitorFlags.push(flag);
      for (const c of detector.categories) monitorCategories.add(c);
    } catch (error) {
      if (!(error instanceof InfraError)) throw error;
      monitor = { status: 'infra_error', spec: detector.spec, kind: error.kind, message: error.message };
    }
  }
  const covered = new Set([...ruleCategories].filter((c) => monitorCategories.has(c)));
  // Commands the parser refused, and what was left unread to bound the cost: not judged, never silently.
  const analysis = analyse(trajectory, context);
  const unparsed: UnparsedCommand[] = [];
  for (const a of analysis.actions) {
    if (a.kind !== 'shell') continue;
    const reasons = a.script.error !== null ? [a.script.error] : a.script.notJudged;
    for (const error of reasons) unparsed.push({ callIndex: a.step.callIndex, excerpt: excerpt(a.script.source), error: cut(error, MAX_REASON) });
  }
  for (const u of analysis.notJudged) unparsed.push(u);
  unparsed.sort((a, b) => a.callIndex - b.callIndex);
  return {
    createdAt: (options.now?.() ?? new Date()).toISOString(),
    detectors: detectors.map((d) => d.name),
    flags: [...ruleFlags, ...monitorFlags].sort(byPlace),
    monitor,
    review: monitor?.status === 'ok' ? disagreements(ruleFlags, monitorFlags, covered) : [],
    unparsed,
  };
}
