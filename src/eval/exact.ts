// Exact binomial machinery: log-gamma, the regularised incomplete beta function and the
// Clopper–Pearson interval. Written here (not taken from simple-statistics) because the interval
// must also accept a fractional success count; see `clopperPearson`.

// Lanczos approximation, g = 7, nine terms: about 15 significant digits for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
] as const;

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma: x must be positive, got ${x}`);
  // Γ(x) = Γ(x + 1) / x keeps the series in the range where it is most accurate
  if (x < 0.5) return logGamma(x + 1) - Math.log(x);
  const y = x - 1;
  let series = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) series += (LANCZOS[i] as number) / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(series);
}

/** ln C(n, k) for real 0 ≤ k ≤ n. */
export function logChoose(n: number, k: number): number {
  if (k < 0 || k > n) return Number.NEGATIVE_INFINITY;
  if (k === 0 || k === n) return 0;
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/**
 * Continued fraction of the incomplete beta function (modified Lentz), converging quickly for
 * x < (a + 1)/(a + b + 2); `regularizedBeta` uses the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) otherwise.
 */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let result = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    // even step
    let coefficient = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + coefficient * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + coefficient / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    result *= d * c;
    // odd step
    coefficient = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + coefficient * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + coefficient / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    result *= step;
    if (Math.abs(step - 1) < 1e-15) return result;
  }
  throw new RangeError(`regularizedBeta: no convergence for x=${x}, a=${a}, b=${b}`);
}

/** I_x(a, b): the CDF at x of a Beta(a, b) variable; a, b > 0. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`regularizedBeta: a and b must be positive, got a=${a}, b=${b}`);
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(logFront);
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(x, a, b)) / a : 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/** The p-quantile of Beta(a, b), by bisection (the CDF is monotone, so this cannot fail to converge). */
export function betaQuantile(p: number, a: number, b: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`betaQuantile: p must be in [0, 1], got ${p}`);
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 80 && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (regularizedBeta(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Clopper–Pearson ("exact") interval for a binomial proportion: the set of p whose one-sided
 * binomial tests at (1 − confidence)/2 do not reject `successes` out of `trials`. A fractional
 * count is accepted through the beta form of the bounds (the binomial tail at an integer count
 * equals a beta CDF, which is defined for any real count); this is how a mean of per-task rates
 * is given an interval in `group.ts`.
 */
export function clopperPearson(successes: number, trials: number, confidence: number): [number, number] {
  if (!(trials > 0)) throw new RangeError(`clopperPearson: trials must be positive, got ${trials}`);
  if (!(successes >= 0 && successes <= trials)) throw new RangeError(`clopperPearson: successes must be in [0, ${trials}], got ${successes}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`clopperPearson: confidence must be in (0, 1), got ${confidence}`);
  const tail = (1 - confidence) / 2;
  // closed forms at the ends: (tail)^(1/n) and 1 − (tail)^(1/n)
  const lower = successes === 0 ? 0 : successes === trials ? tail ** (1 / trials) : betaQuantile(tail, successes, trials - successes + 1);
  const upper = successes === trials ? 1 : successes === 0 ? 1 - tail ** (1 / trials) : betaQuantile(1 - tail, successes + 1, trials - successes);
  return [lower, upper];
}
