import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { recordStepLabel, recordVerdict } from '../../review/index.ts';
import { reviewFixture } from '../../review/test-support.ts';
import type { CliIo } from '../io.ts';
import { registerReviewCommands } from './review.ts';
import { registerServeCommand, type ServeHooks } from './serve.ts';

function captureIo(env: Record<string, string | undefined> = {}): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', interactive: false, env } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  return io;
}

/** A fresh program with just these commands, as the lead registers them. */
async function cli(args: string[], options: { hooks?: ServeHooks; env?: Record<string, string | undefined> } = {}) {
  const io = captureIo(options.env);
  const program = new Command('gauntlet').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerReviewCommands(program, io);
  registerServeCommand(program, io, options.hooks);
  for (const command of program.commands) command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  await program.parseAsync(['node', 'gauntlet', ...args]);
  return io;
}

/** commander wraps errors thrown by option parsers; either way the InputError names the flag. */
const inputError = (where: string, pattern?: RegExp) => (e: unknown) => {
  const error = e instanceof InputError ? e : (e as { cause?: unknown }).cause;
  return error instanceof InputError && error.where === where && (!pattern || pattern.test(error.message));
};

describe('gauntlet review-queue, review-stats, export-labels and serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-review-cli-'));
  const path = join(dir, 'g.db');
  let oracleRun: string;

  before(async () => {
    const fx = await reviewFixture({ path });
    oracleRun = fx.oracleRun;
    const rollouts = fx.store.rollouts(fx.oracleRun);
    for (const [i, reviewer, verdict] of [[0, 'alice', 'accept'], [0, 'bob', 'reject'], [1, 'alice', 'accept'], [1, 'bob', 'accept']] as const) {
      recordVerdict({ store: fx.store }, { rolloutId: rollouts[i]!.id, verdict, reviewer });
    }
    recordStepLabel({ store: fx.store }, { rolloutId: rollouts[0]!.id, callId: fx.store.modelCalls(rollouts[0]!.id)[0]!.id, rating: 0, reviewer: 'alice' });
    fx.store.close();
  });

  it('review-queue creates a queue from a strategy and a rubric file, printing its id', async () => {
    const rubric = join(dir, 'rubric.yaml');
    writeFileSync(rubric, 'fields:\n  - { name: hack, type: categorical, options: [none, tests, other], required: true }\n  - { name: confidence, type: numeric, min: 1, max: 5 }\n');
    const io = await cli(['review-queue', '--run', oracleRun, '--sample', '3', '--strategy', 'random', '--reviewers-per-item', '2', '--rubric', rubric, '--seed', '4', '--store', path]);
    const id = io.out.trim();
    assert.match(id, /^rq_/);
    assert.match(io.err, /3 of 3 rollouts asked for \(random\), 2 reviewers each/);
    const store = openStore(path);
    const [queue] = store.reviewQueues({ id });
    assert.equal(queue?.reviewersPerItem, 2);
    assert.equal((queue?.record.rubric as { fields: unknown[] }).fields.length, 2);
    assert.equal(store.reviewItems(id, 0).length, 3);
    store.close();
  });

  it('review-queue names the flag or file at fault', async () => {
    await assert.rejects(cli(['review-queue', '--run', 'run_nope', '--sample', '3', '--store', path]), inputError('--run'));
    await assert.rejects(cli(['review-queue', '--run', oracleRun, '--sample', '3', '--strategy', 'flagged', '--store', path]), inputError('--strategy', /detector findings/));
    await assert.rejects(cli(['review-queue', '--run', oracleRun, '--sample', '3', '--strategy', 'best', '--store', path]), inputError('--strategy'));
    // Shorter than a second rounds towards a reservation that lapses before the next reviewer asks (or to 0 ms, unreadable).
    await assert.rejects(cli(['review-queue', '--run', oracleRun, '--sample', '3', '--reservation-minutes', '0.00001', '--store', path]), inputError('--reservation-minutes', /at least one second/));
    const bad = join(dir, 'bad-rubric.yaml');
    writeFileSync(bad, 'fields:\n  - { name: hack, type: categorical, options: [only-one] }\n');
    await assert.rejects(cli(['review-queue', '--run', oracleRun, '--sample', '3', '--rubric', bad, '--store', path]), (e: unknown) => e instanceof InputError && e.where === bad && /fields\.0\.options/.test(e.message));
  });

  it('review-stats prints alpha with its interval and kappa per pair, or one JSON document', async () => {
    const text = await cli(['review-stats', '--run', oracleRun, '--resamples', '200', '--store', path]);
    assert.match(text.out, /Verdicts: Krippendorff's alpha \(nominal\) .* \(2 units, 4 labels, 2 reviewers\)/);
    assert.match(text.out, /Cohen's kappa alice × bob: .* over 2 shared units/);
    assert.match(text.out, /Step ratings: .*\n {2}alpha undefined: no unit has labels from two reviewers/);
    assert.match(text.out, /nothing to compare: run `gauntlet detect`/);
    const json = JSON.parse((await cli(['review-stats', '--run', oracleRun, '--json', '--store', path])).out) as { verdicts: { alpha: { units: number } } };
    assert.equal(json.verdicts.alpha.units, 2);
    await assert.rejects(cli(['review-stats', '--queue', 'rq_nope', '--store', path]), inputError('--queue'));
  });

  it('export-labels writes JSONL, and demands an explicit mapping for 0-rated steps', async () => {
    const out = join(dir, 'kto.jsonl');
    const io = await cli(['export-labels', '--format', 'kto', '--run', oracleRun, '--output', out, '--store', path]);
    const rows = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { label: boolean });
    assert.deepEqual(rows.map((r) => r.label).sort(), [false, true, true, true]);
    assert.match(io.err, /4 kto rows written to/);
    await assert.rejects(cli(['export-labels', '--format', 'prm', '--store', path]), inputError('--zero-steps', /required/));
    await assert.rejects(cli(['export-labels', '--format', 'kto', '--output', join(dir, 'no-such-folder', 'kto.jsonl'), '--store', path]), inputError('--output', /cannot write .*no-such-folder/));
    const prm = await cli(['export-labels', '--format', 'prm', '--zero-steps', 'drop', '--store', path]);
    assert.equal(prm.out, '');
    assert.match(prm.err, /0 prm rows\n {2}1 skipped: only 0-rated steps, dropped/);
    const neutral = await cli(['export-labels', '--format', 'prm', '--zero-steps', 'neutral', '--store', path]);
    assert.deepEqual((JSON.parse(neutral.out) as { labels: unknown[] }).labels, [null]);
  });

  it('serve answers the API on loopback until stopped, and says when the viewer is not built', async () => {
    let runs: { items: { id: string }[] } | undefined;
    const io = await cli(['serve', '--port', '0', '--store', path], {
      hooks: {
        webRoot: join(dir, 'no-web'),
        untilStopped: async (server) => {
          runs = (await (await fetch(`${server.url}/api/runs`)).json()) as typeof runs;
        },
      },
    });
    assert.equal(runs?.items.length, 2);
    assert.match(io.err, /serve: http:\/\/127\.0\.0\.1:\d+/);
    assert.match(io.err, /viewer: not built .*npm run build:web/);
  });

  it('serve refuses a non-loopback bind without a token, naming --host', async () => {
    await assert.rejects(cli(['serve', '--host', '0.0.0.0', '--port', '0', '--store', path]), inputError('--host', /without a bearer token/));
    await assert.rejects(cli(['serve', '--port', '0', '--store', path], { env: { GAUNTLET_TOKEN: ' ' } }), inputError('GAUNTLET_TOKEN'));
  });
});
