// Every perturbation keeps every built-in task solvable: the oracle, re-mapped through it, passes.
// Each composite arm applies many perturbations at once and the six together cover every
// perturbation in every variant; coding (bwrap, slow) has its own file.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stableStringify } from '../src/core/index.ts';
import { environmentNames, getEnvironment } from '../src/envs/index.ts';
import { FORMAT_NAMES } from '../src/formats/index.ts';
import { createOraclePolicy } from '../src/model/index.ts';
import { paramsOf, perturbEpisode, PERTURBATIONS, resolvePerturbations, toolsOf } from '../src/perturb/index.ts';
import { RENAME_STYLES } from '../src/perturb/tools/names.ts';
import { runPerturbedRollout } from '../src/cli/commands/robustness-episodes.ts';
import { COMPOSITES, replayGolden, throughFormat } from './perturb-support.ts';

// coding has a test of its own (slow: real processes); harbor's tasks are imported, it ships none.
const ENVS = environmentNames().filter((name) => name !== 'coding' && getEnvironment(name).tasks().length > 0);

describe('perturbations keep tasks solvable', () => {
  it('the composites cover every perturbation and every choice of its parameters but those checked elsewhere', () => {
    const entries = COMPOSITES.flatMap((arm) => resolvePerturbations(arm).entries);
    const covered = new Set(entries.map((e) => e.perturbation.id));
    assert.deepEqual(PERTURBATIONS.map((p) => p.id).filter((id) => !covered.has(id)), []);
    const missing = PERTURBATIONS.flatMap((p) =>
      paramsOf(p).flatMap((param) => (param.choices ?? []).filter((c) => !entries.some((e) => e.perturbation.id === p.id && e.params[param.name] === c)).map((c) => `${p.id}:${param.name}=${String(c)}`)),
    );
    // Text the environment never reads (another framing language, whether reasoning is resent), and
    // tool-call formats whose golden calls the format test below carries through render and parse.
    const elsewhere = ['prompts.system:language=es', 'scaffold.thinking:mode=interleaved', ...FORMAT_NAMES.filter((f) => !['hermes', 'minimax-xml', 'openai-json'].includes(f)).map((f) => `scaffold.tools:format=${f}`)];
    assert.deepEqual(missing, elsewhere);
  });

  for (const name of ENVS) {
    it(`${name}: every task passes under every composite (golden replayed through the wrapped environment)`, { timeout: 600_000 }, async () => {
      const definition = getEnvironment(name);
      const failures: string[] = [];
      let applied = 0;
      for (const [c, arm] of COMPOSITES.entries()) {
        const resolved = resolvePerturbations(arm);
        for (const task of definition.tasks()) {
          const episode = perturbEpisode({ task, tools: toolsOf(definition), resolved, seed: 11 });
          applied += episode.records.length;
          const replay = await replayGolden(definition, episode, { seed: 3 });
          if (!replay.passed) failures.push(`composite ${c + 1} × ${task.id}: ${replay.problems.join('; ')}`);
        }
      }
      assert.deepEqual(failures, []);
      assert.ok(applied > definition.tasks().length, `only ${applied} perturbations applied`);
    });
  }

  it('every golden call of every task comes back through every tool-call format as the same tool with the same parameters, under every renaming', () => {
    const failures: string[] = [];
    for (const style of RENAME_STYLES) {
      const resolved = resolvePerturbations(['tools.schema:nest', `tools.rename:${style}`, 'scaffold.tools:text']);
      for (const name of ENVS) {
        const definition = getEnvironment(name);
        for (const task of definition.tasks()) {
          const episode = perturbEpisode({ task, tools: toolsOf(definition), resolved, seed: 5 });
          for (const format of FORMAT_NAMES) {
            for (const step of episode.task.golden.steps) {
              const back = throughFormat(step, format, episode.tools);
              if (!back || stableStringify(Object.keys(back.arguments).sort()) !== stableStringify(Object.keys(step.arguments).sort())) failures.push(`${style} ${task.id} ${format}: ${step.tool}`);
            }
          }
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  it('the oracle passes every mail, notes and qa task under the first composite through the real agent loop and episode lifecycle', { timeout: 600_000 }, async () => {
    const model = createOraclePolicy();
    const resolved = resolvePerturbations(COMPOSITES[0]!);
    const failures: string[] = [];
    for (const name of ['mail', 'notes', 'qa']) {
      const definition = getEnvironment(name);
      for (const task of definition.tasks()) {
        const rollout = await runPerturbedRollout({ runId: 'solvable' as never, definition, task, epoch: 0, runSeed: 3, perturbSeed: 11, resolved, model, sandbox: 'virtual' });
        if (!rollout?.passed) failures.push(`${task.id}: ${rollout?.terminationReason} ${rollout?.error?.message ?? rollout?.verifier?.checks.filter((c) => !c.passed).map((c) => c.name).join(', ')}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
