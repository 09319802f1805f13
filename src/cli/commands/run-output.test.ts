// What `gauntlet run` says as it goes and when it ends: a log's progress lines, whole error causes,
// and commands to go on that name the run and the store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunSummary } from '../../runner/index.ts';
import { waitFor } from '../../../test/support/wait.ts';
import type { CliIo } from '../io.ts';
import { describeSummary, progressReporter } from './run.ts';

function logIo(): CliIo & { err: string[] } {
  const err: string[] = [];
  return { err, interactive: false, env: {}, stdout: () => {}, stderr: (text: string) => void err.push(text) } as CliIo & { err: string[] };
}

const progress = { total: 1000, done: 120, scored: 110, passed: 80, infraErrors: 3, errors: 0, tokens: 1_234_567 };

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: 'run_20261207T000000Z_abcd' as RunSummary['runId'],
    status: 'finished',
    rollouts: 2,
    scored: 1,
    infraErrors: 1,
    errors: 0,
    cancelled: 0,
    passed: 1,
    passRate: 1,
    pooledPassRate: 1,
    taskMeanPassRate: 1,
    meanScore: 1,
    terminationReasons: { answered: 1 } as RunSummary['terminationReasons'],
    missing: 0,
    durationMs: 10,
    errorRollouts: [],
    ...overrides,
  };
}

describe('gauntlet run: what it says', () => {
  it('tells a log where a run stands every interval while it goes', async () => {
    const io = logIo();
    const reporter = await progressReporter(io, 20);
    try {
      reporter.update(progress);
      await waitFor(() => io.err.length >= 2, 'two progress lines');
      assert.equal(io.err[0], 'progress: 120/1,000 rollouts, 80 passed, 3 infra errors, 0 errors, 1.2M tokens\n');
    } finally {
      reporter.stop();
    }
  });

  it('lists an error rollout with its whole cause, not the first line of it', () => {
    const text = describeSummary(
      summary({ errors: 1, errorRollouts: [{ id: 'r1', taskId: 'mine/one', epoch: 0, source: 'environment', message: 'initialState is not valid mail state:\n  initialState.messages.0.id: msg_ followed by four digits' }] }),
      '.gauntlet/gauntlet.db',
    );
    assert.match(text, /mine\/one #0 \(r1\): initialState is not valid mail state: initialState\.messages\.0\.id: msg_ followed by four digits/);
  });

  it('names the store in the commands it suggests, unless it is the default one', () => {
    const interrupted = summary({ status: 'interrupted', missing: 3 });
    const elsewhere = describeSummary(interrupted, '/data/runs.db');
    assert.ok(elsewhere.includes('(resume with `gauntlet run --resume run_20261207T000000Z_abcd --store /data/runs.db`)'), elsewhere);
    assert.ok(elsewhere.includes('inspect with `gauntlet show run_20261207T000000Z_abcd --store /data/runs.db`'), elsewhere);
    const spaced = describeSummary(interrupted, '/data/my runs.db');
    assert.ok(spaced.includes("--store '/data/my runs.db'`"), spaced);
    const here = describeSummary(summary(), '.gauntlet/gauntlet.db');
    assert.ok(here.includes('(run them again with `gauntlet run --resume run_20261207T000000Z_abcd --retry-infra`)'), here);
    assert.doesNotMatch(here, /--store/);
  });
});
