// Training/inference mismatch over the tokens the engine sampled. Every figure is computed in one
// streaming pass (files can hold millions of tokens), so each is kept as running sums.
//
// Conventions: Δ = trainer logprob − inference logprob of the same token in the same context.
// Tokens were sampled from the inference policy, so with r = p_trainer / p_inference = exp(Δ) the
// per-token estimators of KL(inference ‖ trainer) are k1 = −log r and k3 = (r − 1) − log r
// (k3 is unbiased and never negative; k1 is unbiased but noisy and can come out negative).

import { InputError } from '../../core/index.ts';

/**
 * The lowest logprob a compared token may have: ln of the smallest double. No probability a double
 * can hold is smaller, so anything below stands in for −∞ (vLLM writes −9999, torch code often
 * clamps to finfo.min) and would swamp every mean with a number that means nothing.
 */
export const MIN_LOGPROB = Math.log(Number.MIN_VALUE);
/**
 * The largest Δ compared: r = exp(Δ) stays below e^600, so the k3 sums over up to e^109.78 (1e47)
 * such tokens stay finite (exp overflows a double just past Δ = 709.78).
 */
export const MAX_DELTA = 600;

/** What is wrong with one compared token's pair of logprobs, or null when both can be compared. */
export function comparedTokenProblem(inference: number, trainer: number): string | null {
  for (const [side, lp] of [['inference', inference], ['trainer', trainer]] as const) {
    if (typeof lp !== 'number' || Number.isNaN(lp)) return `the ${side} logprob is missing (${String(lp)}; expected a finite logprob ≤ 0)`;
    if (!Number.isFinite(lp) || lp > 0) return `the ${side} logprob ${lp} is not a logprob (expected a finite value ≤ 0)`;
    if (lp < MIN_LOGPROB) {
      return `the ${side} logprob ${lp} is below ${MIN_LOGPROB.toFixed(2)}, ln of the smallest double: a stand-in for −Infinity, not a logprob to compare (expected the real logprob, or mask 0 there)`;
    }
  }
  const delta = trainer - inference;
  if (delta > MAX_DELTA) {
    return `trainer − inference = ${delta}: the ratio r = p_trainer / p_inference = e^${delta.toFixed(1)} is beyond e^${MAX_DELTA}, too large for the KL sums (expected logprobs of a token the engine sampled; it gave this one ${inference})`;
  }
  return null;
}

/** One sequence as both sides scored it: same token ids, one logprob per position from each. */
export interface ComparedSequence {
  id: string;
  tokenIds: ArrayLike<number>;
  inference: ArrayLike<number>;
  trainer: ArrayLike<number>;
  /** 1 where the position is compared (a sampled token both sides scored). */
  compare: ArrayLike<number>;
}

export interface MismatchStats {
  tokens: number;
  meanAbsDelta: number | null;
  maxAbsDelta: number | null;
  /** Mean of trainer − inference: a systematic lean of one side. */
  meanDelta: number | null;
  k1: number | null;
  k3: number | null;
}

export interface Bucket extends MismatchStats {
  /** Inclusive lower edge. */
  from: number;
  /** Exclusive upper edge, except for the last probability bucket, which holds 1. */
  to: number;
}

export interface WorstToken {
  sequenceId: string;
  position: number;
  tokenId: number;
  inferenceLogprob: number;
  trainerLogprob: number;
  absDelta: number;
  /** The ids just before and after the token, for context. */
  before: number[];
  after: number[];
  /** Decoded text, when a tokenizer was given. */
  text?: { before: string; token: string; after: string };
}

export interface SequenceRow {
  id: string;
  tokens: number;
  meanAbsDelta: number;
  /** Σ (trainer − inference) over the sequence's compared tokens: log of the sequence-level importance ratio. */
  logRatio: number;
  /** logRatio / tokens: the log of GSPO's length-normalised sequence ratio. */
  meanLogRatio: number;
}

export interface Quantiles {
  min: number;
  p5: number;
  median: number;
  p95: number;
  max: number;
}

export interface SequenceView {
  /** Sequences with at least one compared token. */
  count: number;
  meanAbsDelta: Quantiles | null;
  meanLogRatio: Quantiles | null;
  /** The sequences with the largest mean |Δ|, worst first. */
  worst: SequenceRow[];
}

export interface DeltaHistogram {
  /** Tokens whose two logprobs are identical. */
  exact: number;
  /** |Δ| in log-spaced bins; the first bin also holds anything smaller, the last anything larger. */
  bins: { from: number; to: number; count: number }[];
}

export interface PrecisionStats extends MismatchStats {
  /** Pearson correlation of the token probabilities exp(logprob); null when either side is constant. */
  pearson: number | null;
  byPosition: Bucket[];
  byProbability: Bucket[];
  histogram: DeltaHistogram;
  worst: WorstToken[];
  sequences: SequenceView;
}

export interface MetricOptions {
  /** How many worst tokens and worst sequences to keep (default 10). */
  top?: number;
  /** Roughly how many position buckets (default 10; the width is rounded to 1, 2 or 5 × 10^k). */
  positionBuckets?: number;
  /** Ids kept either side of a worst token (default 4 before, 2 after). */
  context?: { before: number; after: number };
}

export const PROBABILITY_EDGES = [0, 0.1, 0.5, 0.9, 0.99, 1] as const;
const HISTOGRAM_EDGES = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10];

/** Running sums for one slice of tokens. */
class Sums {
  count = 0;
  absDelta = 0;
  maxAbsDelta = 0;
  delta = 0;
  k1 = 0;
  k3 = 0;
  add(delta: number): void {
    const abs = Math.abs(delta);
    this.count++;
    this.absDelta += abs;
    if (abs > this.maxAbsDelta) this.maxAbsDelta = abs;
    this.delta += delta;
    this.k1 += -delta;
    this.k3 += k3Term(delta);
  }
  merge(other: Sums): void {
    this.count += other.count;
    this.absDelta += other.absDelta;
    this.maxAbsDelta = Math.max(this.maxAbsDelta, other.maxAbsDelta);
    this.delta += other.delta;
    this.k1 += other.k1;
    this.k3 += other.k3;
  }
  stats(): MismatchStats {
    const n = this.count;
    if (n === 0) return { tokens: 0, meanAbsDelta: null, maxAbsDelta: null, meanDelta: null, k1: null, k3: null };
    return { tokens: n, meanAbsDelta: this.absDelta / n, maxAbsDelta: this.maxAbsDelta, meanDelta: this.delta / n, k1: this.k1 / n, k3: this.k3 / n };
  }
}

/** (r − 1) − log r with log r = Δ; expm1 keeps it accurate when Δ is tiny. */
export function k3Term(delta: number): number {
  return Math.expm1(delta) - delta;
}

/** Pearson correlation from running co-moments (Welford), stable for values clustered near 1. */
class Correlation {
  private n = 0;
  private meanX = 0;
  private meanY = 0;
  private m2x = 0;
  private m2y = 0;
  private cxy = 0;
  add(x: number, y: number): void {
    this.n++;
    const dx = x - this.meanX;
    this.meanX += dx / this.n;
    const dy = y - this.meanY;
    this.meanY += dy / this.n;
    this.m2x += dx * (x - this.meanX);
    this.m2y += dy * (y - this.meanY);
    this.cxy += dx * (y - this.meanY);
  }
  value(): number | null {
    if (this.n < 2 || this.m2x <= 0 || this.m2y <= 0) return null;
    return Math.max(-1, Math.min(1, this.cxy / Math.sqrt(this.m2x * this.m2y)));
  }
}

/** The smallest of 1, 2, 5 × 10^k that splits `span` positions into at most `target` buckets. */
export function niceWidth(span: number, target: number): number {
  const raw = Math.max(1, span / Math.max(1, target));
  for (let scale = 1; ; scale *= 10) {
    for (const step of [1, 2, 5]) if (step * scale >= raw) return step * scale;
  }
}

function probabilityBucket(p: number): number {
  for (let i = PROBABILITY_EDGES.length - 2; i > 0; i--) if (p >= (PROBABILITY_EDGES[i] as number)) return i;
  return 0;
}

function histogramBin(abs: number): number {
  let i = 0;
  while (i < HISTOGRAM_EDGES.length - 2 && abs >= (HISTOGRAM_EDGES[i + 1] as number)) i++;
  return i;
}

function quantiles(values: number[]): Quantiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank on the sorted values: exact and easy to check by hand.
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
  return { min: sorted[0] as number, p5: at(0.05), median: at(0.5), p95: at(0.95), max: sorted.at(-1) as number };
}

/**
 * Accumulates mismatch statistics one sequence at a time; `result()` may be called at any point.
 * Position buckets are chosen at the end, from exact per-position sums.
 */
export class PrecisionAccumulator {
  private readonly top: number;
  private readonly positionTarget: number;
  private readonly context: { before: number; after: number };
  private readonly total = new Sums();
  private readonly correlation = new Correlation();
  private readonly positions: Sums[] = [];
  private readonly probabilities = PROBABILITY_EDGES.slice(1).map(() => new Sums());
  private readonly histogram = { exact: 0, counts: HISTOGRAM_EDGES.slice(1).map(() => 0) };
  private worstTokens: WorstToken[] = [];
  private readonly rows: SequenceRow[] = [];

  constructor(options: MetricOptions = {}) {
    this.top = options.top ?? 10;
    this.positionTarget = options.positionBuckets ?? 10;
    this.context = options.context ?? { before: 4, after: 2 };
  }

  /** Throws an InputError naming the sequence and position for anything that cannot be compared. */
  add(sequence: ComparedSequence): void {
    const { tokenIds, inference, trainer, compare } = sequence;
    const where = `sequence "${sequence.id}"`;
    for (const [name, values] of [['inference', inference], ['trainer', trainer], ['compare', compare]] as const) {
      if (values.length !== tokenIds.length) {
        throw new InputError(where, `${values.length} ${name} entries for ${tokenIds.length} token ids`, 'one per token id');
      }
    }
    for (let pos = 0; pos < tokenIds.length; pos++) {
      if (compare[pos] !== 1) continue;
      const problem = comparedTokenProblem(inference[pos] as number, trainer[pos] as number);
      if (problem) throw new InputError(`${where}, position ${pos}`, problem);
    }
    let tokens = 0;
    let absSum = 0;
    let logRatio = 0;
    for (let pos = 0; pos < tokenIds.length; pos++) {
      if (compare[pos] !== 1) continue;
      const lpI = inference[pos] as number;
      const lpT = trainer[pos] as number;
      const delta = lpT - lpI;
      const abs = Math.abs(delta);
      tokens++;
      absSum += abs;
      logRatio += delta;
      this.total.add(delta);
      const pI = Math.exp(lpI);
      const pT = Math.exp(lpT);
      this.correlation.add(pI, pT);
      while (this.positions.length <= pos) this.positions.push(new Sums());
      (this.positions[pos] as Sums).add(delta);
      (this.probabilities[probabilityBucket(pI)] as Sums).add(delta);
      if (lpI === lpT) this.histogram.exact++;
      else this.histogram.counts[histogramBin(abs)]! += 1;
      if (this.top > 0 && (this.worstTokens.length < this.top || abs > (this.worstTokens.at(-1) as WorstToken).absDelta)) {
        this.keepWorst({
          sequenceId: sequence.id,
          position: pos,
          tokenId: tokenIds[pos] as number,
          inferenceLogprob: lpI,
          trainerLogprob: lpT,
          absDelta: abs,
          before: Array.from({ length: Math.min(pos, this.context.before) }, (_, i) => tokenIds[pos - Math.min(pos, this.context.before) + i] as number),
          after: Array.from({ length: Math.max(0, Math.min(tokenIds.length - pos - 1, this.context.after)) }, (_, i) => tokenIds[pos + 1 + i] as number),
        });
      }
    }
    if (tokens > 0) this.rows.push({ id: sequence.id, tokens, meanAbsDelta: absSum / tokens, logRatio, meanLogRatio: logRatio / tokens });
  }

  /** Sorted worst first; ties keep the earlier token. */
  private keepWorst(token: WorstToken): void {
    let at = this.worstTokens.length;
    while (at > 0 && (this.worstTokens[at - 1] as WorstToken).absDelta < token.absDelta) at--;
    this.worstTokens.splice(at, 0, token);
    if (this.worstTokens.length > this.top) this.worstTokens.pop();
  }

  result(): PrecisionStats {
    const width = niceWidth(this.positions.length, this.positionTarget);
    const byPosition: Bucket[] = [];
    for (let from = 0; from < this.positions.length; from += width) {
      const sums = new Sums();
      for (const s of this.positions.slice(from, from + width)) sums.merge(s);
      if (sums.count > 0) byPosition.push({ from, to: Math.min(from + width, this.positions.length), ...sums.stats() });
    }
    const rows = this.rows;
    return {
      ...this.total.stats(),
      pearson: this.correlation.value(),
      byPosition,
      byProbability: this.probabilities.map((s, i) => ({ from: PROBABILITY_EDGES[i] as number, to: PROBABILITY_EDGES[i + 1] as number, ...s.stats() })),
      histogram: {
        exact: this.histogram.exact,
        bins: this.histogram.counts.map((count, i) => ({ from: HISTOGRAM_EDGES[i] as number, to: HISTOGRAM_EDGES[i + 1] as number, count })),
      },
      worst: this.worstTokens.map((t) => ({ ...t, before: [...t.before], after: [...t.after] })),
      sequences: {
        count: rows.length,
        meanAbsDelta: quantiles(rows.map((r) => r.meanAbsDelta)),
        meanLogRatio: quantiles(rows.map((r) => r.meanLogRatio)),
        worst: [...rows].sort((a, b) => b.meanAbsDelta - a.meanAbsDelta).slice(0, this.top),
      },
    };
  }
}

/** All statistics for sequences already in memory. */
export function comparePrecision(sequences: Iterable<ComparedSequence>, options: MetricOptions = {}): PrecisionStats {
  const accumulator = new PrecisionAccumulator(options);
  for (const sequence of sequences) accumulator.add(sequence);
  return accumulator.result();
}
