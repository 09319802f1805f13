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

/**
 * A non-finite number has no place on any scale: NaN breaks the sort that orders categories, and
 * an infinite distance turns every sum into NaN. Refused with where it was, not ignored.
 */
function checkFinite(units: readonly (readonly RatingValue[])[]): void {
  units.forEach((unit, u) =>
    unit.forEach((value, v) => {
      if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`agreement: unit ${u}, value ${v} is ${value} (expected a finite number or a string)`);
    }),
  );
}

function sortedCategories(units: readonly (readonly RatingValue[])[], level: AlphaLevel): RatingValue[] {
  checkFinite(units);
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

/**
 * Alpha of many resamples of the same pairable units, each unit's coincidences counted once up
 * front. A resample then only adds those up and sums over the categories it holds, instead of
 * rebuilding categories and counts from the values: the bootstrap's cost was almost all that.
 * Every sum runs over the same terms in the same order as `krippendorffAlpha` over the resample
 * (the categories a resample lacks add exact zeros), so each value is bit-identical to it.
 */
class ResampledAlpha {
  private readonly size: number;
  /** Unit u adds `adds[i]` to slot `slots[i]` (a cell of the coincidence matrix) for i in [starts[u], starts[u + 1]), in `krippendorffAlpha`'s order. */
  private readonly starts: Int32Array;
  private readonly slots: Int32Array;
  private readonly adds: Float64Array;
  /** Per slot, in row-major order of the cells any unit touches: its row and column. */
  private readonly rows: Int32Array;
  private readonly cols: Int32Array;
  private readonly o: Float64Array;
  private readonly margins: Float64Array;
  private readonly cumulative: Float64Array;
  private readonly present: Int32Array;

  constructor(
    pairable: readonly (readonly RatingValue[])[],
    private readonly level: AlphaLevel,
    private readonly categories: readonly RatingValue[],
  ) {
    this.size = categories.length;
    const index = new Map(categories.map((c, i) => [c, i]));
    const cells: number[][] = [];
    const values: number[][] = [];
    const touched = new Set<number>();
    for (const unit of pairable) {
      const counts = new Map<number, number>();
      for (const value of unit) counts.set(index.get(value)!, (counts.get(index.get(value)!) ?? 0) + 1);
      const weight = 1 / (unit.length - 1);
      const [unitCells, unitValues]: [number[], number[]] = [[], []];
      for (const [c, nc] of counts) {
        for (const [k, nk] of counts) {
          unitCells.push(c * this.size + k);
          unitValues.push((c === k ? nc * (nc - 1) : nc * nk) * weight);
          touched.add(c * this.size + k);
        }
      }
      cells.push(unitCells);
      values.push(unitValues);
    }
    const order = [...touched].sort((a, b) => a - b);
    const slotOf = new Map(order.map((cell, slot) => [cell, slot]));
    this.starts = new Int32Array(pairable.length + 1);
    cells.forEach((list, u) => (this.starts[u + 1] = this.starts[u]! + list.length));
    this.slots = Int32Array.from(cells.flat(), (cell) => slotOf.get(cell)!);
    this.adds = Float64Array.from(values.flat());
    this.rows = Int32Array.from(order, (cell) => Math.floor(cell / this.size));
    this.cols = Int32Array.from(order, (cell) => cell % this.size);
    this.o = new Float64Array(order.length);
    this.margins = new Float64Array(this.size);
    this.cumulative = new Float64Array(this.size + 1);
    this.present = new Int32Array(this.size);
  }

  /** Alpha of the units at `draw` (indices into the pairable units), or null where undefined. */
  alpha(draw: Int32Array): number | null {
    const { o, margins, rows, cols, size, starts, slots, adds } = this;
    o.fill(0);
    margins.fill(0);
    for (let i = 0; i < draw.length; i++) {
      const end = starts[draw[i]! + 1]!;
      for (let j = starts[draw[i]!]!; j < end; j++) o[slots[j]!]! += adds[j]!;
    }
    for (let s = 0; s < o.length; s++) margins[rows[s]!]! += o[s]!;
    // A category the resample holds has a margin of its value count; one it lacks, exactly 0.
    let held = 0;
    let n = 0;
    for (let c = 0; c < size; c++) {
      if (margins[c] === 0) continue;
      this.present[held++] = c;
      n += margins[c]!;
    }
    if (n < 2) return null;
    if (this.level === 'ordinal') for (let c = 0; c < size; c++) this.cumulative[c + 1] = this.cumulative[c]! + margins[c]!;
    let observed = 0;
    for (let s = 0; s < o.length; s++) if (o[s] !== 0) observed += o[s]! * this.delta(rows[s]!, cols[s]!);
    let expected = 0;
    for (let i = 0; i < held; i++) {
      const c = this.present[i]!;
      for (let j = 0; j < held; j++) {
        const k = this.present[j]!;
        expected += margins[c]! * margins[k]! * this.delta(c, k);
      }
    }
    if (expected === 0) return null;
    return 1 - ((n - 1) * observed) / expected;
  }

  /** `metric`'s distances, computed in place: a closure per resample cost more than the sums. */
  private delta(c: number, k: number): number {
    if (this.level === 'nominal') return c === k ? 0 : 1;
    if (this.level === 'interval') return ((this.categories[c] as number) - (this.categories[k] as number)) ** 2;
    const lo = c <= k ? c : k;
    const hi = c <= k ? k : c;
    return (this.cumulative[hi + 1]! - this.cumulative[lo]! - (this.margins[lo]! + this.margins[hi]!) / 2) ** 2;
  }
}

function checkOptions(options: AlphaOptions): { resamples: number; confidence: number } {
  const resamples = options.resamples ?? 1000;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isSafeInteger(resamples) || resamples < 0) throw new Error(`agreement: resamples is ${resamples} (expected a whole number, 0 or more)`);
  if (!(confidence > 0 && confidence < 1)) throw new Error(`agreement: confidence is ${confidence} (expected a number between 0 and 1, exclusive)`);
  return { resamples, confidence };
}

/** Alpha with a bootstrap interval: pairable units resampled with replacement, seeded. */
export function alphaWithInterval(units: readonly (readonly RatingValue[])[], options: AlphaOptions): AlphaEstimate {
  const { resamples, confidence } = checkOptions(options);
  const pairable = units.filter((u) => u.length >= 2);
  const alpha = krippendorffAlpha(pairable, options.level);
  const base = { level: options.level, alpha, confidence, units: pairable.length, values: pairable.reduce((s, u) => s + u.length, 0), reviewers: options.reviewers ?? 0 };
  if (alpha === null) return { ...base, ci: null, resamples: 0 };
  const rng = createRng(options.seed ?? 'alpha');
  const kernel = new ResampledAlpha(pairable, options.level, sortedCategories(pairable, options.level));
  const draws: number[] = [];
  const draw = new Int32Array(pairable.length);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < pairable.length; i++) draw[i] = rng.int(0, pairable.length);
    const value = kernel.alpha(draw);
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
  pairs.forEach((pair, i) => {
    const bad = pair.find((v) => typeof v === 'number' && !Number.isFinite(v));
    if (bad !== undefined) throw new Error(`agreement: pair ${i} holds ${bad} (expected a finite number or a string)`);
  });
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
