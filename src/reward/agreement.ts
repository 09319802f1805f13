// How far a judge's samples of one rollout agree. Krippendorff's alpha needs many units to
// estimate chance agreement and is undefined when one rollout's samples all sit on one point, so
// per rollout we report mean pairwise agreement on the ordinal scale: for each pair of samples,
// 1 − |a − b| / (max − min), averaged over pairs, then over criteria. 1 is unanimous; 0 is every
// pair at opposite ends. The share of pairs that agree exactly is reported beside it.
import type { Rubric } from './rubric.ts';

export interface CriterionAgreement {
  id: string;
  /** Mean over sample pairs of 1 − |a − b| / (max − min). */
  pairwise: number;
  /** Share of sample pairs with the same score. */
  exact: number;
}

export interface Agreement {
  method: 'mean_pairwise_ordinal';
  samples: number;
  /** Mean of the criteria's pairwise agreement. */
  pairwise: number;
  exact: number;
  criteria: CriterionAgreement[];
}

/** Null with fewer than two samples (agreement is undefined). */
export function agreementOf(rubric: Rubric, samples: readonly Record<string, number>[]): Agreement | null {
  if (samples.length < 2) return null;
  const criteria = rubric.criteria.map((c): CriterionAgreement => {
    const range = c.scale.max - c.scale.min;
    let closeness = 0;
    let same = 0;
    let pairs = 0;
    for (let i = 0; i < samples.length; i++) {
      for (let j = i + 1; j < samples.length; j++) {
        const a = samples[i]![c.id]!;
        const b = samples[j]![c.id]!;
        closeness += 1 - Math.abs(a - b) / range;
        if (a === b) same++;
        pairs++;
      }
    }
    return { id: c.id, pairwise: closeness / pairs, exact: same / pairs };
  });
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return { method: 'mean_pairwise_ordinal', samples: samples.length, pairwise: mean(criteria.map((c) => c.pairwise)), exact: mean(criteria.map((c) => c.exact)), criteria };
}
