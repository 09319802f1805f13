// Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code") and
// pass^k (Yao et al. 2024, τ-bench) from c successes in n attempts of one task. Both are ratios
// of binomial coefficients, computed as running products so n = 100 never overflows.

function checkCounts(n: number, c: number, k: number): void {
  if (!(Number.isInteger(n) && Number.isInteger(c) && Number.isInteger(k)) || c < 0 || c > n || k < 1 || k > n) {
    throw new RangeError(`pass@k: need integers 0 ≤ c ≤ n and 1 ≤ k ≤ n, got n=${n} c=${c} k=${k}`);
  }
}

/** C(m, k) / C(n, k) = ∏_{i<k} (m − i)/(n − i), for 0 ≤ m ≤ n and k ≤ n. */
function binomialRatio(m: number, n: number, k: number): number {
  if (m < k) return 0;
  let ratio = 1;
  for (let i = 0; i < k; i++) ratio *= (m - i) / (n - i);
  return ratio;
}

/** Probability that at least one of k attempts drawn without replacement passes: 1 − C(n−c, k)/C(n, k). */
export function passAtK(n: number, c: number, k: number): number {
  checkCounts(n, c, k);
  return 1 - binomialRatio(n - c, n, k);
}

/** Probability that all k attempts drawn without replacement pass: C(c, k)/C(n, k). */
export function passHatK(n: number, c: number, k: number): number {
  checkCounts(n, c, k);
  return binomialRatio(c, n, k);
}

export interface AttemptCounts {
  /** Scored attempts. */
  n: number;
  /** Passed attempts. */
  c: number;
}

/**
 * Mean over tasks of pass@k and pass^k for k = 1..min n (tau2-bench's convention: k never exceeds
 * the attempts every task has). Keys are k as strings so the JSON shape is a plain object.
 */
export function passCurves(tasks: readonly AttemptCounts[]): { passAtK: Record<string, number>; passHatK: Record<string, number> } {
  const scored = tasks.filter((t) => t.n > 0);
  const passAt: Record<string, number> = {};
  const passHat: Record<string, number> = {};
  if (scored.length === 0) return { passAtK: passAt, passHatK: passHat };
  const maxK = Math.min(...scored.map((t) => t.n));
  for (let k = 1; k <= maxK; k++) {
    let at = 0;
    let hat = 0;
    for (const t of scored) {
      at += passAtK(t.n, t.c, k);
      hat += passHatK(t.n, t.c, k);
    }
    passAt[String(k)] = at / scored.length;
    passHat[String(k)] = hat / scored.length;
  }
  return { passAtK: passAt, passHatK: passHat };
}
