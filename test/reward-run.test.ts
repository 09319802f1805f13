// `gauntlet run --reward FILE` end to end: a built-in environment, the oracle policy, a scripted
// judge, and the terms as stored. (An integration test: it drives the CLI, above this module.)
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli as runCli } from './support/cli.ts';
import { InputError, Task } from '../src/core/index.ts';
import { defineEnvironment } from '../src/envs/index.ts';
import { createOraclePolicy } from '../src/model/index.ts';
import { executeRun, resolveRun } from '../src/runner/index.ts';
import { openStore } from '../src/store/index.ts';
import { counterEnv, counterTasks } from './support/counter-env.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-reward-run-'));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const cli = (args: string[]) => runCli(args, { COLUMNS: '100' });

const grade = JSON.stringify({ scores: [{ criterion: 'plan', score: 4, reason: 'Edits the file directly.' }] });
write('process.yaml', 'id: process\nversion: 1\ncriteria:\n  - id: plan\n    description: Works to a plan without wasted steps.\n    scale: { min: 1, max: 5 }\n');
const judgeScript = write('judge.yaml', `turns:\n  - content: '${grade}'\n`);
const reward = write(
  'reward.yaml',
  [
    'terms:',
    '  outcome: { weight: 1 }',
    '  tool_errors: { weight: -0.1 }',
    '  repeated_calls: { weight: -0.05 }',
    '  useless_calls: { weight: -0.05 }',
    '  turns: { weight: -0.01 }',
    '  duration: { weight: 0 }',
    '  detector.dangerous_command: { weight: -1, gate: true }',
    '  rubric: { weight: 0.5, rubric: ./process.yaml, samples: 2 }',
  ].join('\n'),
);
const task = ['--env', 'terminal', '--task', 'terminal/bump-package-version', '--model', 'oracle', '--sandbox', 'virtual'];

describe('gauntlet run --reward', () => {
  it('stores each term with its value, weight and source, and the composed reward', { timeout: 60_000 }, async () => {
    const store = join(dir, 'g.db');
    const { code, out, err } = await cli(['run', ...task, '--reward', reward, '--judge', `scripted:${judgeScript}`, '--store', store, '--json']);
    assert.equal(code, 0, err);
    const runId = (JSON.parse(out) as { runId: string }).runId;
    const db = openStore(store);
    try {
      const run = db.getRun(runId)!;
      const stored = run.config.reward as { terms: Record<string, { rubric?: { id: string } }> };
      assert.equal(stored.terms.rubric?.rubric?.id, 'process', 'the rubric itself is stored with the run');
      const [rollout] = db.rollouts(runId);
      assert.equal(rollout?.status, 'scored');
      assert.equal(rollout.passed, true);
      assert.equal(rollout.score, 1);
      assert.deepEqual(
        rollout.rewardTerms.map((t) => [t.name, t.source, t.weight]),
        [
          ['outcome', 'verifier', 1],
          ['tool_errors', 'process', -0.1],
          ['repeated_calls', 'process', -0.05],
          ['useless_calls', 'process', -0.05],
          ['turns', 'time', -0.01],
          ['duration', 'time', 0],
          ['detector.dangerous_command', 'detector', -1],
          ['rubric', 'rubric', 0.5],
        ],
      );
      const value = (name: string) => rollout.rewardTerms.find((t) => t.name === name)!.value;
      assert.equal(value('turns'), rollout.stats.turns);
      assert.equal(value('tool_errors'), rollout.stats.toolErrors);
      assert.equal(value('detector.dangerous_command'), 0);
      assert.equal(value('rubric'), 0.75);
      const sum = rollout.rewardTerms.reduce((s, t) => s + t.weight * t.value, 0);
      assert.ok(Math.abs((rollout.reward ?? NaN) - sum) < 1e-12);
      const judged = db.modelCalls(rollout.id).filter((c) => c.purpose === 'judge');
      assert.equal(judged.length, 2, 'one recorded call per sample');
    } finally {
      db.close();
    }
  });

  it('refuses a reward file naming an unknown term, naming the file and listing the valid terms', async () => {
    const typo = write('typo.yaml', 'terms:\n  outcome: { weight: 1 }\n  tool_error: { weight: -0.1 }\n');
    const { code, err } = await cli(['run', ...task, '--reward', typo, '--store', join(dir, 'typo.db')]);
    assert.notEqual(code, 0);
    assert.match(err, new RegExp(`${typo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: terms\\.tool_error: unknown reward term "tool_error"`));
    assert.match(err, /tool_errors, repeated_calls, useless_calls/);
  });

  it('--reward-for gives one environment its reward; the run\'s other environments keep their own', { timeout: 60_000 }, async () => {
    const store = join(dir, 'for.db');
    const mailReward = write('mail-reward.yaml', 'terms:\n  outcome: { weight: 1 }\n  turns: { weight: -0.01 }\n');
    const tasks = ['--env', 'mail,notes', '--task', 'mail/kestrel-launch-date', '--task', 'notes/overdue-content-items', '--model', 'oracle'];
    const { code, out, err } = await cli(['run', ...tasks, '--reward-for', `mail=${mailReward}`, '--store', store, '--json']);
    assert.equal(code, 0, err);
    const runId = (JSON.parse(out) as { runId: string }).runId;
    const db = openStore(store);
    try {
      const terms = Object.fromEntries(db.rollouts(runId).map((r) => [r.taskId, r.rewardTerms.map((t) => t.name)]));
      assert.deepEqual(terms, { 'mail/kestrel-launch-date': ['outcome', 'turns'], 'notes/overdue-content-items': ['outcome', 'verifier_checks'] });
    } finally {
      db.close();
    }
    const both = await cli(['run', ...tasks, '--reward', reward, '--reward-for', `mail=${mailReward}`, '--store', store]);
    assert.equal(both.code, 2);
    assert.match(both.err, /--reward-for: given with --reward/);
    const stray = await cli(['run', ...tasks, '--reward-for', `calendar=${mailReward}`, '--store', store]);
    assert.notEqual(stray.code, 0);
    assert.match(stray.err, /--reward-for: no task of the run is in environment "calendar"/);
  });

  it('validates a reward given in run settings, and wants a judge for rubric terms', async () => {
    const settings = { envs: ['terminal'], taskIds: ['terminal/bump-package-version'], model: 'oracle', sandbox: 'virtual' as const, epochs: 1, concurrency: 1, seed: 0 };
    await assert.rejects(resolveRun({ ...settings, reward: { terms: { outcome: { weight: 1 }, tool_error: { weight: 1 } } } }), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.where, 'reward: terms.tool_error');
      return true;
    });
    const rubric = { id: 'r', version: 1, criteria: [{ id: 'c', description: 'd', scale: { min: 0, max: 1 } }] };
    await assert.rejects(resolveRun({ ...settings, reward: { terms: { rubric: { weight: 1, rubric } } } }), /reward: the rubric term rubric needs a judge model/);
    const resolved = await resolveRun({ ...settings, reward: { terms: { turns: { weight: -0.01 } } } });
    assert.deepEqual(resolved.config.reward, { version: 1, terms: { turns: { weight: -0.01 } } });
  });
});

describe('an environment\'s default reward', () => {
  const turns = { terms: { outcome: { weight: 1 }, turns: { weight: -0.01 } } };
  const counter = defineEnvironment({ ...counterEnv, reward: turns });
  // A second environment with tasks of its own, to mix into one run.
  const tallyTasks = counterTasks.map((t) => Task.parse({ ...t, id: t.id.replace('counter/', 'tally/'), env: 'tally' }));
  const tally = (reward?: typeof turns) => defineEnvironment({ ...counterEnv, name: 'tally', tasks: () => tallyTasks, ...(reward ? { reward } : {}) });
  const catalogOf = (...envs: ReturnType<typeof defineEnvironment>[]) => ({ names: () => envs.map((e) => e.name), get: (name: string) => envs.find((e) => e.name === name)! });
  const settings = { envs: ['counter'], taskIds: ['counter/a'], model: 'oracle', epochs: 1, concurrency: 1, seed: 0, maxAttempts: 1 };

  it('applies when the run gives none, stored with the environment named as its source, and composes each rollout', async () => {
    const catalog = catalogOf(counter);
    const resolved = await resolveRun(settings, { catalog });
    assert.deepEqual(resolved.config.reward, { version: 1, source: 'environment counter', terms: { outcome: { weight: 1, use: 'passed' }, turns: { weight: -0.01 } } });
    const store = openStore(':memory:');
    const summary = await executeRun({ store, run: { resolved }, model: createOraclePolicy(), catalog });
    const [rollout] = store.rollouts(summary.runId);
    assert.deepEqual(rollout?.rewardTerms.map((t) => t.name), ['outcome', 'turns']);
    assert.equal(store.getRun(summary.runId)?.config.reward?.source, 'environment counter');
  });

  it('gives way to the run\'s own reward', async () => {
    const resolved = await resolveRun({ ...settings, reward: { terms: { outcome: { weight: 1 } } } }, { catalog: catalogOf(counter) });
    assert.deepEqual(resolved.config.reward, { version: 1, terms: { outcome: { weight: 1, use: 'passed' } } });
  });

  it('scores each environment of a mixed run by its own reward where their defaults disagree', async () => {
    const mixed = { ...settings, envs: ['counter', 'tally'], taskIds: ['counter/a', 'tally/a'] };
    const catalog = catalogOf(counter, tally());
    const resolved = await resolveRun(mixed, { catalog });
    assert.equal(resolved.config.reward, undefined);
    assert.deepEqual(resolved.config.rewards, {
      counter: { version: 1, source: 'environment counter', terms: { outcome: { weight: 1, use: 'passed' }, turns: { weight: -0.01 } } },
      tally: { version: 1, source: 'built-in default', terms: { outcome: { weight: 1, use: 'passed' }, verifier_checks: { weight: 0 } } },
    });
    const store = openStore(':memory:');
    const summary = await executeRun({ store, run: { resolved }, model: createOraclePolicy(), catalog });
    const terms = Object.fromEntries(store.rollouts(summary.runId).map((r) => [r.taskId, r.rewardTerms.map((t) => t.name)]));
    assert.deepEqual(terms, { 'counter/a': ['outcome', 'turns'], 'tally/a': ['outcome', 'verifier_checks'] });
    assert.deepEqual(store.getRun(summary.runId)?.config.rewards, resolved.config.rewards, 'stored with the run, for resume and workers');
    const both = await resolveRun(mixed, { catalog: catalogOf(counter, tally(turns)) });
    assert.equal(both.config.reward?.source, 'environment counter, tally');
    assert.equal(both.config.rewards, undefined, 'agreeing environments share one reward');
  });

  it('takes a reward per environment from the run\'s settings, refusing one beside `reward` or for an environment not in the run', async () => {
    const mixed = { ...settings, envs: ['counter', 'tally'], taskIds: ['counter/a', 'tally/a'] };
    const catalog = catalogOf(counter, tally());
    const resolved = await resolveRun({ ...mixed, rewards: { tally: { terms: { outcome: { weight: 2 } } } } }, { catalog });
    assert.deepEqual(resolved.config.rewards?.tally, { version: 1, terms: { outcome: { weight: 2, use: 'passed' } } });
    assert.equal(resolved.config.rewards?.counter?.source, 'environment counter');
    await assert.rejects(resolveRun({ ...mixed, rewards: { notes: { terms: { outcome: { weight: 1 } } } } }, { catalog }), /rewards\.notes: no task of the run is in environment "notes"/);
    await assert.rejects(resolveRun({ ...mixed, rewards: { tally: { terms: { turn: { weight: 1 } } } } }, { catalog }), /rewards\.tally: terms\.turn: unknown reward term/);
    await assert.rejects(resolveRun({ ...mixed, reward: { terms: { outcome: { weight: 1 } } }, rewards: { tally: { terms: { outcome: { weight: 1 } } } } }, { catalog }), /rewards: given beside `reward`/);
  });

  it('wants a judge for the rubric terms of an environment\'s default', async () => {
    const rubric = { id: 'r', version: 1, criteria: [{ id: 'c', description: 'd', scale: { min: 0, max: 1 } }] };
    const judged = defineEnvironment({ ...counterEnv, reward: { terms: { rubric: { weight: 1, rubric } } } });
    await assert.rejects(resolveRun(settings, { catalog: catalogOf(judged) }), /reward: the rubric term rubric \(the environment counter default\) needs a judge model/);
  });
});
