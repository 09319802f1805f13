// Names, ids and messages in a report come from task files, model specs and stored runs: none of
// them may break a rendered report's structure, run script or rewrite the terminal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareRuns } from './compare.ts';
import { printable } from './format.ts';
import { renderHtml } from './render-html.ts';
import { markdownCode, renderMarkdown } from './render-markdown.ts';
import { renderComparison, renderTable } from './render-text.ts';
import { buildReport } from './report.ts';
import { EvalReport } from './schema.ts';
import { run, task } from './test-fixtures.ts';

const hostile = 'x<script>alert(1)</script></table><!-- |`a`|\nb\r\n## H [c](javascript:alert(1)) <img src=x onerror=alert(1)> \u001b[31mred';
const suite = [task('t1', `dom${hostile}`), task('t2', 'mail'), task('t3`x', 'mail')];
const withCheck = (r: ReturnType<typeof run>) => ({ ...r, rollouts: r.rollouts.map((ro) => (ro.status === 'scored' ? { ...ro, verifier: { passed: ro.passed === true, score: ro.passed ? 1 : 0, checks: [{ name: `chk${hostile}`, kind: 'outcome' as const, passed: ro.passed === true }] } } : ro)) });
const a = withCheck(run('run_a', { t1: ['pass', 'fail'], t2: ['pass', 'pass'], 't3`x': ['fail', 'pass'] }, `model${hostile}`));
const b = withCheck(run('run_b', { t1: ['fail', 'fail'], t2: ['fail', 'pass'], 't3`x': ['pass', 'pass'] }, `other${hostile}`));
const report = buildReport({ runs: [a, b], tasks: suite, excludedTasks: [], options: { seed: 1, resamples: 100 }, meta: { gauntletVersion: `9${hostile}` } });
const comparison = compareRuns({ a, b, tasks: suite, seed: 1, resamples: 100 });

/** Cells of a Markdown table row, split on the pipes that are not escaped. */
const cells = (line: string) => line.split(/(?<!\\)\|/).length - 2;

describe('Markdown reports with hostile names', () => {
  for (const [what, md] of [
    ['report', renderMarkdown(report)],
    ['comparison', renderMarkdown(comparison)],
  ] as const) {
    it(`keeps raw HTML, links and escape sequences out of the ${what}`, () => {
      assert.doesNotMatch(md, /<script|<img|<!--|<\/table>|(?<!\\)\]\(javascript:/i);
      assert.ok(!md.includes('\u001b'), 'no raw ESC');
      assert.ok(md.includes('&lt;script&gt;'), 'the name is still shown, as text');
    });

    it(`keeps every ${what} table row to its columns and every name on its line`, () => {
      const lines = md.split('\n');
      assert.ok(!lines.some((l) => l.startsWith('## H') || l.startsWith('b')), 'a newline in a name started a line of its own');
      let header = -1;
      for (const line of lines) {
        if (!line.startsWith('|')) {
          header = -1;
          continue;
        }
        if (header === -1) header = cells(line);
        else assert.equal(cells(line), header, line);
      }
    });
  }

  it('fences a code span with more backticks than the id holds', () => {
    assert.equal(markdownCode('t3`x'), '``t3`x``');
    assert.equal(markdownCode('`a'), '`` `a ``');
    assert.equal(markdownCode('a\nb'), '`a b`');
    assert.ok(renderMarkdown(report).includes('``t3`x``'));
  });
});

describe('HTML report with hostile names', () => {
  it('runs no script and opens no element from data', () => {
    const html = renderHtml(report);
    assert.doesNotMatch(html, /<script|<img|<!--|javascript:alert\(1\)">/i);
    assert.equal(html.match(/<table>/g)?.length, html.match(/<\/table>/g)?.length);
  });
});

describe('terminal tables with hostile names', () => {
  it('shows control characters as escapes and keeps each table row on one line', () => {
    for (const text of [renderTable(report), renderComparison(comparison)]) {
      assert.ok(!text.includes('\u001b') && !text.includes('\r'), 'no raw ESC or CR');
      assert.ok(text.includes('\\x1b[31mred'));
      assert.ok(!text.split('\n').some((l) => l.startsWith('b\\') || l.startsWith('## H')), 'a newline in a name broke a row');
    }
  });

  it('printable escapes C0, C1 and bidirectional controls, and keeps newlines only when asked', () => {
    assert.equal(printable('a\u001b[2Jb\u0007\u009b\u202ec\td'), 'a\\x1b[2Jb\\x07\\x9b\\u202ec d');
    assert.equal(printable('a\r\nb\nc'), 'a\\x0d\\x0ab\\x0ac');
    assert.equal(printable('a\r\nb\nc', { keepNewlines: true }), 'a\nb\nc');
  });
});

describe('reading an edited report', () => {
  const json = () => JSON.parse(JSON.stringify(buildReport({ runs: [run('run_a', { t2: ['pass', 'fail'] })], tasks: [task('t2', 'mail')], options: { seed: 1, resamples: 100 } }))) as { models: Array<{ overall: { passRate: { mean: number; ci: number[] } } }> };

  it('refuses a pass rate above 1 or an interval outside [0, 1], naming the field', () => {
    const above = json();
    above.models[0]!.overall.passRate.mean = 1.7;
    const result = EvalReport.safeParse(above);
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues[0]?.path, ['models', 0, 'overall', 'passRate', 'mean']);
    const wide = json();
    wide.models[0]!.overall.passRate.ci = [-0.5, 1.5];
    assert.equal(EvalReport.safeParse(wide).success, false);
  });

  it('still reads the report as written', () => {
    assert.equal(EvalReport.safeParse(json()).success, true);
  });
});

