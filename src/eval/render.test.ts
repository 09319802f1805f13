import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareRuns } from './compare.ts';
import { renderHtml } from './render-html.ts';
import { renderMarkdown } from './render-markdown.ts';
import { renderComparison, renderTable } from './render-text.ts';
import { buildReport } from './report.ts';
import { run, task } from './test-fixtures.ts';

const suite = [task('m1', 'mail'), task('m2', 'mail'), task('n1', 'notes'), task('n2', 'notes'), task('x1', 'notes')];
const risky = 'openai:http://gpu-3:8000/v1#<script>alert(1)</script>';
const a = run('run_a', { m1: ['pass', 'fail', 'pass'], m2: ['pass', 'pass', 'infra'], n1: ['fail', 'fail', 'fail'], n2: ['pass', 'pass', 'pass'] }, risky);
const b = run('run_b', { m1: ['fail', 'fail', 'fail'], m2: ['pass', 'fail', 'pass'], n1: ['fail', 'pass', 'fail'], n2: ['pass', 'pass', 'pass'] }, 'ckpt-800');
const report = buildReport({ runs: [a, b], tasks: suite, excludedTasks: [{ id: 'x1', reason: 'golden failed' }], options: { seed: 1, resamples: 200 } });
const comparison = compareRuns({ a, b, tasks: suite, seed: 1, resamples: 200 });

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
