// Inter-rater agreement: Krippendorff's alpha (any number of reviewers, missing labels allowed)
// with a bootstrap interval over units, and Cohen's kappa for one pair of reviewers. Undefined
// values (nothing pairable, no variation to explain) are null, never 0 or 1.
import { createRng } from '../core/index.ts';

export type AlphaLevel = 'nominal' | 'ordinal' | 'interval';
export type RatingValue = string | number;

/** Disagreement between two categories, from the coincidence margins (`n`) where the metric needs them. */
function metric(level: AlphaLevel, categories: readonly RatingValue[], margins: readonly number[]): (c: number, k: number) => number {
  if (level === 'nominal') return (c, k) => (c === k ? 0 : 1);
  if (level === 'interval') return (c, k) => ((categories[c] as number) - (categories[k] as number)) ** 2;
  // Ordinal: the squared mass of values between the two ranks, half-counting both ends.
  const cumulative = [0];
  for (const m of margins) cumulative.push(cumulative.at(-1)! + m);
  return (c, k) => {
    const [lo, hi] = c <= k ? [c, k] : [k, c];
    return (cumulative[hi + 1]! - cumulative[lo]! - (margins[lo]! + margins[hi]!) / 2) ** 2;
  };
}

function sortedCategories(units: readonly (readonly RatingValue[])[], level: AlphaLevel): RatingValue[] {
  const values = [...new Set(units.flat())];
  if (level !== 'nominal' && values.some((v) => typeof v !== 'number')) throw new Error(`${level} alpha needs numeric values, got ${JSON.stringify(values.find((v) => typeof v !== 'number'))}`);
  return level === 'nominal' ? values.sort((a, b) => String(a).localeCompare(String(b))) : values.sort((a, b) => (a as number) - (b as number));
}

/**
 * Krippendorff's alpha over units, each the values its reviewers gave (missing ones left out).
 * Units with fewer than two values are not pairable and do not count. Null when fewer than two
 * pairable values exist or all values are equal (expected disagreement 0).
 */
export function krippendorffAlpha(units: readonly (readonly RatingValue[])[], level: AlphaLevel): number | null {
  const pairable = units.filter((u) => u.length >= 2);
  const categories = sortedCategories(pairable, level);
  const index = new Map(categories.map((c, i) => [c, i]));
  const size = categories.length;
  const o = new Float64Array(size * size);
  for (const unit of pairable) {
    const counts = new Map<number, number>();
    for (const value of unit) counts.set(index.get(value)!, (counts.get(index.get(value)!) ?? 0) + 1);
    const weight = 1 / (unit.length - 1);
    for (const [c, nc] of counts) for (const [k, nk] of counts) o[c * size + k]! += (c === k ? nc * (nc - 1) : nc * nk) * weight;
  }
  const margins = Array.from({ length: size }, (_, c) => {
    let sum = 0;
    for (let k = 0; k < size; k++) sum += o[c * size + k]!;
    return sum;
  });
  const n = margins.reduce((a, b) => a + b, 0);
  if (n < 2) return null;
  const delta = metric(level, categories, margins);
  let observed = 0;
  let expected = 0;
  for (let c = 0; c < size; c++) {
    for (let k = 0; k < size; k++) {
      const d = delta(c, k);
      observed += o[c * size + k]! * d;
      expected += margins[c]! * margins[k]! * d;
    }
  }
  if (expected === 0) return null;
  return 1 - ((n - 1) * observed) / expected;
}

export interface AlphaEstimate {
  level: AlphaLevel;
  alpha: number | null;
  /** Percentile interval of alpha over units resampled with replacement; null when alpha is. */
  ci: [number, number] | null;
  confidence: number;
  /** Resamples in which alpha was defined (a resample of identical values has none). */
  resamples: number;
  /** Units with two or more values, and the values in them. */
  units: number;
  values: number;
  reviewers: number;
}

export interface AlphaOptions {
  level: AlphaLevel;
  resamples?: number;
  confidence?: number;
  seed?: number | string;
  /** Distinct reviewers behind the units, for the report. */
  reviewers?: number;
}

function percentile(sorted: readonly number[], p: number): number {
  const at = p * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** Alpha with a bootstrap interval: pairable units resampled with replacement, seeded. */
export function alphaWithInterval(units: readonly (readonly RatingValue[])[], options: AlphaOptions): AlphaEstimate {
  const pairable = units.filter((u) => u.length >= 2);
  const confidence = options.confidence ?? 0.95;
  const alpha = krippendorffAlpha(pairable, options.level);
  const base = { level: options.level, alpha, confidence, units: pairable.length, values: pairable.reduce((s, u) => s + u.length, 0), reviewers: options.reviewers ?? 0 };
  if (alpha === null) return { ...base, ci: null, resamples: 0 };
  const rng = createRng(options.seed ?? 'alpha');
  const draws: number[] = [];
  const resample: (readonly RatingValue[])[] = new Array(pairable.length);
  for (let b = 0; b < (options.resamples ?? 1000); b++) {
    for (let i = 0; i < pairable.length; i++) resample[i] = pairable[rng.int(0, pairable.length)]!;
    const value = krippendorffAlpha(resample, options.level);
    if (value !== null) draws.push(value);
  }
  draws.sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  return { ...base, ci: draws.length > 0 ? [percentile(draws, tail), percentile(draws, 1 - tail)] : null, resamples: draws.length };
}

export interface KappaResult {
  /** Cohen's kappa; null when the pair shares no unit or chance agreement is already total. */
  kappa: number | null;
  /** Units both reviewers rated. */
  n: number;
  observedAgreement: number | null;
  expectedAgreement: number | null;
}

/** Cohen's kappa for two reviewers over the units both rated: (p_o − p_e) / (1 − p_e). */
export function cohensKappa(pairs: readonly (readonly [RatingValue, RatingValue])[]): KappaResult {
  const n = pairs.length;
  if (n === 0) return { kappa: null, n, observedAgreement: null, expectedAgreement: null };
  const first = new Map<RatingValue, number>();
  const second = new Map<RatingValue, number>();
  let agree = 0;
  for (const [a, b] of pairs) {
    if (a === b) agree++;
    first.set(a, (first.get(a) ?? 0) + 1);
    second.set(b, (second.get(b) ?? 0) + 1);
  }
  const observed = agree / n;
  let expected = 0;
  for (const [value, count] of first) expected += (count / n) * ((second.get(value) ?? 0) / n);
  const kappa = expected === 1 ? null : (observed - expected) / (1 - expected);
  return { kappa, n, observedAgreement: observed, expectedAgreement: expected };
}
