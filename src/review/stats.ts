// Agreement over the labels in a scope (a run, a queue, or the whole store): alpha and pairwise
// kappa for verdicts, step ratings and preferences, and how well each detector predicts experts.
import { DETECTION_CATEGORIES, type DetectionRecord, type Rollout, type Store } from '../core/index.ts';
import { alphaWithInterval, cohensKappa, type AlphaEstimate, type AlphaLevel, type AlphaOptions, type KappaResult, type RatingValue } from './agreement.ts';
import { currentLabels, staleReason } from './labels.ts';
import type { ReviewLabel, VerdictLabel } from './model.ts';
import { scopedLabelsFor } from './scope.ts';

export interface PairKappa extends KappaResult {
  reviewers: [string, string];
}

export interface AgreementBlock {
  alpha: AlphaEstimate;
  kappa: PairKappa[];
}

export interface DetectorScore {
  /** A detection category (against experts' step flags of that name), or a detector (against experts' verdicts). */
  name: string;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  trueNegatives: number;
  /** Null when the detector flagged nothing (precision) or experts found nothing (recall). */
  precision: number | null;
  recall: number | null;
}

export interface ReviewStats {
  scope: {
    runId: string | null;
    queueId: string | null;
    labels: number;
    reviewers: string[];
    /** Current labels left out: they judged an attempt a retry has since replaced (or a rollout no longer stored). */
    staleLabels: number;
  };
  verdicts: AgreementBlock;
  steps: AgreementBlock;
  preferences: AgreementBlock;
  detectors: {
    /** Rollouts with at least one current verdict: the experts' ground truth. */
    reviewedRollouts: number;
    /** Of those, the ones the detectors examined (their final attempt). */
    examinedRollouts: number;
    /** Per category: a detector flag of the category against an expert step flag with the category's name. */
    byCategory: DetectorScore[];
    /** Per detector: any flag it raised against a majority of expert verdicts being reject or unsafe. */
    byDetector: DetectorScore[];
  };
}

export interface ReviewStatsOptions {
  store: Store;
  runId?: string;
  queueId?: string;
  resamples?: number;
  seed?: number;
}

/** One agreement block's bootstrap, as plain data: it can run here or in a worker thread. */
export interface AlphaJob {
  units: RatingValue[][];
  options: AlphaOptions;
}

/** Kappa for every pair of reviewers who share a unit, and the alpha bootstrap still to run. */
function agreement(byUnit: ReadonlyMap<string, Map<string, RatingValue>>, level: AlphaLevel, options: ReviewStatsOptions): { job: AlphaJob; kappa: PairKappa[] } {
  const reviewers = [...new Set([...byUnit.values()].flatMap((m) => [...m.keys()]))].sort();
  const job: AlphaJob = {
    units: [...byUnit.values()].map((m) => [...m.values()]),
    options: { level, resamples: options.resamples ?? 1000, seed: options.seed ?? 0, reviewers: reviewers.length },
  };
  const kappa: PairKappa[] = [];
  for (let i = 0; i < reviewers.length; i++) {
    for (let j = i + 1; j < reviewers.length; j++) {
      const [a, b] = [reviewers[i]!, reviewers[j]!];
      const pairs = [...byUnit.values()].flatMap((m) => (m.has(a) && m.has(b) ? [[m.get(a)!, m.get(b)!] as const] : []));
      if (pairs.length > 0) kappa.push({ reviewers: [a, b], ...cohensKappa(pairs) });
    }
  }
  return { job, kappa };
}

function unitsOf(labels: readonly ReviewLabel[], key: (l: ReviewLabel) => [string, RatingValue] | null): Map<string, Map<string, RatingValue>> {
  const units = new Map<string, Map<string, RatingValue>>();
  for (const label of labels) {
    const entry = key(label);
    if (!entry) continue;
    const unit = units.get(entry[0]) ?? new Map<string, RatingValue>();
    unit.set(label.reviewer, entry[1]);
    units.set(entry[0], unit);
  }
  return units;
}

function score(name: string, cases: readonly { predicted: boolean; actual: boolean }[]): DetectorScore {
  const count = (p: boolean, a: boolean) => cases.filter((c) => c.predicted === p && c.actual === a).length;
  const [tp, fp, fn, tn] = [count(true, true), count(true, false), count(false, true), count(false, false)];
  return { name, truePositives: tp, falsePositives: fp, falseNegatives: fn, trueNegatives: tn, precision: tp + fp > 0 ? tp / (tp + fp) : null, recall: tp + fn > 0 ? tp / (tp + fn) : null };
}

function detectorScores(store: Store, current: readonly ReviewLabel[], rolloutOf: (id: string) => Rollout | null): ReviewStats['detectors'] {
  const verdicts = new Map<string, VerdictLabel[]>();
  const stepFlags = new Map<string, Set<string>>();
  for (const label of current) {
    if (label.kind === 'verdict') verdicts.set(label.rolloutId, [...(verdicts.get(label.rolloutId) ?? []), label]);
    if (label.kind === 'step' && label.flag !== undefined && label.rating !== 1) stepFlags.set(label.rolloutId, (stepFlags.get(label.rolloutId) ?? new Set()).add(label.flag));
  }
  const examined: { findings: DetectionRecord; rejected: boolean; flags: Set<string> }[] = [];
  for (const [rolloutId, given] of verdicts) {
    const rollout = rolloutOf(rolloutId);
    const findings = rollout ? store.detections(rolloutId).find((d) => d.attempt === rollout.attempt) : undefined;
    if (!findings) continue;
    const rejected = given.filter((v) => v.verdict !== 'accept').length * 2 > given.length;
    examined.push({ findings, rejected, flags: stepFlags.get(rolloutId) ?? new Set() });
  }
  const byCategory = DETECTION_CATEGORIES.map((category) =>
    score(category, examined.map((e) => ({ predicted: e.findings.flags.some((f) => f.category === category), actual: e.flags.has(category) }))),
  );
  const detectors = [...new Set(examined.flatMap((e) => e.findings.detectors))].sort();
  const byDetector = detectors.map((detector) =>
    score(
      detector,
      examined.filter((e) => e.findings.detectors.includes(detector)).map((e) => ({ predicted: e.findings.flags.some((f) => f.detector === detector), actual: e.rejected })),
    ),
  );
  return { reviewedRollouts: verdicts.size, examinedRollouts: examined.length, byCategory, byDetector };
}

const BLOCKS = ['verdicts', 'steps', 'preferences'] as const;

/** A review-stats answer but for the alpha of each block, and the bootstraps (verdicts, steps, preferences) that give them. */
export interface PreparedReviewStats {
  partial: Omit<ReviewStats, (typeof BLOCKS)[number]> & Record<(typeof BLOCKS)[number], { kappa: PairKappa[] }>;
  jobs: AlphaJob[];
}

/**
 * Everything that reads the store: cheap next to the bootstraps, which stay to run (here, or in
 * a worker thread so a server keeps answering), and which depend on nothing but `jobs`.
 */
export function prepareReviewStats(options: ReviewStatsOptions): PreparedReviewStats {
  const labels = scopedLabelsFor(options);
  const rollouts = new Map<string, Rollout | null>();
  const rolloutOf = (id: string) => {
    if (!rollouts.has(id)) rollouts.set(id, options.store.getRollout(id));
    return rollouts.get(id) ?? null;
  };
  // Reviewers who judged different trajectories of one rollout do not agree or disagree, and a
  // verdict on a replaced attempt is no ground truth for the detectors' findings on the retry.
  const latest = currentLabels(labels);
  const current = latest.filter((l) => staleReason(l, rolloutOf) === null);
  const verdicts = unitsOf(current, (l) => (l.kind === 'verdict' ? [l.rolloutId, l.verdict] : null));
  const steps = unitsOf(current, (l) => (l.kind === 'step' ? [`${l.rolloutId}:${l.callId}`, l.rating] : null));
  // A preference is coded by side of its pair (the pair's ids in sorted order), not by the id it
  // names: ids differ from pair to pair, so coded by id two values from different pairs never
  // match, chance agreement looks near 0, and reviewers who agree only by chance score high.
  const preferences = unitsOf(current, (l) => {
    if (l.kind !== 'preference') return null;
    const pair = [l.leftRolloutId, l.rightRolloutId].sort();
    return [pair.join('|'), l.preferredRolloutId === null ? 'tie' : l.preferredRolloutId === pair[0] ? 'first' : 'second'];
  });
  const blocks = [agreement(verdicts, 'nominal', options), agreement(steps, 'ordinal', options), agreement(preferences, 'nominal', options)] as const;
  return {
    partial: {
      scope: { runId: options.runId ?? null, queueId: options.queueId ?? null, labels: labels.length, reviewers: [...new Set(labels.map((l) => l.reviewer))].sort(), staleLabels: latest.length - current.length },
      verdicts: { kappa: blocks[0].kappa },
      steps: { kappa: blocks[1].kappa },
      preferences: { kappa: blocks[2].kappa },
      detectors: detectorScores(options.store, current, rolloutOf),
    },
    jobs: blocks.map((b) => b.job),
  };
}

/** The answer, given each job's alpha in the order of `prepared.jobs`. */
export function finishReviewStats(prepared: PreparedReviewStats, alphas: readonly AlphaEstimate[]): ReviewStats {
  if (alphas.length !== BLOCKS.length) throw new Error(`review stats: ${alphas.length} alpha estimates for ${BLOCKS.length} blocks`);
  const { scope, verdicts, steps, preferences, detectors } = prepared.partial;
  return {
    scope,
    verdicts: { alpha: alphas[0]!, kappa: verdicts.kappa },
    steps: { alpha: alphas[1]!, kappa: steps.kappa },
    preferences: { alpha: alphas[2]!, kappa: preferences.kappa },
    detectors,
  };
}

/** Agreement over the labels in scope, every bootstrap run here (the command line's way). */
export function reviewStats(options: ReviewStatsOptions): ReviewStats {
  const prepared = prepareReviewStats(options);
  return finishReviewStats(prepared, prepared.jobs.map((job) => alphaWithInterval(job.units, job.options)));
}
