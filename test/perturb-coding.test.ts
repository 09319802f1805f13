// Coding tasks under perturbation: their own file because each episode runs in bubblewrap and
// runs the hidden tests (seconds each). Two composites cover every perturbation id (the rest only
// vary parameters of the same code paths, covered on the other environments).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getEnvironment } from '../src/envs/index.ts';
import { perturbEpisode, resolvePerturbations, toolsOf } from '../src/perturb/index.ts';
import { sandboxAvailability } from '../src/sandbox/index.ts';
import { COMPOSITES, replayGolden } from './perturb-support.ts';

const { bwrap } = await sandboxAvailability();

describe('coding tasks stay solvable under perturbation', () => {
  const arms = [COMPOSITES[0]!, COMPOSITES[2]!];
  it('the two composites apply every perturbation id but environment.size (coding has no background)', () => {
    const ids = new Set(arms.flatMap((arm) => resolvePerturbations(arm).entries.map((e) => e.perturbation.id)));
    assert.equal(ids.size, 17);
    assert.ok(!ids.has('environment.size'));
  });

  it('every coding task passes under both (golden replayed through the wrapped environment in bubblewrap)', { timeout: 900_000, skip: bwrap.available ? false : `bubblewrap cannot run here: ${bwrap.reason ?? 'unknown reason'}` }, async () => {
    const coding = getEnvironment('coding');
    const failures: string[] = [];
    let layouts = 0;
    for (const [a, arm] of arms.entries()) {
      const resolved = resolvePerturbations(arm);
      for (const task of coding.tasks()) {
        const episode = perturbEpisode({ task, tools: toolsOf(coding), resolved, seed: 11 });
        if (episode.records.some((r) => r.name === 'environment.layout')) layouts++;
        const replay = await replayGolden(coding, episode, { seed: 3, sandbox: 'bwrap' });
        if (!replay.passed) failures.push(`arm ${a + 1} × ${task.id}: ${replay.problems.join('; ')}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.equal(layouts, coding.tasks().length, 'the layout perturbation applied to every coding task');
  });
});
