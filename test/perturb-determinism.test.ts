// Same seed → byte-identical perturbed tasks (and tools, settings, records, and tool results);
// different seeds → different ones; a rollout's records rebuild its episode exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stableStringify, type Task, type ToolSpec } from '../src/core/index.ts';
import { environmentNames, getEnvironment } from '../src/envs/index.ts';
import { benchPerturbations, PERTURBATIONS, perturbEpisode, replayPerturbations, resolvePerturbations, toolsOf, type PerturbedEpisode, type ResolvedPerturbations } from '../src/perturb/index.ts';
import { COMPOSITES, replayGolden } from './perturb-support.ts';

const TASKS: { task: Task; tools: ToolSpec[] }[] = environmentNames().flatMap((name) => getEnvironment(name).tasks().map((task) => ({ task, tools: toolsOf(getEnvironment(name)) })));

/** Every variant of every perturbation, one spec each. */
const VARIANTS = [
  'environment.reseed',
  'environment.size',
  'environment.layout',
  ...['nest', 'require-defaults', 'extra-optional', 'enum-to-string', 'bool-to-enum'].map((c) => `tools.schema:${c}`),
  ...['synonym', 'opaque', 'case', 'namespace'].map((s) => `tools.rename:${s}`),
  ...['rewrite', 'shorten', 'lengthen'].map((m) => `tools.describe:${m}`),
  'tools.distractors',
  'tools.reorder',
  'responses.transient',
  'responses.noise',
  ...['json', 'text', 'table'].map((f) => `responses.format:${f}`),
  'responses.truncate',
  ...['terse', 'verbose', 'persona', 'language'].map((v) => `prompts.system:${v}`),
  ...['framed', 'bulleted', 'casual', 'formal'].map((s) => `prompts.paraphrase:${s}`),
  'prompts.split',
  'scaffold.thinking',
  'scaffold.tools',
  'scaffold.budget:turns=2',
];

function fingerprint(episode: PerturbedEpisode): string {
  return stableStringify({ task: episode.task, tools: episode.tools, settings: episode.settings, records: episode.records, skipped: episode.skipped, world: episode.worldSeed(12345) });
}

function apply(resolved: ResolvedPerturbations, entry: { task: Task; tools: ToolSpec[] }, seed: number): PerturbedEpisode {
  return perturbEpisode({ task: entry.task, tools: entry.tools, resolved, seed });
}

describe('perturbations are deterministic', () => {
  it('the variants cover every perturbation', () => {
    const ids = new Set(VARIANTS.map((v) => v.split(':')[0]));
    assert.deepEqual(PERTURBATIONS.map((p) => p.id).filter((id) => !ids.has(id)), []);
  });

  it('gives byte-identical episodes for the same seed, every task × every variant and composite, without touching the task', () => {
    const before = stableStringify(TASKS.map((t) => t.task));
    for (const spec of [...VARIANTS.map((v) => [v]), ...COMPOSITES]) {
      const resolved = resolvePerturbations(spec);
      for (const entry of TASKS) assert.equal(fingerprint(apply(resolved, entry, 7)), fingerprint(apply(resolveRebuilt(spec), entry, 7)), `${spec.join(' + ')} on ${entry.task.id}`);
    }
    assert.equal(stableStringify(TASKS.map((t) => t.task)), before, 'the original tasks are unchanged');
  });

  it('gives different episodes for different seeds wherever a randomised perturbation applies', () => {
    const rates: string[] = [];
    for (const variant of VARIANTS) {
      const resolved = resolvePerturbations([variant]);
      const entry = resolved.entries[0]!;
      if (!entry.perturbation.randomised(entry.params)) continue;
      let applicable = 0;
      let differ = 0;
      for (const t of TASKS) {
        const a = apply(resolved, t, 1);
        if (a.records.length === 0) continue;
        applicable++;
        if (fingerprint(a) !== fingerprint(apply(resolved, t, 2))) differ++;
      }
      rates.push(`${variant} ${differ}/${applicable}`);
      assert.ok(applicable > 0 && differ / applicable >= 0.5, `${variant}: seeds 1 and 2 differ on only ${differ} of ${applicable} tasks`);
    }
    const all = resolvePerturbations(COMPOSITES[0]!);
    const same = TASKS.filter((t) => fingerprint(apply(all, t, 1)) === fingerprint(apply(all, t, 2))).map((t) => t.task.id);
    assert.deepEqual(same, [], rates.join('; '));
  });

  it('rebuilds every episode of every composite from its records', () => {
    for (const spec of COMPOSITES) {
      const resolved = resolvePerturbations(spec);
      for (const t of TASKS) {
        const episode = apply(resolved, t, 99);
        const rebuilt = replayPerturbations({ task: t.task, tools: t.tools, records: episode.records });
        assert.equal(fingerprint({ ...rebuilt, skipped: episode.skipped }), fingerprint(episode), `${t.task.id}`);
      }
    }
  });

  it('gives byte-identical tool results for the same seed and different ones for another', async () => {
    const mail = getEnvironment('mail');
    const resolved = resolvePerturbations(['responses.noise', 'responses.format:text', 'responses.transient', 'responses.truncate:maxChars=300', 'tools.distractors']);
    for (const task of mail.tasks().slice(0, 6)) {
      const runs = await Promise.all([7, 7, 8].map((seed) => replayGolden(mail, perturbEpisode({ task, tools: toolsOf(mail), resolved, seed }), { seed: 1 })));
      assert.ok(runs.every((r) => r.passed), runs.flatMap((r) => r.problems).join('; '));
      assert.equal(stableStringify(runs[0]!.outcomes), stableStringify(runs[1]!.outcomes), task.id);
      assert.equal(runs[0]!.finalState, runs[1]!.finalState);
      assert.notEqual(stableStringify(runs[0]!.outcomes), stableStringify(runs[2]!.outcomes), task.id);
    }
  });

  it('measures a full suite over many tasks against loading them', () => {
    const bench = benchPerturbations({ tasks: 60 });
    assert.equal(bench.tasks, 60);
    assert.equal(bench.arms, PERTURBATIONS.length + 1);
    assert.ok(bench.loadMs > 0 && bench.applyMs > 0 && Number.isFinite(bench.ratio) && bench.episodesPerSecond > 0);
  });
});

/** The same specs resolved again from scratch: nothing is cached between resolutions. */
function resolveRebuilt(spec: readonly string[]): ResolvedPerturbations {
  return resolvePerturbations([...spec].reverse());
}
