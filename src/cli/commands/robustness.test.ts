import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { getEnvironment } from '../../envs/index.ts';
import type { CliIo } from '../io.ts';
import { registerRobustnessCommand, type RobustnessDocument } from './robustness.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-robustness-'));
const TASKS = getEnvironment('mail')
  .tasks()
  .slice(0, 4)
  .flatMap((t) => ['--task', t.id]);

/** The command on a fresh program, with captured output and the exit code it set. */
async function robustness(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const io = { out: '', err: '', interactive: false, env: {} } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  const program = new Command('gauntlet').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerRobustnessCommand(program, io);
  for (const command of program.commands) command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  process.exitCode = undefined;
  try {
    await program.parseAsync(['robustness', ...args], { from: 'user' });
    return { out: io.out, err: io.err, code: typeof process.exitCode === 'number' ? process.exitCode : 0 };
  } finally {
    process.exitCode = undefined;
  }
}

describe('gauntlet robustness', () => {
  it('runs the baseline and one arm per --perturb and prints the report as JSON with its chart', { timeout: 120_000 }, async () => {
    const { out, err, code } = await robustness(['--env', 'mail', ...TASKS, '--model', 'oracle', '--perturb', 'tools.rename', '--perturb', 'responses.format:table,tools.reorder', '--resamples', '200', '--json']);
    assert.equal(code, 0, err);
    const doc = JSON.parse(out) as RobustnessDocument;
    assert.equal(doc.kind, 'gauntlet.robustness');
    assert.equal(doc.meta.tasks, 4);
    assert.deepEqual(doc.arms.map((a) => a.id).sort(), ['tools.rename', 'tools.reorder + responses.format']);
    assert.ok(doc.arms.every((a) => a.verdict === 'no significant difference' && a.pairs === 4));
    assert.equal(doc.baseline.rollouts.passed, 4);
    assert.match(doc.chart.svg, /^<svg /);
    assert.match(err, /4 tasks × 1 epochs × \(baseline \+ 2 arms\) = up to 12 rollouts/);
  });

  it('reads a suite file, writes Markdown and the chart to files, and reports held-out families', { timeout: 120_000 }, async () => {
    const suite = join(dir, 'suite.yaml');
    writeFileSync(suite, 'seeds: [1, 2]\naxes:\n  names: [tools.rename]\n  results: ["responses.noise:fields=2"]\nheldOut: [responses]\n');
    const report = join(dir, 'report.md');
    const chart = join(dir, 'chart.svg');
    const { code, err } = await robustness(['--env', 'mail', ...TASKS.slice(0, 4), '--model', 'oracle', '--suite', suite, '--epochs', '2', '--resamples', '200', '--markdown', '--out', report, '--chart', chart]);
    assert.equal(code, 0, err);
    const markdown = readFileSync(report, 'utf8');
    assert.match(markdown, /^# Gauntlet robustness report/);
    assert.match(markdown, /\| responses\.noise:fields=2 \| held-out \|/);
    assert.match(markdown, /## Generalisation\n\n- seen families: mean gap \+?0\.0 pts/);
    assert.match(readFileSync(chart, 'utf8'), /<title>Robustness of oracle/);
  });

  it('rejects unknown perturbations, clashing formats and missing models, saying what is valid', async () => {
    await assert.rejects(robustness(['--env', 'mail', '--model', 'oracle', '--perturb', 'tools.nope']), (e: unknown) => e instanceof InputError && /unknown perturbation "tools.nope"/.test(e.message) && /tools\.rename/.test(e.expected ?? ''));
    await assert.rejects(robustness(['--env', 'mail', '--model', 'oracle', '--perturb', 'tools.rename', '--json', '--html']), (e: unknown) => e instanceof InputError && e.where === '--html');
    await assert.rejects(robustness(['--env', 'mail', '--perturb', 'tools.rename']), (e: unknown) => e instanceof InputError && e.where === '--model');
    await assert.rejects(robustness(['--env', 'mail', '--model', 'oracle']), (e: unknown) => e instanceof InputError && /--suite FILE/.test(e.expected ?? ''));
    await assert.rejects(robustness(['--env', 'nowhere', '--model', 'oracle', '--perturb', 'tools.rename']), (e: unknown) => e instanceof InputError && e.where === '--env');
    // Text tool calling needs a chat template and an openai: model, checked before anything runs.
    await assert.rejects(robustness(['--env', 'mail', ...TASKS, '--model', 'oracle', '--perturb', 'scaffold.tools:kimi-k2']), (e: unknown) => e instanceof InputError && e.where === '--template' && /kimi-k2/.test(e.message));
    const template = join(dir, 'template.jinja');
    writeFileSync(template, '{% for m in messages %}{{ m.content }}{% endfor %}');
    await assert.rejects(robustness(['--env', 'mail', ...TASKS, '--model', 'oracle', '--perturb', 'scaffold.tools:hermes', '--template', template]), (e: unknown) => e instanceof InputError && e.where === '--model' && /openai:/.test(e.expected ?? ''));
  });
});
