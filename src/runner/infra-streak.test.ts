// A model endpoint or service that goes down mid-run: after `stopAfterInfraErrors` infra errors in
// a row the run stops starting rollouts that would only fail the same way, and a resume with
// retryInfraErrors finishes it once the endpoint is back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRunId, RunConfig } from '../core/index.ts';
import { makeRollout } from '../eval/simulate.ts';
import { openStore } from '../store/index.ts';
import { counterCatalog } from '../../test/support/counter-env.ts';
import { functionModel, goldenModel } from '../../test/support/models.ts';
import { selectTasks } from './resolve.ts';
import { executeRun, InfraErrorStreak } from './run.ts';

const down = functionModel('test:down', () => ({ ok: false, kind: 'connection', message: 'connection refused', retryable: true }));

function configWith(stopAfterInfraErrors: number) {
  return RunConfig.parse({ envs: ['counter'], taskIds: ['counter/a'], model: 'test', epochs: 10, concurrency: 1, seed: 7, maxAttempts: 1, stopAfterInfraErrors });
}

describe('infra errors in a row', () => {
  it('stop the run once there are as many as allowed; a resume retrying them finishes it', async () => {
    const store = openStore(':memory:');
    try {
      const config = configWith(3);
      const base = { store, catalog: counterCatalog, sleep: async () => {}, threads: 0 };
      const first = await executeRun({ ...base, model: down, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } } });
      assert.equal(first.status, 'interrupted');
      assert.deepEqual({ rollouts: first.rollouts, infraErrors: first.infraErrors, missing: first.missing }, { rollouts: 3, infraErrors: 3, missing: 7 });
      assert.match(first.failure ?? '', new RegExp(`^3 rollouts in a row ended as infra errors \\(the last: model: .*connection refused\\); no more were started \\(stopAfterInfraErrors 3\\)\\. Once it works again, finish the run with --resume ${first.runId} --retry-infra$`));
      const resumed = await executeRun({ ...base, model: goldenModel, run: { resume: first.runId, retryInfraErrors: true } });
      assert.equal(resumed.status, 'finished', resumed.failure);
      assert.deepEqual({ rollouts: resumed.rollouts, scored: resumed.scored, infraErrors: resumed.infraErrors }, { rollouts: 10, scored: 10, infraErrors: 0 });
    } finally {
      store.close();
    }
  });

  it('never stop the run when the limit is 0', async () => {
    const store = openStore(':memory:');
    try {
      const config = configWith(0);
      const summary = await executeRun({ store, catalog: counterCatalog, sleep: async () => {}, threads: 0, model: down, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } } });
      assert.equal(summary.status, 'finished');
      assert.equal(summary.infraErrors, 10);
      assert.equal(summary.failure, undefined);
    } finally {
      store.close();
    }
  });

  it('start counting again after any rollout that did not fail for its infrastructure', () => {
    const runId = newRunId(new Date('2026-12-07T00:00:00Z'));
    const streak = new InfraErrorStreak({ stopAfterInfraErrors: 2 }, runId);
    const rollout = (status: 'scored' | 'infra_error' | 'error' | 'cancelled', epoch: number) => makeRollout({ runId, taskId: 'sim/a', epoch, model: 'm', status, passed: false });
    const seen = (['infra_error', 'scored', 'infra_error', 'error', 'infra_error', 'cancelled', 'infra_error', 'infra_error'] as const).map((status, i) => streak.observe(rollout(status, i)) !== undefined);
    // A cancelled rollout neither breaks nor extends the run of infra errors; the stop is said once.
    assert.deepEqual(seen, [false, false, false, false, false, false, true, false]);
  });
});
