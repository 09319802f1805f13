// Power of the paired exact sign-flip test that `compare` runs: the minimum detectable
// difference ("detectable Δ") of a report, and the tasks a difference needs.
//
// The test only hears tasks whose two pass rates differ. With m of them its smallest two-sided
// p-value is 2·0.5^m, so below m_min (6 at α = 0.05) it cannot reject, whatever the difference.
// A normal approximation over all n tasks ignores this and, where nearly every task ties (an
// all-pass group), promised differences the test cannot see. So the number of non-zero
// differences is modelled explicitly:
//
//   power(Δ) = Σ_{m ≥ m_min} P(M = m) · P(reject | m),   M ~ Binomial(n, 1 − P(tie))
//
// Each side is a beta-binomial task model: a task's pass probability varies over tasks (intra-task
// correlation ρ) and its epochs are Bernoulli draws at that probability. The other model has the
// same ρ and epochs, a mean shifted by Δ and task difficulties independent of this one's (models
// that find the same tasks hard give the paired test more power, so this is conservative). That
// fixes the exact law of one task's difference d = X/k − Y/k': P(tie) and the moments of d.
// P(reject | m) is the exact sign test's binomial tail when every non-zero d is ±1 (one epoch, or
// all-or-nothing tasks), and otherwise a normal approximation to the test's rule |Σd| ≥ z·√Σd²
// (see `powerFor`). Only rejections in the true direction count. A direction whose shifted mean
// leaves [0, 1] is impossible; of the possible ones the weaker is reported.
import { logChoose, regularizedBeta } from './exact.ts';
import { normalCdf, normalQuantile, sampleVariance } from './stats.ts';

/** How one model's attempts succeed over a population of tasks (beta-binomial). */
export interface TaskModel {
  /** Mean per-attempt success probability over tasks. */
  mean: number;
  /** Correlation of two attempts at one task: 0 when every task is equally hard, 1 when each always passes or always fails. */
  rho: number;
  /** Scored attempts per task. */
  epochs: number;
}

export interface TaskCounts {
  passes: number;
  scored: number;
}

/**
 * Method-of-moments fit over tasks with a scored attempt: the pooled pass rate, epochs = mean
 * scored attempts per task (rounded), and ρ from the spread of per-task rates, whose variance
 * is p(1−p)(1 + (k−1)ρ)/k under the model. Null when nothing was scored.
 */
export function fitTaskModel(counts: readonly TaskCounts[]): TaskModel | null {
  const scored = counts.filter((c) => c.scored > 0);
  if (scored.length === 0) return null;
  let passes = 0;
  let attempts = 0;
  for (const c of scored) {
    passes += c.passes;
    attempts += c.scored;
  }
  const mean = passes / attempts;
  const epochs = Math.max(1, Math.round(attempts / scored.length));
  const binomial = mean * (1 - mean);
  if (epochs === 1 || binomial === 0 || scored.length < 2) return { mean, rho: 0, epochs };
  const variance = sampleVariance(scored.map((c) => c.passes / c.scored));
  const rho = (epochs * variance) / binomial - 1;
  return { mean, rho: Math.min(1, Math.max(0, rho / (epochs - 1))), epochs };
}

/** The fewest non-zero paired differences with which the exact test can reach p < α (2·0.5^m < α). */
export function minDecisivePairs(alpha: number): number {
  let m = 1;
  while (2 * 0.5 ** m >= alpha) m++;
  return m;
}

/** P(X = j), j = 0..k, for a task model's number of passes in k attempts. */
export function passCountPmf(model: TaskModel): Float64Array {
  const { mean, rho, epochs: k } = model;
  const pmf = new Float64Array(k + 1);
  if (mean <= 0 || mean >= 1 || rho >= 1) {
    // all-or-nothing tasks (or a sure outcome): X is 0 or k
    pmf[0] = 1 - Math.min(1, Math.max(0, mean));
    pmf[k] = (pmf[k] as number) + Math.min(1, Math.max(0, mean));
    return pmf;
  }
  // log P(X = j) by the ratio P(j + 1)/P(j); the binomial when ρ = 0, else Beta(a, b) mixing
  const log = new Float64Array(k + 1);
  if (rho <= 0) {
    log[0] = k * Math.log1p(-mean);
    for (let j = 0; j < k; j++) log[j + 1] = (log[j] as number) + Math.log((k - j) / (j + 1)) + Math.log(mean / (1 - mean));
  } else {
    const a = (mean * (1 - rho)) / rho;
    const b = ((1 - mean) * (1 - rho)) / rho;
    let start = 0;
    for (let i = 0; i < k; i++) start += Math.log((b + i) / (a + b + i));
    log[0] = start;
    for (let j = 0; j < k; j++) log[j + 1] = (log[j] as number) + Math.log((k - j) / (j + 1)) + Math.log((j + a) / (k - j - 1 + b));
  }
  let top = Number.NEGATIVE_INFINITY;
  for (const v of log) top = Math.max(top, v);
  let total = 0;
  for (let j = 0; j <= k; j++) total += pmf[j] = Math.exp((log[j] as number) - top);
  for (let j = 0; j <= k; j++) pmf[j] = (pmf[j] as number) / total;
  return pmf;
}

/** One task's paired difference d = X/k_a − Y/k_b between two independent task models. */
export interface DifferenceLaw {
  /** P(d = 0). */
  tie: number;
  /** E[d], E[d²], E[d³], E[d⁴] (zeros included). */
  moments: [number, number, number, number];
  /** True when every non-zero difference is ±1 (one epoch a side, or all-or-nothing tasks). */
  unitSteps: boolean;
  /** P(d has the sign opposite to E[d] | d ≠ 0), when `unitSteps`. */
  wrongSign: number;
  /** Every difference is a multiple of this (1/lcm(k_a, k_b)). */
  lattice: number;
}

/** E[U], E[U²], E[U³], E[U⁴] of U = X/k. */
function rateMoments(pmf: Float64Array, k: number): [number, number, number, number] {
  const out: [number, number, number, number] = [0, 0, 0, 0];
  pmf.forEach((p, j) => {
    const u = j / k;
    out[0] += p * u;
    out[1] += p * u * u;
    out[2] += p * u * u * u;
    out[3] += p * u * u * u * u;
  });
  return out;
}

function leastCommonMultiple(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return (a / x) * b;
}

export function differenceLaw(a: TaskModel, b: TaskModel): DifferenceLaw {
  const pa = passCountPmf(a);
  const pb = passCountPmf(b);
  const [u1, u2, u3, u4] = rateMoments(pa, a.epochs);
  const [v1, v2, v3, v4] = rateMoments(pb, b.epochs);
  // moments of U − V for independent U, V, by the binomial expansion
  const moments: DifferenceLaw['moments'] = [
    u1 - v1,
    u2 - 2 * u1 * v1 + v2,
    u3 - 3 * u2 * v1 + 3 * u1 * v2 - v3,
    u4 - 4 * u3 * v1 + 6 * u2 * v2 - 4 * u1 * v3 + v4,
  ];
  let tie = 0;
  // x/k_a = y/k_b has an integer y only when x·k_b is a multiple of k_a
  pa.forEach((p, x) => {
    if ((x * b.epochs) % a.epochs === 0) tie += p * (pb[(x * b.epochs) / a.epochs] as number);
  });
  const allOrNothing = (pmf: Float64Array) => pmf.every((p, j) => p === 0 || j === 0 || j === pmf.length - 1);
  const unitSteps = allOrNothing(pa) && allOrNothing(pb);
  let wrongSign = 0;
  if (unitSteps && tie < 1) {
    const aPasses = pa[a.epochs] as number;
    const bPasses = pb[b.epochs] as number;
    wrongSign = (moments[0] >= 0 ? (1 - aPasses) * bPasses : aPasses * (1 - bPasses)) / (1 - tie);
  }
  return { tie, moments, unitSteps, wrongSign, lattice: 1 / leastCommonMultiple(a.epochs, b.epochs) };
}

export interface PowerDesign {
  /** Paired tasks. */
  tasks: number;
  /** This group's model; the other differs from it by the effect. */
  model: TaskModel;
  /** Attempts per task on the other side; this side's by default. */
  otherEpochs?: number;
  /** Two-sided level of the test. */
  alpha: number;
}

/** P(Binomial(m, p) ≤ j). */
function binomialCdf(j: number, m: number, p: number): number {
  if (j < 0) return 0;
  if (j >= m) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  return regularizedBeta(1 - p, m - j, j + 1);
}

/** Per α, the largest count j of minority signs among m equal-sized differences at which the exact test still rejects; filled on demand. */
const criticalCounts = new Map<number, number[]>();

/** Largest j with p = 2·P(Bin(m, ½) ≤ j) < α: the exact sign test's rejection region; −1 when there is none. */
function signTestCritical(m: number, alpha: number): number {
  let known = criticalCounts.get(alpha);
  if (!known) criticalCounts.set(alpha, (known = []));
  const cached = known[m];
  if (cached !== undefined) return cached;
  let lo = -1;
  let hi = Math.floor((m - 1) / 2);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (2 * binomialCdf(mid, m, 0.5) < alpha) lo = mid;
    else hi = mid - 1;
  }
  known[m] = lo;
  return lo;
}

/**
 * Probability that the exact test rejects in the direction of E[d] when each task's difference
 * follows `law`. Given m non-zero differences, the test rejects about when W = S − z·√Q ≥ 0, with
 * S = Σd (oriented along the effect) and Q = Σd², the spread of its sign-flip distribution. W is
 * taken as normal with the mean and variance of its linearisation in (S, Q), so the randomness of
 * Q counts, and with a continuity correction of one lattice unit (half the smallest step of S
 * under a sign flip), because the discrete test rejects less often than a continuous one. Checked
 * against simulations of the real test in power.test.ts.
 */
function powerFor(law: DifferenceLaw, tasks: number, alpha: number): number {
  const nonTie = 1 - law.tie;
  const [d1, d2, d3, d4] = law.moments;
  if (nonTie <= 1e-15 || d1 === 0) return 0;
  // moments of a non-zero difference, oriented so that the effect is positive
  const sign = Math.sign(d1);
  const r1 = (sign * d1) / nonTie;
  const r2 = d2 / nonTie;
  const r3 = (sign * d3) / nonTie;
  const r4 = d4 / nonTie;
  const z = normalQuantile(1 - alpha / 2);
  const conditional = (m: number): number => {
    if (law.unitSteps) return binomialCdf(signTestCritical(m, alpha), m, law.wrongSign);
    const mean = m * r1 - z * Math.sqrt(m * r2) - law.lattice;
    const variance = m * (r2 - r1 * r1) + (z * z * (r4 - r2 * r2)) / (4 * r2) - (z * Math.sqrt(m) * (r3 - r1 * r2)) / Math.sqrt(r2);
    if (variance <= 1e-24) return mean >= 0 ? 1 : 0;
    return normalCdf(mean / Math.sqrt(variance));
  };
  // M ~ Binomial(tasks, nonTie), summed where its mass is not negligible
  const centre = tasks * nonTie;
  const width = 8 * Math.sqrt(tasks * nonTie * (1 - nonTie)) + 8;
  const from = Math.max(minDecisivePairs(alpha), Math.floor(centre - width));
  const to = Math.min(tasks, Math.ceil(centre + width));
  const logP = Math.log(nonTie);
  const logQ = Math.log1p(-nonTie);
  let power = 0;
  for (let m = from; m <= to; m++) {
    const mass = nonTie >= 1 ? (m === tasks ? 1 : 0) : Math.exp(logChoose(tasks, m) + m * logP + (tasks - m) * logQ);
    if (mass > 0) power += mass * conditional(m);
  }
  return Math.min(1, power);
}

/** Power against a model whose mean pass rate is higher (+1) or lower (−1) by `effect`; null when that leaves [0, 1]. */
function directionalPower(effect: number, direction: 1 | -1, design: PowerDesign): number | null {
  const { model } = design;
  const mean = model.mean + direction * effect;
  if (mean < 0 || mean > 1) return null;
  return powerFor(differenceLaw(model, { mean, rho: model.rho, epochs: design.otherEpochs ?? model.epochs }), design.tasks, design.alpha);
}

/**
 * Power of the paired exact test against a model whose mean pass rate differs by `effect`, in the
 * weaker of the directions the pass rate can move; null when neither direction stays in [0, 1].
 */
export function exactTestPower(effect: number, design: PowerDesign): number | null {
  const powers = [directionalPower(effect, 1, design), directionalPower(effect, -1, design)].filter((p) => p !== null);
  return powers.length === 0 ? null : Math.min(...powers);
}

/**
 * Smallest difference detected with probability ≥ `power` in every direction the pass rate can
 * move, so that every larger possible difference is detected too; null when no difference is
 * (e.g. fewer than m_min tasks). Power grows with the difference in each direction, so each is
 * solved by bisection. A direction that cannot reach the power before running out of room (a
 * 97% model improving) raises the figure to that room: smaller differences that way go unseen.
 */
export function minDetectableDifference(design: PowerDesign & { power: number }): number | null {
  if (design.tasks < minDecisivePairs(design.alpha)) return null;
  let detectable = false;
  let needed = 0;
  for (const direction of [1, -1] as const) {
    const room = direction > 0 ? 1 - design.model.mean : design.model.mean;
    if (room <= 0) continue;
    const reaches = (effect: number) => (directionalPower(effect, direction, design) ?? 0) >= design.power;
    if (!reaches(room)) {
      needed = Math.max(needed, room);
      continue;
    }
    detectable = true;
    let lo = 0;
    let hi = room;
    for (let i = 0; i < 32; i++) {
      const mid = (lo + hi) / 2;
      if (reaches(mid)) hi = mid;
      else lo = mid;
    }
    needed = Math.max(needed, hi);
  }
  return detectable ? needed : null;
}

/** Fewest paired tasks that detect `effect` with probability ≥ `power`; null when the effect is impossible from this model's mean. */
export function requiredTasks(effect: number, design: Omit<PowerDesign, 'tasks'> & { power: number }): number | null {
  const reaches = (tasks: number) => (exactTestPower(effect, { ...design, tasks }) ?? 0) >= design.power;
  if (exactTestPower(effect, { ...design, tasks: 1 }) === null) return null;
  let hi = minDecisivePairs(design.alpha);
  while (!reaches(hi)) {
    hi *= 2;
    if (hi > 2 ** 30) return null;
  }
  let lo = Math.max(0, Math.floor(hi / 2));
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (reaches(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Sample sd of per-task pass rates over tasks with a scored attempt (descriptive); null when there are none. */
export function rateSd(counts: readonly TaskCounts[]): number | null {
  const rates = counts.filter((c) => c.scored > 0).map((c) => c.passes / c.scored);
  return rates.length === 0 ? null : Math.sqrt(sampleVariance(rates));
}

export interface GroupPower {
  sd: number | null;
  minDetectableEffect: number | null;
  requiredN: number | null;
}

/**
 * Power figures of one model's group of tasks against another model on the same tasks: the task
 * model fitted to the group's per-task counts, and the exact-test power above. Null when nothing
 * was scored.
 */
export function groupPower(counts: readonly TaskCounts[], options: { alpha: number; power: number; minEffect: number | null }): GroupPower | null {
  const model = fitTaskModel(counts);
  if (!model) return null;
  const { alpha, power } = options;
  const tasks = counts.filter((c) => c.scored > 0).length;
  return {
    sd: rateSd(counts),
    minDetectableEffect: minDetectableDifference({ tasks, model, alpha, power }),
    requiredN: options.minEffect === null ? null : requiredTasks(options.minEffect, { model, alpha, power }),
  };
}
