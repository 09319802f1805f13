// `gauntlet gate` and `gauntlet compare` on reports and stores built in-process: edge inputs
// must give a clear error naming what was expected, never a silent number.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from './support/cli.ts';
import { buildReport } from '../src/eval/report.ts';
import { run, task } from '../src/eval/test-fixtures.ts';

describe('gauntlet gate --report --baseline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-gate-'));
  const write = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  };
  const mail = buildReport({ runs: [run('run_m', { a: ['pass', 'fail'], b: ['fail', 'fail'] }, 'm')], tasks: [task('a', 'mail'), task('b', 'mail')], options: { seed: 1, resamples: 100 }, meta: { config: { envs: ['mail'] } } });
  const notes = buildReport({ runs: [run('run_n', { x: ['pass', 'pass'], y: ['pass', 'pass'] }, 'm')], tasks: [task('x', 'notes'), task('y', 'notes')], options: { seed: 1, resamples: 100 }, meta: { config: { envs: ['notes'] } } });
  const suite = write('suite.yaml', 'envs: [mail]\ngate:\n  overall: { maxDrop: 0.05 }\n');

  it('refuses a baseline of another suite instead of measuring a drop across other tasks', async () => {
    const { code, err } = await cli(['gate', '--suite', suite, '--report', write('mail.json', mail), '--baseline', write('notes.json', notes)]);
    assert.equal(code, 2, err);
    assert.match(err, /--baseline: .*notes\.json shares no scored task with the report \(baseline suite: notes; report suite: mail\)/);
  });

  it('gates against a baseline of the same suite', async () => {
    const { code, out } = await cli(['gate', '--suite', suite, '--report', write('mail2.json', mail), '--baseline', write('mail-base.json', mail)]);
    assert.equal(code, 0, out);
    assert.match(out, /gate passed/);
  });
});
