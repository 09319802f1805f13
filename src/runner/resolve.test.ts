import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError, RunConfig, unevenGroups } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { counterCatalog } from '../../test/support/counter-env.ts';
import { goldenModel } from '../../test/support/models.ts';
import { resolveRun, selectTasks } from './resolve.ts';
import { executeRun } from './run.ts';

const request = { envs: ['counter'], taskIds: ['counter/a'], model: 'oracle', concurrency: 1, seed: 3, sandbox: 'virtual' as const };

describe('group sizes of new runs', () => {
  it('must divide the epochs, or each task would get a short last group', async () => {
    for (const [epochs, groupSize, accepted] of [
      [3, 2, /\(1 or 3\), or a number of epochs that is a multiple of 2, such as 4/],
      [1, 8, /\(1\), or a number of epochs that is a multiple of 8, such as 8/],
    ] as const) {
      await assert.rejects(resolveRun({ ...request, epochs, groupSize }, { catalog: counterCatalog }), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.where, 'groupSize');
        assert.match(error.problem, new RegExp(`^got ${groupSize}, which does not divide the ${epochs} epochs? \\(--epochs\\)`));
        assert.match(error.expected ?? '', accepted);
        return true;
      });
    }
    const even = await resolveRun({ ...request, epochs: 4, groupSize: 2 }, { catalog: counterCatalog });
    assert.deepEqual([even.config.epochs, even.config.groupSize], [4, 2]);
    assert.equal((await resolveRun({ ...request, epochs: 3 }, { catalog: counterCatalog })).config.groupSize, 1);
  });

  it('is not asked of a stored run: one made before the rule still reads, resumes and keeps its groups', async () => {
    const store = openStore(':memory:');
    // As an older Gauntlet stored it: straight from the schema, past resolveRun.
    const config = RunConfig.parse({ ...request, epochs: 3, groupSize: 2 });
    assert.ok(unevenGroups(config) instanceof InputError);
    const controller = new AbortController();
    const first = await executeRun({
      store,
      catalog: counterCatalog,
      model: goldenModel,
      sleep: async () => {},
      run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } },
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 1) controller.abort();
      },
    });
    assert.equal(first.status, 'interrupted');
    assert.deepEqual(store.getRun(first.runId)?.config, config);
    const resumed = await executeRun({ store, catalog: counterCatalog, model: goldenModel, sleep: async () => {}, run: { resume: first.runId } });
    assert.equal(resumed.status, 'finished');
    const groups = store.rollouts(first.runId).map((r) => [r.epoch, r.groupId?.split('/').at(-1)]);
    assert.deepEqual(groups.sort(), [[0, '0'], [1, '0'], [2, '1']]);
  });
});
