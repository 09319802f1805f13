// The robustness report on thin evidence: a cell with no rollout, a column whose every rollout hit
// an infrastructure error, and intervals over one pair or pairs that all moved alike.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { GAUNTLET_VERSION, Task, type Rollout } from '../../core/index.ts';
import { createOraclePolicy } from '../../model/index.ts';
import { resolvePerturbations } from '../../perturb/index.ts';
import { kvEnvironment, kvTask } from '../../perturb/test-env.ts';
import type { CliIo } from '../io.ts';
import { runPerturbedRollout } from './robustness-episodes.ts';
import { analyseRobustness, RobustnessReport, type ArmInput } from './robustness-report.ts';
import { renderRobustnessMarkdown, renderRobustnessSvg, renderRobustnessText } from './robustness-render.ts';
import { publish } from './robustness.ts';

// Three copies of the kv task under their own ids: the report pairs by task id.
const TASKS: Task[] = ['kv/a', 'kv/b', 'kv/c'].map((id) => Task.parse({ ...kvTask, id }));
let passed: Rollout[] = [];

before(async () => {
  // Real rollouts (the oracle solves each), reshaped below into the outcomes a test needs.
  passed = await Promise.all(
    TASKS.map(async (task) => (await runPerturbedRollout({ runId: 'report' as never, definition: kvEnvironment, task, epoch: 0, runSeed: 1, perturbSeed: 1, resolved: resolvePerturbations([]), model: createOraclePolicy(), sandbox: 'virtual' }))!),
  );
  assert.ok(passed.every((r) => r.passed === true));
});

const failed = (r: Rollout): Rollout => ({ ...r, passed: false, score: 0 });
const infra = (r: Rollout): Rollout => ({ ...r, status: 'infra_error', terminationReason: 'infra_error', passed: null, score: null, error: { source: 'model', kind: 'http', message: 'HTTP 503 from the model endpoint' } });

function arm(id: string, rollouts: Rollout[]): ArmInput {
  return { id, split: 'seen', families: ['tools'], rollouts, notApplicable: [], partlyApplied: [] };
}

function report(baseline: Rollout[], arms: ArmInput[]): RobustnessReport {
  const meta = { gauntletVersion: GAUNTLET_VERSION, createdAt: '2026-03-16T09:00:00Z', suite: 'thin', model: 'oracle', envs: ['kv'], tasks: TASKS.length, epochs: 1, seed: 1, perturbationSeeds: [1], heldOut: [] };
  return RobustnessReport.parse(analyseRobustness({ meta, tasks: TASKS, baseline, arms, resamples: 500 }));
}

function quietIo(): CliIo & { err: string } {
  const io = { err: '', interactive: false, env: {}, stdout: () => undefined, stderr: (t: string) => void (io.err += t) };
  return io;
}

describe('robustness report on thin evidence', () => {
  it('shows no interval, rather than a zero-width one, for a gap over one pair or over pairs that all moved alike', () => {
    const r = report(passed, [arm('one pair', [failed(passed[0]!)]), arm('all alike', passed.map(failed))]);
    for (const row of r.arms) assert.ok(row.gap?.degenerate, row.id);
    const text = renderRobustnessText(r);
    assert.doesNotMatch(text, /\[-100\.0, -100\.0\]/);
    assert.match(text, /one pair\s+seen\s+.*-100\.0 pts \[no interval\]‡/);
    assert.match(text, /seen families: mean gap -100\.0 pts \[no interval\]‡/);
    assert.match(renderRobustnessMarkdown(r), /-100\.0 pts \[no interval\]‡/);
    assert.ok(r.warnings.some((w) => /^one pair; all alike: .*zero width, which is not certainty/.test(w)), r.warnings.join('\n'));
    // The chart draws no bar for an interval it does not have.
    const svg = renderRobustnessSvg(r);
    assert.equal((svg.match(/<line [^>]*stroke-width="2"/g) ?? []).length, 0);
    assert.equal((svg.match(/<circle [^>]*fill="#fff"/g) ?? []).length, 2);
  });

  it('says no arm could be compared, and fails, when every baseline rollout hit an infrastructure error', () => {
    const r = report(passed.map(infra), [arm('tools.rename', passed)]);
    assert.equal(r.arms[0]!.verdict, 'no paired tasks');
    const text = renderRobustnessText(r);
    assert.match(text, /no arm could be compared with the baseline \(no paired tasks\) \(α = 0\.05, Holm across 0 arms\)/);
    assert.doesNotMatch(text, /no perturbation hurts significantly/);
    assert.ok(r.warnings.some((w) => w.startsWith('baseline: none of its 3 rollout(s) was scored (3 infrastructure error(s)); it has no result and no arm can be compared with it')), r.warnings.join('\n'));
    const io = quietIo();
    assert.equal(publish({ report: r, flags: {}, io, format: 'text', cancelled: 0 }).exitCode, 1);
    assert.match(io.err, /no rollout was scored in baseline \(3 infrastructure error\(s\), 0 defect\(s\)\)/);
  });

  it('names an arm whose rollouts all hit infrastructure errors as having no result, and counts none of them as failures', () => {
    const r = report(passed, [arm('responses.format', passed.map(infra)), arm('tools.rename', [infra(passed[0]!), passed[1]!, passed[2]!])]);
    const [formatRow, renameRow] = [r.arms.find((a) => a.id === 'responses.format')!, r.arms.find((a) => a.id === 'tools.rename')!];
    assert.equal(formatRow.passRate, null);
    assert.equal(formatRow.rollouts.infraErrors, 3);
    assert.ok(r.warnings.some((w) => w.startsWith('responses.format: none of its 3 rollout(s) was scored')));
    assert.match(renderRobustnessText(r), /no perturbation hurts significantly; 1 arm had no paired tasks and could not be compared \(α = 0\.05, Holm across 1 arms\)/);
    // The infra error is left out: two tasks paired, both passing, no gap.
    assert.equal(renameRow.passRate?.mean, 1);
    assert.equal(renameRow.pairs, 2);
    assert.equal(renameRow.gap?.mean, 0);
    assert.equal(publish({ report: r, flags: {}, io: quietIo(), format: 'text', cancelled: 0 }).exitCode, 1);
    // An arm with no rollout at all (every task not applicable) is no failure of the run.
    assert.equal(publish({ report: report(passed, [arm('environment.size', [])]), flags: {}, io: quietIo(), format: 'text', cancelled: 0 }).exitCode, 0);
  });
});
