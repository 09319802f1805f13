import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gammaln } from 'simple-statistics';
import { passAtK, passCurves, passHatK } from './passk.ts';

// Chen et al. 2021, Figure 3, the numerically stable numpy form: 1 − ∏_{i=n−c+1}^{n} (1 − k/i).
function chenPassAtK(n: number, c: number, k: number): number {
  if (n - c < k) return 1;
  let product = 1;
  for (let i = n - c + 1; i <= n; i++) product *= 1 - k / i;
  return 1 - product;
}

// Binomial coefficients through log-gamma: C(a, b) = exp(lnΓ(a+1) − lnΓ(b+1) − lnΓ(a−b+1)).
function logChoose(a: number, b: number): number {
  return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1);
}
function gammaPassHatK(n: number, c: number, k: number): number {
  return c < k ? 0 : Math.exp(logChoose(c, k) - logChoose(n, k));
}

describe('pass@k and pass^k for one task', () => {
  it('matches the hand-worked case n=5, c=2, k=2', () => {
    // pass@2 = 1 − C(3,2)/C(5,2) = 1 − 3/10 = 0.7; pass^2 = C(2,2)/C(5,2) = 1/10 = 0.1
    assert.ok(Math.abs(passAtK(5, 2, 2) - 0.7) < 1e-12);
    assert.ok(Math.abs(passHatK(5, 2, 2) - 0.1) < 1e-12);
  });

  it('reduces to c/n at k=1 and handles all-pass and all-fail tasks', () => {
    assert.ok(Math.abs(passAtK(10, 3, 1) - 0.3) < 1e-12);
    assert.ok(Math.abs(passHatK(10, 3, 1) - 0.3) < 1e-12);
    assert.equal(passAtK(4, 0, 3), 0);
    assert.equal(passHatK(4, 0, 3), 0);
    assert.equal(passAtK(4, 4, 4), 1);
    assert.equal(passHatK(4, 4, 4), 1);
    // n − c < k: every draw of k includes a success
    assert.equal(passAtK(5, 4, 2), 1);
    // c < k: no draw of k is all successes
    assert.equal(passHatK(5, 1, 2), 0);
  });

  it('agrees with Chen et al.’s product form and with log-gamma binomials for every n ≤ 100', () => {
    for (let n = 1; n <= 100; n += 3) {
      for (let c = 0; c <= n; c += Math.max(1, Math.floor(n / 7))) {
        for (const k of [1, 2, 5, 10, 50, 100].filter((x) => x <= n)) {
          const at = passAtK(n, c, k);
          const hat = passHatK(n, c, k);
          assert.ok(Math.abs(at - chenPassAtK(n, c, k)) < 1e-9, `pass@${k} n=${n} c=${c}`);
          assert.ok(Math.abs(hat - gammaPassHatK(n, c, k)) < 1e-9, `pass^${k} n=${n} c=${c}`);
          assert.ok(at >= 0 && at <= 1 && hat >= 0 && hat <= 1);
        }
      }
    }
  });

  it('rejects counts that make no sense, naming them', () => {
    assert.throws(() => passAtK(3, 4, 1), /n=3 c=4 k=1/);
    assert.throws(() => passHatK(3, 1, 4), /k=4/);
    assert.throws(() => passHatK(3, 1, 0), /1 ≤ k ≤ n/);
  });
});

describe('passCurves', () => {
  it('averages over tasks for k = 1..min attempts', () => {
    // task 1: n=2, c=1; task 2: n=3, c=3; min n = 2 so k ∈ {1, 2}
    // pass@1 = (1/2 + 1)/2 = 0.75; pass@2 = (1 + 1)/2 = 1
    // pass^1 = 0.75; pass^2 = (C(1,2)/C(2,2) + C(3,2)/C(3,2))/2 = (0 + 1)/2 = 0.5
    const curves = passCurves([
      { n: 2, c: 1 },
      { n: 3, c: 3 },
    ]);
    assert.deepEqual(Object.keys(curves.passAtK), ['1', '2']);
    assert.equal(curves.passAtK['1'], 0.75);
    assert.equal(curves.passAtK['2'], 1);
    assert.equal(curves.passHatK['1'], 0.75);
    assert.equal(curves.passHatK['2'], 0.5);
  });

  it('ignores tasks with no scored attempts and is empty when there are none', () => {
    assert.deepEqual(passCurves([{ n: 0, c: 0 }]), { passAtK: {}, passHatK: {} });
    assert.deepEqual(Object.keys(passCurves([{ n: 0, c: 0 }, { n: 2, c: 2 }]).passHatK), ['1', '2']);
  });
});
