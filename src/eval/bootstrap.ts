import { hashString } from '../core/index.ts';
import type { Estimate } from './schema.ts';
import { logChoose } from './exact.ts';
import { meanOf, quantileSorted, zeroWidth } from './stats.ts';

export interface BootstrapOptions {
  /** Seed or label; the same seed gives the same interval. */
  seed: number | string;
  resamples: number;
  /** e.g. 0.95 */
  confidence: number;
}

// The hot loops below draw from the stream `createRng(seed)` gives, with its mulberry32 step
// written out inline on an int32 state (the core keeps the same bits as a uint32): V8 does not
// inline the core closure in loops this hot, and the bootstrap runs several times faster this way.

/** The initial state createRng(seed) starts from. */
export function streamState(seed: number | string): number {
  return (typeof seed === 'number' ? seed >>> 0 : hashString(seed)) | 0;
}

/** Next uint32 of the stream, and the state after it. */
export function nextUint32(state: number): { value: number; state: number } {
  const s = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(s ^ (s >>> 15), s | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { value: (t ^ (t >>> 14)) >>> 0, state: s };
}

/** Fills `out` with indices in [0, n) exactly as createRng(seed).int(0, n) would draw them; returns the state after. */
export function fillIndices(state: number, out: Int32Array, n: number): number {
  let s = state;
  const length = out.length;
  for (let j = 0; j < length; j++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[j] = Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  }
  return s;
}

/**
 * Task-level (cluster) bootstrap of means. Each series holds one precomputed value per task (its
 * pass rate over all its epochs), so resampling tasks keeps a task's epochs together: epochs of
 * one task are correlated and resampling them separately would understate the uncertainty.
 * Every series is resampled with the same task indices, so intervals of related figures agree.
 * An interval of zero width (all tasks equal, or one task) is flagged `degenerate`, never a certainty.
 */
export function bootstrapMeans(series: readonly Float64Array[], options: BootstrapOptions): Estimate[] {
  const n = series[0]?.length ?? 0;
  for (const s of series) if (s.length !== n) throw new RangeError(`bootstrapMeans: series lengths differ (${s.length} vs ${n})`);
  if (n === 0) throw new RangeError('bootstrapMeans: no tasks to resample');
  const { resamples } = options;
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new RangeError(`bootstrapMeans: resamples must be a positive integer, got ${resamples}`);
  let state = streamState(options.seed);
  const indices = new Int32Array(n);
  const replicates = series.map(() => new Float64Array(resamples));
  for (let r = 0; r < resamples; r++) {
    state = fillIndices(state, indices, n);
    for (let s = 0; s < series.length; s++) {
      const values = series[s] as Float64Array;
      let sum = 0;
      for (let j = 0; j < n; j++) sum += values[indices[j] as number] as number;
      (replicates[s] as Float64Array)[r] = sum / n;
    }
  }
  const tail = (1 - options.confidence) / 2;
  return series.map((values, s) => {
    const sorted = (replicates[s] as Float64Array).sort();
    const ci: [number, number] = [quantileSorted(sorted, tail), quantileSorted(sorted, 1 - tail)];
    return { mean: meanOf(values), ci, degenerate: zeroWidth(ci), exact: null };
  });
}

/** Up to this many non-zero differences the sign-flip test enumerates every sign pattern (2^16). */
export const EXACT_SIGN_FLIP_LIMIT = 16;

export interface SignFlipResult {
  pValue: number;
  /** True when every sign pattern was enumerated; false for a Monte Carlo estimate. */
  exact: boolean;
}

/** Two-sided exact sign test: P(|2J − m| ≥ |2·positive − m|) for J ~ Binomial(m, ½), summed in log space. */
export function signTestPValue(m: number, positive: number): number {
  const extreme = Math.max(positive, m - positive);
  if (2 * extreme === m) return 1;
  // one tail, J ≥ extreme; the two tails are disjoint and equal
  let tail = 0;
  for (let j = extreme; j <= m; j++) tail += Math.exp(logChoose(m, j) - m * Math.LN2);
  return Math.min(1, 2 * tail);
}

/**
 * Two-sided paired sign-flip permutation test of "mean difference = 0" on per-task differences.
 * Under the null the two models are exchangeable on each task, so each difference is as likely
 * to have either sign. Unlike a paired t-test it assumes no normality — per-task differences of
 * pass rates are bounded, discrete and often mostly zeros — and with one epoch per task it is the
 * exact McNemar test on discordant tasks. Exact up to 16 non-zero differences by enumeration, and
 * for any number when every difference has the same size (the sign test); Monte Carlo otherwise,
 * with p = (hits + 1)/(resamples + 1), which keeps the test valid (never anti-conservative).
 */
export function signFlipTest(differences: ArrayLike<number>, options: { seed: number | string; resamples: number }): SignFlipResult {
  const nonZero: number[] = [];
  for (let i = 0; i < differences.length; i++) {
    const d = differences[i] as number;
    if (d !== 0) nonZero.push(d);
  }
  const m = nonZero.length;
  if (m === 0) return { pValue: 1, exact: true };
  const d = Float64Array.from(nonZero);
  let total = 0;
  let scale = 0;
  for (const v of d) {
    total += v;
    scale += Math.abs(v);
  }
  // Sums of the same numbers in another order differ in the last bits; count those as ties.
  const threshold = Math.abs(total) - 1e-9 * scale;

  // Every difference of one size (one epoch, or all-or-nothing tasks): the test is the sign test,
  // exact for any m from the binomial law, so a clear difference never hangs on how many flips were sampled.
  const size = Math.abs(d[0] as number);
  if (m > EXACT_SIGN_FLIP_LIMIT && d.every((v) => Math.abs(Math.abs(v) - size) <= 1e-12 * size)) {
    let positive = 0;
    for (const v of d) if (v > 0) positive++;
    return { pValue: signTestPValue(m, positive), exact: true };
  }

  if (m <= EXACT_SIGN_FLIP_LIMIT) {
    // Gray-code walk: each step flips one sign, so the sum updates in O(1).
    const signs = new Int8Array(m).fill(1);
    let sum = total;
    let hits = 1; // the all-plus pattern is the observed one
    const patterns = 2 ** m;
    for (let g = 1; g < patterns; g++) {
      const bit = 31 - Math.clz32(g & -g);
      sum -= 2 * (signs[bit] as number) * (d[bit] as number);
      signs[bit] = -(signs[bit] as number);
      if (Math.abs(sum) >= threshold) hits++;
    }
    return { pValue: hits / patterns, exact: true };
  }

  let state = streamState(options.seed);
  let hits = 0;
  for (let r = 0; r < options.resamples; r++) {
    let sum = 0;
    let bits = 0;
    for (let i = 0; i < m; i++) {
      // One 32-bit draw gives 32 signs.
      if ((i & 31) === 0) {
        const next = nextUint32(state);
        bits = next.value;
        state = next.state;
      }
      sum += (bits >>> (i & 31)) & 1 ? (d[i] as number) : -(d[i] as number);
    }
    if (Math.abs(sum) >= threshold) hits++;
  }
  return { pValue: (hits + 1) / (options.resamples + 1), exact: false };
}
