import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunId, type CheckResult, type Rollout } from '../core/index.ts';
import { renderHtml } from './render-html.ts';
import { renderMarkdown } from './render-markdown.ts';
import { renderTable } from './render-text.ts';
import { buildReport } from './report.ts';
import { EvalReport } from './schema.ts';
import { makeRollout } from './simulate.ts';
import { task } from './test-fixtures.ts';

const check = (name: string, passed: boolean): CheckResult => ({ name, kind: 'outcome', passed });

function scored(taskId: string, epoch: number, checks: CheckResult[], attempt = 1): Rollout {
  const passed = checks.every((c) => c.passed);
  return makeRollout({
    runId: RunId.parse('run_checks'),
    taskId,
    epoch,
    attempt,
    model: 'm',
    status: 'scored',
    passed,
    verifier: { passed, score: passed ? 1 : 0, checks },
  });
}

const suite = [task('w1', 'writing'), task('w2', 'writing'), task('m1', 'math')];
const rollouts: Rollout[] = [
  scored('w1', 0, [check('system: plain text', true), check('user: under 120 words', true)]),
  scored('w1', 1, [check('system: plain text', false), check('user: under 120 words', true)]),
  scored('w2', 0, [check('system: plain text', false), check('turn_answer', true), check('turn_answer', false)]),
  // an earlier attempt of the same epoch is superseded by the retry below and not counted
  scored('m1', 0, [check('correct number', false)], 1),
  scored('m1', 0, [check('correct number', true)], 2),
  // infra errors are never scored, so their checks (if any) are not counted either
  makeRollout({ runId: RunId.parse('run_checks'), taskId: 'm1', epoch: 1, model: 'm', status: 'infra_error', passed: null }),
];
const report = buildReport({ runs: [{ runId: 'run_checks', model: 'm', rollouts }], tasks: suite, options: { seed: 1, resamples: 50 } });
const model = report.models[0]!;

describe('per-check pass rates', () => {
  it('counts each named check over scored final rollouts, overall and per domain', () => {
    assert.deepEqual(model.overall.checks, {
      'correct number': { passed: 1, total: 1, rate: 1 },
      'system: plain text': { passed: 1, total: 3, rate: 1 / 3 },
      turn_answer: { passed: 1, total: 2, rate: 0.5 },
      'user: under 120 words': { passed: 2, total: 2, rate: 1 },
    });
    assert.deepEqual(Object.keys(model.domains.writing?.checks ?? {}), ['system: plain text', 'turn_answer', 'user: under 120 words']);
    assert.deepEqual(model.domains.math?.checks, { 'correct number': { passed: 1, total: 1, rate: 1 } });
  });

  it('is empty when rollouts carry no verifier checks', () => {
    const bare = buildReport({ runs: [{ runId: 'run_x', model: 'x', rollouts: [makeRollout({ runId: RunId.parse('run_x'), taskId: 'm1', epoch: 0, model: 'x', status: 'scored', passed: true })] }], tasks: suite, options: { seed: 1, resamples: 10 } });
    assert.deepEqual(bare.models[0]?.overall.checks, {});
    assert.doesNotMatch(renderTable(bare), /Checks:/);
  });

  it('renders a compact table per model, worst check first, in text, markdown and HTML', () => {
    const text = renderTable(report);
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Checks:'));
    assert.ok(at > 0, text);
    assert.match(lines[at + 1] ?? '', /^check\s+overall\s+math\s+writing$/);
    assert.match(lines[at + 3] ?? '', /^system: plain text\s+1\/3 33\.3%\s+—\s+1\/3 33\.3%$/);
    assert.match(lines[at + 4] ?? '', /^turn_answer\s+1\/2 50\.0%/);
    const md = renderMarkdown(report);
    assert.match(md, /\| check \| overall \| math \| writing \|/);
    assert.match(md, /\| system: plain text \| 1\/3 33\.3% \| — \| 1\/3 33\.3% \|/);
    const html = renderHtml(report);
    assert.ok(html.includes('<td>system: plain text</td><td>1/3 33.3%</td>'));
  });

  it('reads reports written before per-check rates existed', () => {
    const old = JSON.parse(JSON.stringify(report)) as { models: { overall: Record<string, unknown>; domains: Record<string, Record<string, unknown>> }[] };
    for (const m of old.models) {
      delete m.overall.checks;
      for (const d of Object.values(m.domains)) delete d.checks;
    }
    assert.deepEqual(EvalReport.parse(old).models[0]?.overall.checks, {});
  });
});
