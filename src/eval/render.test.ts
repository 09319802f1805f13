import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareRuns } from './compare.ts';
import { percent } from './format.ts';
import { renderHtml } from './render-html.ts';
import { renderMarkdown } from './render-markdown.ts';
import { EXACT_NOTE, renderComparison, renderTable } from './render-text.ts';
import { buildReport } from './report.ts';
import { run, task } from './test-fixtures.ts';

const suite = [task('m1', 'mail'), task('m2', 'mail'), task('n1', 'notes'), task('n2', 'notes'), task('x1', 'notes')];
const risky = 'openai:http://gpu-3:8000/v1#<script>alert(1)</script>';
const a = run('run_a', { m1: ['pass', 'fail', 'pass'], m2: ['pass', 'pass', 'infra'], n1: ['fail', 'fail', 'fail'], n2: ['pass', 'pass', 'pass'] }, risky);
const b = run('run_b', { m1: ['fail', 'fail', 'fail'], m2: ['pass', 'fail', 'pass'], n1: ['fail', 'pass', 'fail'], n2: ['pass', 'pass', 'pass'] }, 'ckpt-800');
const report = buildReport({ runs: [a, b], tasks: suite, excludedTasks: [{ id: 'x1', reason: 'golden failed' }], options: { seed: 1, resamples: 200 } });
const comparison = compareRuns({ a, b, tasks: suite, seed: 1, resamples: 200 });

describe('percent', () => {
  it('never shows a rate that is neither none nor all as 0% or 100%', () => {
    assert.deepEqual([0, 1, 0.5, 0.99949, 0.9996, 0.0004, null].map((v) => percent(v)), ['0.0%', '100.0%', '50.0%', '99.9%', '>99.9%', '<0.1%', '—']);
    assert.equal(percent(0.99996, 2), '>99.99%');
    assert.equal(percent(0.996, 0), '>99%');
  });
});

describe('renderHtml', () => {
  const html = renderHtml(report);

  it('is one self-contained file: no scripts, links or network assets', () => {
    assert.ok(html.startsWith('<!doctype html>'));
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import/i);
    assert.doesNotMatch(html, /(src|href)\s*=|url\(/i);
    // the only "http" is the model name, escaped as text
    const escapedName = 'openai:http://gpu-3:8000/v1#&lt;script&gt;alert(1)&lt;/script&gt;';
    assert.ok(html.includes(escapedName));
    assert.doesNotMatch(html.split(escapedName).join(''), /https?:\/\//);
  });

  it('draws an inline SVG per chart: pass rate by domain with whiskers, pass@k and pass^k curves', () => {
    assert.equal(html.match(/<svg /g)?.length, 3);
    assert.ok(html.includes('aria-label="pass rate by domain"'));
    assert.ok(html.includes('aria-label="pass@k by k"'));
    assert.ok(html.includes('aria-label="pass^k by k"'));
    // overall + 2 domains, 2 models, 3 whisker lines each
    assert.equal(html.match(/class="whisker"/g)?.length, 3 * 2 * 3);
    // one polyline per model per curve chart
    assert.equal(html.match(/<polyline /g)?.length, 4);
  });

  it('shows excluded tasks and infra errors', () => {
    assert.ok(html.includes('Excluded tasks') && html.includes('golden failed'));
    assert.ok(html.includes('ended in infra errors'));
  });
});

describe('text and markdown', () => {
  it('renderTable lists each domain with n, pass rate with CI, pass^k, flaky and infra errors', () => {
    const text = renderTable(report);
    for (const column of ['domain', 'n', 'pass rate [CI]', 'pass^k', 'flaky', 'infra errors']) assert.ok(text.includes(column), column);
    const overallRow = text.split('\n').find((l) => l.startsWith('overall'));
    // model A: m1 2/3, m2 2/2, n1 0/3, n2 3/3 → (2/3 + 1 + 0 + 1)/4 = 66.7%; 1 infra error of 12 rollouts
    assert.match(overallRow ?? '', /^overall\s+4\s+3\s+66\.7% \[/);
    assert.match(overallRow ?? '', /1 \(8\.3%\)/);
    assert.ok(text.includes('x1: golden failed'));
  });

  it('renderTable gives each model its overall pass@k and pass^k at every k, as the other reports do', () => {
    const lines = renderTable(report).split('\n');
    const headings = lines.flatMap((line, i) => (line.startsWith('pass@k: ') ? [i] : []));
    assert.equal(headings.length, report.models.length);
    report.models.forEach((model, m) => {
      const at = headings[m]!;
      const ks = Object.keys(model.overall.passAtK);
      assert.ok(ks.length >= 2);
      assert.match(lines[at + 1] ?? '', new RegExp(`^k\\s+${ks.join('\\s+')}$`));
      assert.match(lines[at + 3] ?? '', new RegExp(`^pass@k\\s+${ks.map((k) => percent(model.overall.passAtK[k]).replace('.', '\\.')).join('\\s+')}$`));
      assert.match(lines[at + 4] ?? '', new RegExp(`^pass\\^k\\s+${ks.map((k) => percent(model.overall.passHatK[k]).replace('.', '\\.')).join('\\s+')}$`));
    });
  });

  it('renderComparison and renderMarkdown say the verdict in words', () => {
    const text = renderComparison(comparison);
    assert.ok(text.includes(`A = ${risky} (run_a)`));
    assert.match(text, /overall\s+4 .*no significant difference/);
    const md = renderMarkdown(comparison);
    assert.ok(md.startsWith('# Gauntlet comparison'));
    assert.match(md, /\| overall \| 4 \|.*\| no significant difference \|/);
    const reportMd = renderMarkdown(report);
    assert.ok(reportMd.startsWith('# Gauntlet evaluation'));
    assert.match(reportMd, /\| mail \| 2 \| 3 \|/);
  });
});

describe('empty inputs', () => {
  it('renders a report with no runs, and a run with nothing scored, without inventing numbers', () => {
    const none = buildReport({ runs: [], tasks: suite, options: { seed: 1, resamples: 10 } });
    assert.ok(none.warnings.includes('no runs given: the report has no models'));
    assert.equal(renderHtml(none).match(/<svg /g)?.length, 3);
    const idle = buildReport({ runs: [run('run_idle', { m1: ['infra', 'infra'] })], tasks: suite, options: { seed: 1, resamples: 10 } });
    const stats = idle.models[0]?.overall;
    assert.equal(stats?.n, 0);
    assert.equal(stats?.passRate, null);
    assert.equal(stats?.minDetectableEffect, null);
    assert.deepEqual(stats?.passAtK, {});
    const text = renderTable(idle);
    assert.match(text, /overall\s+0\s+2\s+infra errors only/);
    assert.ok(idle.models[0]?.warnings.includes('overall: no scored tasks, so no pass rate'));
    assert.ok(renderMarkdown(idle).includes('infra errors only'));
  });
});

describe('pass rates that are easy to misread', () => {
  const allPassSuite = Array.from({ length: 39 }, (_, i) => task(`t${i}`, 'mail'));
  const allPass = buildReport({
    runs: [run('run_a', Object.fromEntries(allPassSuite.map((t) => [t.id, ['pass', 'pass', 'pass'] as const])))],
    tasks: allPassSuite,
    options: { seed: 1, resamples: 100 },
  });

  it('never prints a certain [100, 100]: the exact interval is shown and marked', () => {
    const outputs = { text: renderTable(allPass), markdown: renderMarkdown(allPass), html: renderHtml(allPass) };
    for (const [name, out] of Object.entries(outputs)) {
      assert.doesNotMatch(out, /\[100\.0%?, 100\.0%?\]/, name);
      // 39 of 39 tasks: Clopper–Pearson [91.0, 100.0]
      assert.ok(out.includes('100.0% [91.0, 100.0]†'), name);
    }
    assert.ok(outputs.text.includes(EXACT_NOTE));
    assert.ok(outputs.markdown.includes(EXACT_NOTE));
    assert.ok(outputs.html.includes('every task had the same pass rate'));
    // the chart's whiskers span the exact interval, drawn dashed
    assert.equal(outputs.html.match(/class="whisker exact"/g)?.length, 2 * 3);
    assert.ok(outputs.html.includes('exact (bootstrap interval had zero width)'));
  });

  it('shows the pooled pass rate where it differs from the per-task mean', () => {
    // model A: m1 2/3, m2 2/2, n1 0/3, n2 3/3 → per task 66.7%, pooled 7/11 = 63.6%
    const overallRow = renderTable(report).split('\n').find((l) => l.startsWith('overall'));
    assert.match(overallRow ?? '', /66\.7% \[[^\]]+\]\s+63\.6%/);
    const allPassRow = renderTable(allPass).split('\n').find((l) => l.startsWith('overall'));
    assert.match(allPassRow ?? '', /\]†\s+same\s/);
    assert.ok(renderTable(report).includes('pooled: passed ÷ scored rollouts'));
  });

  it('says how the comparison intervals were adjusted, and marks a zero-width one', () => {
    assert.match(renderComparison(comparison), /domain intervals Bonferroni-adjusted to 97\.5% each \(95% jointly over 2 domains\)/);
    const tie = compareRuns({ a, b: { ...a, runId: 'run_b' }, tasks: suite, seed: 1, resamples: 50 });
    const text = renderComparison(tie);
    assert.match(text, /overall\s+4\s.*±0\.0 \[no interval\]‡/);
    assert.ok(text.includes('every paired task had the same difference'));
    assert.doesNotMatch(text, /\[±0\.0, ±0\.0\]/);
    assert.ok(renderMarkdown(tie).includes('[no interval]‡'));
  });
});
