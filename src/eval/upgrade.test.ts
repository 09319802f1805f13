import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Comparison, compareRuns } from './compare.ts';
import { buildReport } from './report.ts';
import { EvalReport } from './schema.ts';
import { run, task } from './test-fixtures.ts';

type Fields = Record<string, unknown>;

const suite = [...Array.from({ length: 8 }, (_, i) => task(`m${i}`, 'mail')), ...Array.from({ length: 8 }, (_, i) => task(`n${i}`, 'notes'))];
// mail: every task passes every epoch (a zero-width interval); notes: mixed, with an infra error
const byTask = Object.fromEntries(
  suite.map((t, i) => [t.id, t.domain === 'mail' ? (['pass', 'pass'] as const) : i % 3 === 0 ? (['pass', 'infra'] as const) : i % 3 === 1 ? (['fail', 'pass'] as const) : (['fail', 'fail'] as const)]),
);
const current = buildReport({ runs: [run('run_a', byTask)], tasks: suite, options: { seed: 3, resamples: 300, minEffect: 0.2 } });

/** The same report as version 1 wrote it: no exact intervals, no named pass rates, no `error` status, the old power figures. */
function asVersionOne(report: EvalReport): Fields {
  const old = structuredClone(report) as unknown as Fields;
  old.version = 1;
  for (const model of old.models as Fields[]) {
    for (const stats of [model.overall, ...Object.values(model.domains as Fields)] as Fields[]) {
      delete stats.taskMeanPassRate;
      delete stats.pooledPassRate;
      for (const key of ['passRate', 'meanScore']) {
        const estimate = stats[key] as Fields | null;
        if (estimate) {
          delete estimate.degenerate;
          delete estimate.exact;
        }
      }
      delete (stats.byStatus as Fields).error;
      delete (stats.byTerminationReason as Fields).error;
      stats.minDetectableEffect = 0.026;
      stats.requiredN = 12;
    }
  }
  return old;
}

describe('reading an eval report of version 1', () => {
  it('fills in what version 2 adds, exactly as a new report has it', () => {
    const read = EvalReport.parse(asVersionOne(current));
    assert.equal(read.version, 2);
    const model = read.models[0];
    assert.ok(model);
    // only the note about the upgrade is new
    assert.equal(model.warnings.at(-1)?.startsWith('read from a version-1 report'), true);
    model.warnings.pop();
    assert.deepEqual(read, current);
    // 8 of 8 tasks: the lower bound is 0.025^(1/8)
    assert.ok(Math.abs((read.models[0]?.domains.mail?.passRate?.exact?.ci[0] ?? 0) - 0.025 ** (1 / 8)) < 1e-12);
  });

  it('leaves a current report untouched and names the version it cannot read', () => {
    assert.deepEqual(EvalReport.parse(current), current);
    const future = EvalReport.safeParse({ ...current, version: 3 });
    assert.equal(future.success, false);
    assert.match(JSON.stringify(future.error?.issues), /version/);
  });
});

describe('reading a comparison of version 1', () => {
  it('records that its intervals were unadjusted, at the comparison’s confidence', () => {
    const b = run('run_b', Object.fromEntries(suite.map((t) => [t.id, ['pass', 'pass'] as const])));
    const comparison = compareRuns({ a: run('run_a', byTask), b, tasks: suite, seed: 1, resamples: 200 });
    const old = structuredClone(comparison) as unknown as Fields;
    old.version = 1;
    for (const row of [old.overall, ...Object.values(old.domains as Fields)] as Fields[]) {
      delete row.confidence;
      delete row.intervalAdjustment;
      const difference = row.difference as Fields | null;
      if (difference) {
        delete difference.degenerate;
        delete difference.exact;
      }
    }
    const read = Comparison.parse(old);
    assert.equal(read.version, 2);
    for (const row of [read.overall, ...Object.values(read.domains)]) {
      assert.equal(row.confidence, 0.95);
      assert.equal(row.intervalAdjustment, 'none');
    }
    // mail ties on every task: a zero-width interval, flagged on read
    assert.equal(read.domains.mail?.difference?.degenerate, true);
    assert.equal(read.domains.notes?.difference?.degenerate, false);
  });
});
