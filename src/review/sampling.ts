// Which rollouts a review queue holds. Each strategy says why it picked each rollout, and refuses
// (naming what is missing) rather than falling back to another strategy when its evidence is absent.
import { createRng, InputError, type DetectionRecord, type RolloutSummary, type Run, type Store } from '../core/index.ts';
import { currentLabels, readLabels, staleReason } from './labels.ts';
import type { Strategy } from './model.ts';
import { finalFindings, perTaskRates, trainingStepOf, worstSeverity } from './summary.ts';

export interface Pick {
  rollout: RolloutSummary;
  reason: string;
}

export interface Sample {
  picks: Pick[];
  /** What the strategy compared or found, for the queue's record. */
  note: string;
}

export interface SampleRequest {
  store: Store;
  run: Run;
  strategy: Strategy;
  sample: number;
  seed: number;
}

/** Picks ranked best first: ties keep a seeded shuffle's order, so equal candidates are drawn fairly. */
function topRanked(candidates: Pick[], rank: (pick: Pick) => number, request: SampleRequest): Pick[] {
  const shuffled = createRng(`${request.seed}:${request.strategy}`).shuffle(candidates);
  const ranked = shuffled.map((pick, i) => ({ pick, i, r: rank(pick) })).sort((a, b) => b.r - a.r || a.i - b.i);
  return ranked.slice(0, request.sample).map((x) => x.pick);
}

function describeFlags(record: DetectionRecord): string {
  const worst = new Map<string, string>();
  for (const flag of record.flags) {
    const before = worst.get(flag.category);
    if (!before || ['low', 'medium', 'high'].indexOf(flag.severity) > ['low', 'medium', 'high'].indexOf(before)) worst.set(flag.category, flag.severity);
  }
  return [...worst.entries()].map(([category, severity]) => `${category} (${severity})`).join(', ');
}

function requireFindings(request: SampleRequest, rows: readonly RolloutSummary[]): Map<string, DetectionRecord> {
  const findings = finalFindings(rows, request.store.runDetections(request.run.id));
  if (findings.size === 0) {
    throw new InputError(
      'strategy',
      `${request.strategy} needs detector findings, and none are stored for run ${request.run.id}`,
      `findings from \`gauntlet detect ${request.run.id}\` first, or strategy random`,
    );
  }
  return findings;
}

const scoredOnly = (rows: readonly RolloutSummary[]) => rows.filter((r) => r.status === 'scored');

function random(request: SampleRequest, rows: RolloutSummary[]): Sample {
  const scored = scoredOnly(rows);
  const picks = createRng(`${request.seed}:random`).shuffle(scored).slice(0, request.sample);
  return { picks: picks.map((rollout) => ({ rollout, reason: 'random sample of scored rollouts' })), note: `${picks.length} of ${scored.length} scored rollouts, drawn at random` };
}

function flagged(request: SampleRequest, rows: RolloutSummary[]): Sample {
  const findings = requireFindings(request, rows);
  const candidates = scoredOnly(rows).flatMap((rollout) => {
    const record = findings.get(rollout.id);
    return record && record.flags.length > 0 ? [{ rollout, reason: `flagged: ${describeFlags(record)}` }] : [];
  });
  const picks = topRanked(candidates, (p) => worstSeverity(findings.get(p.rollout.id)) * 1000 + (findings.get(p.rollout.id)?.flags.length ?? 0), request);
  return { picks, note: `${candidates.length} of ${findings.size} examined rollouts flagged; the most severe first` };
}

function highRewardFlagged(request: SampleRequest, rows: RolloutSummary[]): Sample {
  const findings = requireFindings(request, rows);
  const candidates = scoredOnly(rows).flatMap((rollout) => {
    const record = findings.get(rollout.id);
    return rollout.passed && record && record.flags.length > 0 ? [{ rollout, reason: `passed (score ${rollout.score}) yet flagged: ${describeFlags(record)}` }] : [];
  });
  const picks = topRanked(candidates, (p) => worstSeverity(findings.get(p.rollout.id)), request);
  return { picks, note: `${candidates.length} passing rollouts flagged by detectors, of ${findings.size} examined` };
}

/** Detector disagreements (rules against the monitor) and expert disagreements (conflicting current verdicts). */
function disagreement(request: SampleRequest, rows: RolloutSummary[]): Sample {
  const findings = finalFindings(rows, request.store.runDetections(request.run.id));
  const verdicts = new Map<string, Set<string>>();
  const rolloutOf = (id: string) => request.store.getRollout(id);
  for (const label of currentLabels(readLabels(request.store, { runId: request.run.id }))) {
    // A verdict on an attempt since run again judged another trajectory: it disagrees with no one.
    if (label.kind === 'verdict' && staleReason(label, rolloutOf) === null) verdicts.set(label.rolloutId, (verdicts.get(label.rolloutId) ?? new Set()).add(label.verdict));
  }
  const hasMonitor = [...findings.values()].some((r) => r.monitor !== null);
  if (!hasMonitor && verdicts.size === 0) {
    throw new InputError(
      'strategy',
      `disagreement needs detector findings with a monitor (rules against the monitor) or expert verdicts on run ${request.run.id}, and it has neither`,
      `\`gauntlet detect ${request.run.id} --monitor MODEL\` first, or strategy flagged or random`,
    );
  }
  const candidates = scoredOnly(rows).flatMap((rollout) => {
    const reasons: string[] = [];
    for (const entry of findings.get(rollout.id)?.review ?? []) reasons.push(`${entry.category}: ${entry.disagreement === 'rules_only' ? 'rules flagged, the monitor did not' : 'the monitor flagged, the rules did not'}`);
    const given = verdicts.get(rollout.id);
    if (given && given.size > 1) reasons.push(`reviewers disagree: ${[...given].sort().join(' vs ')}`);
    return reasons.length > 0 ? [{ rollout, reason: reasons.join('; ') }] : [];
  });
  const picks = topRanked(candidates, (p) => (p.reason.includes('reviewers disagree') ? 1 : 0), request);
  return { picks, note: `${candidates.length} rollouts with detector or reviewer disagreement` };
}

/** The run's tasks whose mean score rose most since the previous training step, their best rollouts first. */
function rewardJump(request: SampleRequest, rows: RolloutSummary[]): Sample {
  const { run, store } = request;
  const step = trainingStepOf(run);
  if (step === null) {
    throw new InputError('strategy', `reward_jump compares training steps, and run ${run.id} has no policy version with a step number`, 'a run made with --policy-version step-N (or any version ending in its step)');
  }
  const envs = [...run.config.envs].sort().join(',');
  const earlier = store
    .listRuns(100_000)
    .filter((r) => r.id !== run.id && [...r.config.envs].sort().join(',') === envs)
    .map((r) => ({ r, s: trainingStepOf(r) }))
    .filter((x): x is { r: Run; s: number } => x.s !== null && x.s < step)
    .sort((a, b) => b.s - a.s || b.r.createdAt.localeCompare(a.r.createdAt))[0];
  if (!earlier) throw new InputError('strategy', `reward_jump found no run of ${envs} at a training step before ${step}`, 'a run of the same environments at an earlier step');
  const before = new Map(perTaskRates(store.rolloutSummaries(earlier.r.id)).map((t) => [t.taskId, t.meanScore]));
  const jumps = new Map<string, { from: number; to: number }>();
  for (const task of perTaskRates(rows)) {
    const from = before.get(task.taskId);
    if (from !== undefined && from !== null && task.meanScore !== null && task.meanScore > from) jumps.set(task.taskId, { from, to: task.meanScore });
  }
  if (jumps.size === 0) throw new InputError('strategy', `no task's mean reward rose from step ${earlier.s} (run ${earlier.r.id}) to step ${step}`, 'another strategy for this run');
  const candidates = scoredOnly(rows).flatMap((rollout) => {
    const jump = jumps.get(rollout.taskId);
    if (!jump || (rollout.score ?? 0) <= jump.from) return [];
    return [{ rollout, reason: `reward jumped on ${rollout.taskId}: mean ${jump.from.toFixed(2)} at step ${earlier.s} → ${jump.to.toFixed(2)} at step ${step}; this rollout scored ${rollout.score}` }];
  });
  const picks = topRanked(candidates, (p) => {
    const jump = jumps.get(p.rollout.taskId)!;
    return (jump.to - jump.from) * 1e6 + (p.rollout.score ?? 0);
  }, request);
  return { picks, note: `compared with run ${earlier.r.id} at step ${earlier.s}: ${jumps.size} tasks rose` };
}

export function sampleRollouts(request: SampleRequest): Sample {
  const rows = request.store.rolloutSummaries(request.run.id);
  switch (request.strategy) {
    case 'random':
      return random(request, rows);
    case 'flagged':
      return flagged(request, rows);
    case 'high_reward_flagged':
      return highRewardFlagged(request, rows);
    case 'disagreement':
      return disagreement(request, rows);
    case 'reward_jump':
      return rewardJump(request, rows);
  }
}
