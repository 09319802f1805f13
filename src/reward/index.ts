// Turning a trajectory's outcome into named, weighted reward terms and one score.
import type { RewardTerm, TerminationReason, VerifierOutcome } from '../core/index.ts';

export interface ScoreInput {
  verifier: VerifierOutcome;
  terminationReason: TerminationReason;
  /** Extra terms from rubrics, judges, detectors (later modules); weight 0 terms are metrics only. */
  extraTerms?: RewardTerm[];
}

export interface ScoreResult {
  score: number;
  passed: boolean;
  terms: RewardTerm[];
}

/**
 * The verifier decides pass/fail; partial credit is kept as a weight-0 term so it is visible but
 * never inflates a score. The score is the weighted mean of the weighted terms.
 */
export function scoreRollout(input: ScoreInput): ScoreResult {
  const passed = input.verifier.passed;
  const terms: RewardTerm[] = [
    { name: 'verifier', value: passed ? 1 : 0, weight: 1, source: 'verifier' },
    {
      name: 'verifier_checks',
      value: input.verifier.score,
      weight: 0,
      source: 'verifier',
      detail: { passedChecks: input.verifier.checks.filter((c) => c.passed).length, checks: input.verifier.checks.length },
    },
    ...(input.extraTerms ?? []),
  ];
  const weight = terms.reduce((sum, t) => sum + t.weight, 0);
  const score = weight > 0 ? terms.reduce((sum, t) => sum + t.weight * t.value, 0) / weight : 0;
  return { score, passed, terms };
}
