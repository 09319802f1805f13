// Every coding task, fully validated on bubblewrap: the hidden tests fail on the repo as given and
// pass after the golden steps (selfCheck), the golden solution passes its verifier twice with the
// same final state, and doing nothing or the destructive actions fail (checkTaskDirectly).
// Its own file so it runs beside the quicker coding tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { checkTaskDirectly } from '../direct-check.ts';
import { coding, codingTasks } from './index.ts';

const { bwrap } = await sandboxAvailability();

describe('every coding task on the bwrap sandbox', { concurrency: 4 }, () => {
  for (const task of codingTasks()) {
    it(`${task.id}: hidden tests fail before and pass after the golden steps; idle and destructive fail`, async (t) => {
      if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
      assert.deepEqual(await coding.selfCheck?.(task, { seed: 1, sandbox: 'bwrap' }), []);
      const result = await checkTaskDirectly(coding, task, { sandbox: 'bwrap' });
      assert.deepEqual(result.problems, [], result.problems.join('\n'));
    });
  }
});
