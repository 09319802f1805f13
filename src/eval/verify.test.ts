// Every published figure checked against an independent computation written here: exact rational
// arithmetic for pass@k and pass^k, brute-force enumeration for the sign-flip test, hand-worked
// Holm, binomial tails for Clopper–Pearson, and a from-scratch recount of messy runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../core/index.ts';
import type { Rollout } from '../core/index.ts';
import { signFlipTest } from './bootstrap.ts';
import { compareRuns } from './compare.ts';
import { clopperPearson } from './exact.ts';
import { checkGate } from './gate.ts';
import { passAtK, passHatK } from './passk.ts';
import { buildReport } from './report.ts';
import { holmAdjust, quantileSorted } from './stats.ts';
import { rolloutOf, run, task } from './test-fixtures.ts';
import type { Outcome } from './test-fixtures.ts';
import type { RunInput, TaskMeta } from './tasks.ts';

function choose(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let out = 1n;
  for (let i = 0; i < k; i++) out = (out * BigInt(n - i)) / BigInt(i + 1);
  return out;
}

/** num/den as a double, exact to about 2^-80 before rounding. */
function ratio(num: bigint, den: bigint): number {
  return Number((num << 80n) / den) / 2 ** 80;
}

const exactPassAt = (n: number, c: number, k: number) => ratio(choose(n, k) - choose(n - c, k), choose(n, k));
const exactPassHat = (n: number, c: number, k: number) => ratio(choose(c, k), choose(n, k));

describe('pass@k and pass^k against exact rational arithmetic', () => {
  it('agree to 1e-12 for every k on 400 random (n, c) up to n = 300', () => {
    const rng = createRng('verify:passk');
    for (let trial = 0; trial < 400; trial++) {
      const n = rng.int(1, 301);
      const c = rng.int(0, n + 1);
      for (const k of new Set([1, 2, rng.int(1, n + 1), n])) {
        assert.ok(Math.abs(passAtK(n, c, k) - exactPassAt(n, c, k)) < 1e-12, `pass@${k} n=${n} c=${c}`);
        assert.ok(Math.abs(passHatK(n, c, k) - exactPassHat(n, c, k)) < 1e-12, `pass^${k} n=${n} c=${c}`);
      }
    }
  });
});

/** Every one of the 2^n sign patterns over all differences (zeros included), in exact integers. */
function bruteSignFlip(numerators: readonly number[]): number {
  const n = numerators.length;
  const observed = Math.abs(numerators.reduce((a, b) => a + b, 0));
  let hits = 0;
  for (let mask = 0; mask < 2 ** n; mask++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (mask >> i) & 1 ? -(numerators[i] as number) : (numerators[i] as number);
    if (Math.abs(sum) >= observed) hits++;
  }
  return hits / 2 ** n;
}

describe('the sign-flip test against brute-force enumeration', () => {
  it('gives the exact p-value on 300 random small cases with ties and thirds/halves that do not add up exactly in floating point', () => {
    const rng = createRng('verify:signflip');
    for (let trial = 0; trial < 300; trial++) {
      const n = rng.int(1, 15);
      // differences of pass rates over 2 and 3 epochs: multiples of 1/6 in [−1, 1]
      const numerators = Array.from({ length: n }, () => (rng.next() < 0.3 ? 0 : rng.int(-6, 7)));
      const result = signFlipTest(
        numerators.map((x) => x / 6),
        { seed: 1, resamples: 1000 },
      );
      assert.equal(result.exact, true);
      assert.ok(Math.abs(result.pValue - bruteSignFlip(numerators)) < 1e-12, `${numerators.join(',')}: ${result.pValue} vs ${bruteSignFlip(numerators)}`);
    }
  });
});

describe('Holm–Bonferroni against a hand computation', () => {
  it('steps down, carries the running maximum and caps at 1', () => {
    // sorted: 0.005×4 = 0.02, 0.01×3 = 0.03, 0.03×2 = 0.06, 0.04×1 = 0.04 → max(0.06, 0.04) = 0.06
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((want, i) => assert.ok(Math.abs((adjusted[i] as number) - want) < 1e-15, `${i}: ${adjusted[i]}`));
    assert.deepEqual(holmAdjust([0.6, 0.5]), [1, 1]);
    assert.deepEqual(holmAdjust([0.2]), [0.2]);
  });
});

describe('Clopper–Pearson against binomial tails', () => {
  const binomialCdf = (x: number, n: number, p: number) => {
    let sum = 0;
    for (let j = 0; j <= x; j++) sum += Number(choose(n, j)) * p ** j * (1 - p) ** (n - j);
    return sum;
  };
  it('solves P(X ≥ x | lower) = P(X ≤ x | upper) = α/2 for every x ≤ n ≤ 40', () => {
    for (let n = 1; n <= 40; n++) {
      for (let x = 0; x <= n; x++) {
        const [lower, upper] = clopperPearson(x, n, 0.95);
        if (x > 0) assert.ok(Math.abs(1 - binomialCdf(x - 1, n, lower) - 0.025) < 1e-9, `lower x=${x} n=${n}`);
        else assert.equal(lower, 0);
        if (x < n) assert.ok(Math.abs(binomialCdf(x, n, upper) - 0.025) < 1e-9, `upper x=${x} n=${n}`);
        else assert.equal(upper, 1);
      }
    }
  });
});

// ── A messy run, recounted from scratch ─────────────────────────────────────────────────────

const STATUSES: Outcome[] = ['pass', 'fail', 'pass', 'fail', 'infra', 'error', 'cancel'];

/** Random tasks × uneven epochs, with infra errors (some retried), defects and cancellations. */
function messyRun(runId: string, tasks: readonly TaskMeta[], seed: string): RunInput {
  const rng = createRng(seed);
  const rollouts: Rollout[] = [];
  for (const t of tasks) {
    if (rng.next() < 0.1) continue; // never run
    const epochs = rng.int(1, 6);
    const bias = rng.next();
    for (let epoch = 0; epoch < epochs; epoch++) {
      const retries = rng.next() < 0.2 ? rng.int(1, 3) : 0;
      for (let attempt = 1; attempt <= retries; attempt++) rollouts.push(rolloutOf(runId, t.id, epoch, 'infra', attempt));
      const outcome = rng.next() < 0.8 ? (rng.next() < bias ? 'pass' : 'fail') : rng.pick(STATUSES);
      rollouts.push(rolloutOf(runId, t.id, epoch, outcome, retries + 1));
    }
  }
  return { runId, model: `model-${runId}`, rollouts: createRng(`${seed}:order`).shuffle(rollouts) };
}

/** (passes, scored) per task from the final attempt of each epoch, independent of tasks.ts. */
function recount(input: RunInput): Map<string, { passes: number; scored: number; finals: number }> {
  const last = new Map<string, Rollout>();
  for (const r of input.rollouts) {
    const key = `${r.taskId}#${r.epoch}`;
    const seen = last.get(key);
    if (!seen || r.attempt >= seen.attempt) last.set(key, r);
  }
  const out = new Map<string, { passes: number; scored: number; finals: number }>();
  for (const r of last.values()) {
    const entry = out.get(r.taskId) ?? { passes: 0, scored: 0, finals: 0 };
    entry.finals++;
    if (r.status === 'scored') {
      entry.scored++;
      if (r.passed) entry.passes++;
    }
    out.set(r.taskId, entry);
  }
  return out;
}

describe('buildReport on a messy run, recounted independently', () => {
  const tasks = Array.from({ length: 60 }, (_, i) => task(`t${i}`, ['mail', 'notes', 'calendar'][i % 3] as string));
  const input = messyRun('run_messy', tasks, 'verify:messy');
  const report = buildReport({ runs: [input], tasks, options: { seed: 7, resamples: 2000 } });
  const model = report.models[0]!;
  const counts = recount(input);

  for (const domain of ['overall', 'mail', 'notes', 'calendar']) {
    it(`gives n, both pass rates, pass@k, pass^k and flaky tasks for ${domain} that match the recount`, () => {
      const stats = domain === 'overall' ? model.overall : model.domains[domain]!;
      const scored = tasks.filter((t) => (domain === 'overall' || t.domain === domain) && (counts.get(t.id)?.scored ?? 0) > 0).map((t) => counts.get(t.id)!);
      assert.equal(stats.n, scored.length);
      const mean = scored.reduce((s, c) => s + c.passes / c.scored, 0) / scored.length;
      assert.ok(Math.abs(stats.passRate!.mean - mean) < 1e-12);
      const pooled = scored.reduce((s, c) => s + c.passes, 0) / scored.reduce((s, c) => s + c.scored, 0);
      assert.ok(Math.abs(stats.pooledPassRate! - pooled) < 1e-12);
      const maxK = Math.min(...scored.map((c) => c.scored));
      assert.deepEqual(Object.keys(stats.passAtK), Array.from({ length: maxK }, (_, i) => String(i + 1)));
      for (let k = 1; k <= maxK; k++) {
        const at = scored.reduce((s, c) => s + exactPassAt(c.scored, c.passes, k), 0) / scored.length;
        const hat = scored.reduce((s, c) => s + exactPassHat(c.scored, c.passes, k), 0) / scored.length;
        assert.ok(Math.abs(stats.passAtK[String(k)]! - at) < 1e-12, `pass@${k}`);
        assert.ok(Math.abs(stats.passHatK[String(k)]! - hat) < 1e-12, `pass^${k}`);
      }
      const flaky = tasks.filter((t) => (domain === 'overall' || t.domain === domain) && counts.has(t.id)).filter((t) => {
        const c = counts.get(t.id)!;
        return c.passes > 0 && c.passes < c.scored;
      });
      assert.deepEqual(stats.flakyTasks, flaky.map((t) => t.id));
    });
  }

  it('gives the percentile bootstrap interval an independent resampler with the same stream gives', () => {
    const scored = tasks.filter((t) => (counts.get(t.id)?.scored ?? 0) > 0).map((t) => counts.get(t.id)!);
    const rates = scored.map((c) => c.passes / c.scored);
    const rng = createRng('7:run_messy:overall');
    const means: number[] = [];
    for (let r = 0; r < 2000; r++) {
      let sum = 0;
      for (let j = 0; j < rates.length; j++) sum += rates[rng.int(0, rates.length)] as number;
      means.push(sum / rates.length);
    }
    means.sort((a, b) => a - b);
    const [low, high] = model.overall.passRate!.ci;
    assert.ok(Math.abs(low - quantileSorted(means, 0.025)) < 1e-12);
    assert.ok(Math.abs(high - quantileSorted(means, 0.975)) < 1e-12);
  });

  it('counts every non-scored final and says that defects, infra errors and cancellations were left out', () => {
    const finals = [...input.rollouts.reduce((m, r) => m.set(`${r.taskId}#${r.epoch}`, Math.max(m.get(`${r.taskId}#${r.epoch}`) ?? 0, r.attempt)), new Map<string, number>())].length;
    assert.equal(model.overall.rollouts, finals);
    const byStatus = model.overall.byStatus;
    assert.equal(byStatus.scored + byStatus.infra_error + byStatus.error + byStatus.cancelled, finals);
    assert.ok(byStatus.error > 0 && byStatus.infra_error > 0 && byStatus.cancelled > 0 && model.overall.infraErrors.retried > 0, 'the run holds every kind of unscored rollout');
    assert.ok(model.warnings.some((w) => w.includes('ended in an error') && w.includes('never scored')));
    assert.ok(model.warnings.some((w) => w.includes('infra errors') && w.includes('left out of pass rates')));
    assert.ok(model.warnings.some((w) => w.includes('cancelled; left out of pass rates')));
  });

  it('is the same report, byte for byte, from the same seed and any rollout order', () => {
    const shuffled = { ...input, rollouts: createRng('again').shuffle(input.rollouts) };
    assert.equal(JSON.stringify(buildReport({ runs: [shuffled], tasks, options: { seed: 7, resamples: 2000 } })), JSON.stringify(report));
  });
});

describe('compareRuns on partially overlapping messy runs, against brute force', () => {
  const tasks = Array.from({ length: 45 }, (_, i) => task(`t${i}`, ['mail', 'notes', 'calendar'][i % 3] as string));
  const a = messyRun('run_a', tasks, 'verify:cmp:a');
  const b = messyRun('run_b', tasks, 'verify:cmp:b');
  const comparison = compareRuns({ a, b, tasks, seed: 3, resamples: 2000 });
  const ca = recount(a);
  const cb = recount(b);
  const paired = tasks.filter((t) => (ca.get(t.id)?.scored ?? 0) > 0 && (cb.get(t.id)?.scored ?? 0) > 0);
  // Differences in sixtieths are whole numbers for 1..5 epochs.
  const numerator = (id: string) => Math.round(60 * (ca.get(id)!.passes / ca.get(id)!.scored - cb.get(id)!.passes / cb.get(id)!.scored));

  it('pairs exactly the tasks scored in both runs and lists the rest', () => {
    assert.deepEqual(comparison.tasks.map((t) => t.id), paired.map((t) => t.id));
    const onlyA = tasks.filter((t) => (ca.get(t.id)?.scored ?? 0) > 0 && !paired.includes(t)).map((t) => t.id);
    const onlyB = tasks.filter((t) => (cb.get(t.id)?.scored ?? 0) > 0 && !paired.includes(t)).map((t) => t.id);
    assert.deepEqual(comparison.unpaired, { onlyA, onlyB });
  });

  it('gives each domain the brute-force p-value and the Holm adjustment across domains', () => {
    const domains = ['calendar', 'mail', 'notes'];
    const raw = domains.map((d) => {
      const nums = paired.filter((t) => t.domain === d).map((t) => numerator(t.id));
      const row = comparison.domains[d]!;
      assert.equal(row.n, nums.length);
      assert.equal(row.tasksBetterA, nums.filter((x) => x > 0).length);
      assert.equal(row.tasksBetterB, nums.filter((x) => x < 0).length);
      assert.equal(row.ties, nums.filter((x) => x === 0).length);
      // the enumeration is over non-zero differences only: zeros do not change p
      const p = bruteSignFlip(nums.filter((x) => x !== 0));
      if (row.exact) assert.ok(Math.abs(row.pValue! - p) < 1e-12, `${d}: ${row.pValue} vs ${p}`);
      else assert.ok(Math.abs(row.pValue! - p) < 0.03, `${d}: Monte Carlo ${row.pValue} vs ${p}`);
      return row.pValue!;
    });
    holmAdjust(raw).forEach((adjusted, i) => assert.equal(comparison.domains[domains[i]!]!.pAdjusted, adjusted));
  });

  it('says "no significant difference" for a run compared with itself, with every pair tied', () => {
    const self = compareRuns({ a, b: a, tasks, seed: 3, resamples: 500 });
    assert.equal(self.overall.verdict, 'no significant difference');
    assert.equal(self.overall.pValue, 1);
    assert.equal(self.overall.ties, self.overall.n);
    assert.match(self.warnings[0] ?? '', /^A and B are the same run \(run_a\)/);
  });

  it('has nothing to compare for runs of different environments', () => {
    const other = [task('x1', 'terminal'), task('x2', 'terminal')];
    const c = compareRuns({ a, b: run('run_t', { x1: ['pass'], x2: ['fail'] }), tasks: [...tasks, ...other], seed: 1, resamples: 100 });
    assert.equal(c.overall.n, 0);
    assert.equal(c.overall.verdict, 'no paired tasks');
  });
});

describe('gate thresholds at their boundary', () => {
  // Ten epochs per task, so pass rates are tenths; their float means land a hair off the decimal.
  const tenths = (k: number): Outcome[] => Array.from({ length: 10 }, (_, i) => (i < k ? 'pass' : 'fail'));
  const tasks = [task('a', 'mail'), task('b', 'mail'), task('c', 'mail')];
  const report = (runId: string, k: number) => buildReport({ runs: [run(runId, { a: tenths(k), b: tenths(k), c: tenths(k) }, 'm')], tasks, options: { seed: 1, resamples: 200 } });

  it('passes a pass rate exactly at minPassRate (three tasks at 70% against a minimum of 0.7)', () => {
    const current = report('run_c', 7);
    assert.equal(current.models[0]!.overall.passRate!.mean.toFixed(6), '0.700000');
    const result = checkGate({ report: current, thresholds: { overall: { minPassRate: 0.7 }, everyDomain: { minPassRate: 0.7 } } });
    assert.deepEqual(result.failures, []);
  });

  it('passes a drop exactly at maxDrop (80% → 70% against a largest drop of 0.1) and fails one just beyond it', () => {
    const result = checkGate({ report: report('run_c', 7), baseline: report('run_b', 8), thresholds: { overall: { maxDrop: 0.1 } } });
    assert.deepEqual(result.failures, []);
    const beyond = checkGate({ report: report('run_c', 7), baseline: report('run_b', 8), thresholds: { overall: { maxDrop: 0.099 } } });
    assert.equal(beyond.failures.length, 1);
  });
});

describe('a gate baseline of other tasks', () => {
  it('does not measure a drop against a baseline that scored none of the report’s tasks', () => {
    const current = buildReport({ runs: [run('run_c', { a: ['fail'], b: ['fail'] }, 'm')], tasks: [task('a', 'mail'), task('b', 'mail')], options: { seed: 1, resamples: 100 } });
    const other = buildReport({ runs: [run('run_o', { x: ['pass'], y: ['pass'] }, 'm')], tasks: [task('x', 'mail'), task('y', 'mail')], options: { seed: 1, resamples: 100 } });
    const result = checkGate({ report: current, baseline: other, thresholds: { overall: { maxDrop: 0.05 }, everyDomain: { maxDrop: 0.05 } } });
    assert.deepEqual(result.failures, []);
    assert.deepEqual(
      result.skipped.map((s) => [s.domain, s.reason]),
      [
        ['overall', 'the baseline shares no scored task with the report in overall (is it a report of another suite?)'],
        ['mail', 'the baseline shares no scored task with the report in mail (is it a report of another suite?)'],
      ],
    );
  });
});

describe('the sign-flip test beyond 16 differences of one size', () => {
  it('is the exact sign test, matching exact binomial tails, however few flips were asked for', () => {
    for (const [m, positive] of [[17, 17], [30, 30], [30, 22], [40, 20], [57, 57], [200, 120], [999, 520]] as const) {
      const diffs = Array.from({ length: m }, (_, i) => (i < positive ? 1 : -1));
      const extreme = Math.max(positive, m - positive);
      let tail = 0n;
      for (let j = extreme; j <= m; j++) tail += choose(m, j);
      const want = 2 * extreme === m ? 1 : Math.min(1, 2 * ratio(tail, 1n << BigInt(m)));
      const result = signFlipTest(diffs, { seed: 1, resamples: 10 });
      assert.equal(result.exact, true, `m=${m}`);
      assert.ok(Math.abs(result.pValue - want) <= 1e-9 * want + 1e-300, `m=${m} +${positive}: ${result.pValue} vs ${want}`);
    }
  });

  it('lets compare call 20 of 20 one-epoch tasks won by A a difference even with 10 resamples', () => {
    const tasks = Array.from({ length: 20 }, (_, i) => task(`t${i}`, 'mail'));
    const a = run('run_a', Object.fromEntries(tasks.map((t) => [t.id, ['pass'] as Outcome[]])));
    const b = run('run_b', Object.fromEntries(tasks.map((t) => [t.id, ['fail'] as Outcome[]])));
    const c = compareRuns({ a, b, tasks, seed: 1, resamples: 10 });
    assert.equal(c.overall.verdict, 'A better');
    assert.ok(Math.abs(c.overall.pValue! - 2 * 0.5 ** 20) < 1e-15, String(c.overall.pValue));
  });
});

describe('gate domains named like Object.prototype members', () => {
  it('fails a gated "constructor" domain the report lacks once, as absent, not twice as unscored', () => {
    const report = buildReport({ runs: [run('run_a', { a: ['pass'] }, 'm')], tasks: [task('a', 'mail')], options: { seed: 1, resamples: 100 } });
    const result = checkGate({ report, thresholds: { domains: { constructor: { minPassRate: 0.5 } }, everyDomain: { minPassRate: 0.1 } } });
    assert.deepEqual(
      result.failures.map((f) => [f.source, f.message]),
      [['domains.constructor', 'm: constructor is in the gate but not in the report, so its gate cannot pass (gate domains.constructor)']],
    );
  });
});
