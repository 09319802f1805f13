import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Task } from '../core/index.ts';
import { counterEnv, counterTasks } from '../../test/support/counter-env.ts';
import { validateEnvironment } from './validate.ts';

const { hang: _hang, ...tools } = counterEnv.tools;
const definition = { ...counterEnv, tools };

describe('validateEnvironment', () => {
  it('accepts tasks whose golden solution passes and whose verifier rejects lazy and destructive play', async () => {
    const report = await validateEnvironment({ definition, tasks: counterTasks });
    assert.deepEqual(report.tasks.map((t) => t.problems), [[], [], []]);
    assert.equal(report.valid, true);
  });

  it('flags a task that doing nothing passes, and one whose golden solution fails', async () => {
    const lax = Task.parse({ ...counterTasks[0], id: 'counter/lax', verifier: { checks: [{ check: 'counter_delta', id: 'a', delta: 0 }] }, golden: { steps: [] } });
    const wrong = Task.parse({ ...counterTasks[0], id: 'counter/wrong', golden: { steps: [{ tool: 'increment', arguments: { id: 'a' } }] } });
    const report = await validateEnvironment({ definition, tasks: [lax, wrong] });
    assert.equal(report.valid, false);
    const [laxResult, wrongResult] = report.tasks;
    assert.ok(laxResult!.problems.some((p) => p.includes('doing nothing passes')));
    assert.ok(laxResult!.warnings.some((w) => w.includes('no invariant')));
    assert.ok(wrongResult!.problems.some((p) => p.includes('golden solution fails')));
  });
});
