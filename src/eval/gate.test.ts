import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkGate, parseGateSuite } from './gate.ts';
import { buildReport } from './report.ts';
import { run, task } from './test-fixtures.ts';
import type { Outcome } from './test-fixtures.ts';

const suite = [...Array.from({ length: 10 }, (_, i) => task(`mail-${i}`, 'mail')), ...Array.from({ length: 10 }, (_, i) => task(`notes-${i}`, 'notes'))];

/** A one-model report where `mail` passes `mailPasses` of 10 tasks and `notes` passes `notesPasses`. */
function reportWith(runId: string, mailPasses: number, notesPasses: number, model = 'ckpt') {
  const byTask: Record<string, Outcome[]> = {};
  suite.forEach((t, i) => {
    const passes = t.domain === 'mail' ? mailPasses : notesPasses;
    byTask[t.id] = [i % 10 < passes ? 'pass' : 'fail'];
  });
  return buildReport({ runs: [run(runId, byTask, model)], tasks: suite, options: { seed: 1, resamples: 200 } });
}

describe('checkGate', () => {
  it('fails a domain below its minimum pass rate and passes the rest', () => {
    const result = checkGate({ report: reportWith('run_a', 5, 9), thresholds: { domains: { mail: { minPassRate: 0.6 } }, everyDomain: { minPassRate: 0.8 } } });
    assert.equal(result.passed, false);
    // mail misses its own rule and everyDomain's; notes (0.9) meets everyDomain
    assert.deepEqual(
      result.failures.map((f) => [f.domain, f.source, f.rule, f.actual, f.required]),
      [
        ['mail', 'domains.mail', 'minPassRate', 0.5, 0.6],
        ['mail', 'everyDomain', 'minPassRate', 0.5, 0.8],
      ],
    );
    assert.match(result.failures[0]?.message ?? '', /mail pass rate 0\.500 is below the minimum 0\.6 \(gate domains\.mail\)/);
    assert.match(result.failures[1]?.message ?? '', /mail pass rate 0\.500 is below the minimum 0\.8 \(gate everyDomain\)/);
    assert.equal(checkGate({ report: reportWith('run_a', 7, 9), thresholds: { overall: { minPassRate: 0.7 }, domains: { mail: { minPassRate: 0.6 } } } }).passed, true);
  });

  it('holds a domain with its own rule to everyDomain as well', () => {
    // mail's own rule (0.6) is looser than everyDomain's (0.7): 0.65 passes the first, not the second
    const thresholds = { domains: { mail: { minPassRate: 0.6 } }, everyDomain: { minPassRate: 0.7 } };
    const result = checkGate({ report: reportWith('run_a', 6, 9), thresholds });
    assert.equal(result.passed, false);
    assert.deepEqual(
      result.failures.map((f) => [f.domain, f.source, f.rule]),
      [['mail', 'everyDomain', 'minPassRate']],
    );
    // and both apply to drops: mail's maxDrop of 0.5 allows a 0.3 drop, everyDomain's 0.1 does not
    const drops = checkGate({ report: reportWith('run_new', 6, 9), baseline: reportWith('run_old', 9, 9), thresholds: { domains: { mail: { maxDrop: 0.5 } }, everyDomain: { maxDrop: 0.1 } } });
    assert.deepEqual(
      drops.failures.map((f) => [f.domain, f.source, f.rule]),
      [['mail', 'everyDomain', 'maxDrop']],
    );
    assert.equal(checkGate({ report: reportWith('run_a', 7, 9), thresholds }).passed, true);
  });

  it('applies everyDomain only to domains the report has, so a missing named domain fails once', () => {
    const result = checkGate({ report: reportWith('run_a', 9, 9), thresholds: { domains: { calendar: { minPassRate: 0.1 } }, everyDomain: { minPassRate: 0.5 } } });
    assert.deepEqual(
      result.failures.map((f) => [f.domain, f.source, f.rule]),
      [['calendar', 'domains.calendar', 'noData']],
    );
  });

  it('fails a drop larger than maxDrop against the baseline', () => {
    const result = checkGate({ report: reportWith('run_new', 6, 9), baseline: reportWith('run_old', 9, 9), thresholds: { everyDomain: { maxDrop: 0.1 } } });
    assert.equal(result.passed, false);
    assert.equal(result.failures.length, 1);
    const failure = result.failures[0];
    assert.equal(failure?.domain, 'mail');
    assert.equal(failure?.rule, 'maxDrop');
    assert.ok(Math.abs((failure?.actual ?? 0) - 0.3) < 1e-12);
    assert.equal(failure?.required, 0.1);
  });

  it('with onlySignificantDrops, enforces a drop only when the paired test finds it', () => {
    // 3 of 10 tasks flip: exact sign-flip p = 2/2³ = 0.25, not significant
    const small = checkGate({ report: reportWith('run_new', 6, 9), baseline: reportWith('run_old', 9, 9), thresholds: { domains: { mail: { maxDrop: 0.1, onlySignificantDrops: true } } } });
    assert.equal(small.passed, true);
    assert.match(small.skipped[0]?.reason ?? '', /drop of 0\.300 exceeds 0\.1 but is not significant/);
    // 9 of 10 flip: p = 2/2⁹ ≈ 0.004 (Holm over 2 domains ≈ 0.008): significant
    const large = checkGate({ report: reportWith('run_new', 0, 9), baseline: reportWith('run_old', 9, 9), thresholds: { domains: { mail: { maxDrop: 0.1, onlySignificantDrops: true } } } });
    assert.equal(large.passed, false);
    assert.equal(large.failures[0]?.rule, 'maxDrop');
  });

  it('says which rules it could not check instead of passing them silently', () => {
    const noBaseline = checkGate({ report: reportWith('run_a', 5, 5), thresholds: { overall: { maxDrop: 0.05 } } });
    assert.equal(noBaseline.passed, true);
    assert.deepEqual(noBaseline.skipped.map((s) => [s.domain, s.reason]), [['overall', 'no baseline report given']]);
    const missing = checkGate({ report: reportWith('run_a', 5, 5), thresholds: { domains: { calendar: { minPassRate: 0.1 } } } });
    assert.equal(missing.passed, false);
    assert.deepEqual(missing.failures.map((f) => [f.domain, f.rule, f.actual]), [['calendar', 'noData', null]]);
    assert.match(missing.failures[0]?.message ?? '', /calendar is in the gate but not in the report/);
  });
});

describe('parseGateSuite', () => {
  it('accepts a valid section and fills defaults', () => {
    const parsed = parseGateSuite({ overall: { minPassRate: 0.5 }, domains: { mail: { maxDrop: 0.05, onlySignificantDrops: true } } }, 'suites/workplace.yaml');
    assert.deepEqual(parsed, {
      ok: true,
      gate: { overall: { minPassRate: 0.5, onlySignificantDrops: false }, domains: { mail: { maxDrop: 0.05, onlySignificantDrops: true } } },
    });
  });

  it('names the file and every bad field', () => {
    const parsed = parseGateSuite({ domains: { mail: { minPassRate: 1.5 }, notes: {} }, overal: {} }, 'suites/workplace.yaml');
    assert.equal(parsed.ok, false);
    if (parsed.ok) return;
    assert.match(parsed.message, /^suites\/workplace\.yaml: invalid gate section/);
    assert.match(parsed.message, /gate\.domains\.mail\.minPassRate: must be at most 1/);
    assert.match(parsed.message, /gate\.domains\.notes: a rule needs minPassRate, maxDrop or both/);
    assert.match(parsed.message, /overal/);
  });
});
