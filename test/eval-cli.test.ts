import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from './support/cli.ts';
import { registerEnvironment } from '../src/envs/index.ts';
import { counterEnv } from './support/counter-env.ts';

registerEnvironment('counter', () => counterEnv);

describe('gauntlet eval / compare / gate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-eval-'));
  const store = join(dir, 'g.db');

  it('evaluates two models with per-domain pass rates, CIs, pass@k and pass^k', async () => {
    const { code, out, err } = await cli(['eval', '--env', 'counter', '--model', 'oracle', '--model', 'noop', '--epochs', '3', '--resamples', '500', '--store', store, '--out', join(dir, 'report.json'), '--html', join(dir, 'report.html'), '--json']);
    assert.equal(code, 0, err);
    const report = JSON.parse(out);
    assert.equal(report.models.length, 2);
    assert.equal(report.overall.n, 3);
    assert.equal(report.overall.epochs, 3);
    assert.equal(report.overall.passRate.mean, 1);
    assert.deepEqual(Object.keys(report.overall.passAtK).sort(), ['1', '2', '3']);
    assert.equal(report.models[1].overall.passRate.mean, 0);
    assert.deepEqual(Object.keys(report.domains).sort(), ['counting', 'other']);
    assert.equal(report.domains.counting.n, 2);
    assert.ok(Array.isArray(report.domains.counting.passRate.ci));
    assert.deepEqual(report.overall.excludedTasks, []);
    assert.equal(report.meta.config.epochs, 3);
    assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /<svg/);
  });

  it('compares two stored runs and says when there is no significant difference', async () => {
    const runs = JSON.parse((await cli(['runs', '--json', '--store', store])).out) as { id: string; model: string }[];
    const oracle = runs.find((r) => r.model === 'oracle')!.id;
    const noop = runs.find((r) => r.model === 'noop')!.id;
    const same = await cli(['compare', oracle, oracle, '--json', '--store', store]);
    assert.equal(same.code, 0, same.err);
    assert.equal(JSON.parse(same.out).overall.verdict, 'no significant difference');
    const text = await cli(['compare', oracle, noop, '--store', store]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /overall/);
  });

  it('gates on thresholds and exits 1 naming the failing domain', async () => {
    const suite = join(dir, 'suite.yaml');
    writeFileSync(suite, 'envs: [counter]\nepochs: 2\nresamples: 200\ngate:\n  domains:\n    counting: { minPassRate: 0.9 }\n');
    const pass = await cli(['gate', '--suite', suite, '--model', 'oracle', '--store', store]);
    assert.equal(pass.code, 0, pass.err + pass.out);
    assert.match(pass.out, /gate passed/);
    const fail = await cli(['gate', '--suite', suite, '--model', 'noop', '--store', store]);
    assert.equal(fail.code, 1);
    assert.match(fail.out, /gate FAILED in counting/);
  });

  it('replays the configuration recorded in a report and gets the same numbers', async () => {
    const first = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    const { code, out, err } = await cli(['eval', '--replay', join(dir, 'report.json'), '--store', store, '--out', join(dir, 'replay.json'), '--json']);
    assert.equal(code, 0, err);
    const replay = JSON.parse(out);
    assert.deepEqual(replay.meta.config, first.meta.config);
    assert.deepEqual(
      replay.models.map((m: { model: string; overall: unknown }) => [m.model, m.overall]),
      first.models.map((m: { model: string; overall: unknown }) => [m.model, m.overall]),
    );
  });

  it('rejects a suite without tasks, naming the file', async () => {
    const suite = join(dir, 'empty.yaml');
    writeFileSync(suite, 'epochs: 2\n');
    const { code, err } = await cli(['eval', '--suite', suite, '--model', 'oracle', '--store', store]);
    assert.equal(code, 2);
    assert.match(err, /empty\.yaml: the suite names no tasks/);
  });

  it('names the suite file of a mistyped environment or model, and the flag of a mistyped --model', async () => {
    const suite = join(dir, 'mistyped.yaml');
    writeFileSync(suite, 'envs: [mial]\nmodels: [oracle]\ngate:\n  overall: { minPassRate: 0.5 }\n');
    for (const command of ['eval', 'gate']) {
      const { code, err } = await cli([command, '--suite', suite, '--store', store]);
      assert.equal(code, 2, err);
      assert.ok(err.startsWith(`gauntlet: ${suite}: envs: unknown environment "mial"`), err);
    }
    writeFileSync(suite, 'envs: [counter]\nmodels: [orcale]\n');
    assert.ok((await cli(['eval', '--suite', suite, '--store', store])).err.startsWith(`gauntlet: ${suite}: models: unknown model kind 'orcale'`));
    const flagged = await cli(['eval', '--env', 'counter', '--model', 'orcale', '--store', store]);
    assert.equal(flagged.code, 2);
    assert.match(flagged.err, /^gauntlet: --model: unknown model kind 'orcale'/);
  });

  it('names the suite file once for a typo in its gate section', async () => {
    const suite = join(dir, 'typo.yaml');
    writeFileSync(suite, 'envs: [counter]\nmodels: [oracle]\ngate:\n  overal: { minPassRate: 0.5 }\n');
    const { code, err } = await cli(['gate', '--suite', suite, '--store', store]);
    assert.equal(code, 2, err);
    assert.equal(err, `gauntlet: ${suite}: invalid gate section\ngate: unknown key "overal" (expected overall, domains, everyDomain)\n`);
  });

  it('refuses to compare two runs that share no scored task, naming both', async () => {
    const runOf = async (task: string) => {
      const { code, out, err } = await cli(['run', '--env', 'counter', '--task', task, '--model', 'oracle', '--store', store, '--json']);
      assert.equal(code, 0, err);
      return (JSON.parse(out) as { runId: string }).runId;
    };
    const a = await runOf('counter/a');
    const b = await runOf('counter/b');
    const { code, out, err } = await cli(['compare', a, b, '--json', '--store', store]);
    assert.equal(code, 2, err);
    assert.equal(out, '');
    assert.match(err, new RegExp(`^gauntlet: ${a} and ${b}: no task was scored in both runs, so there is nothing to compare \\(scored only in ${a}: 1 task; only in ${b}: 1 task\\)`));
  });
});
