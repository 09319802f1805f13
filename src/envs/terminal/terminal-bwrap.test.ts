// The same direct checks as terminal.test.ts, on bubblewrap: every golden solution must work in a
// real bash as well as in the virtual shell. Its own file so it runs beside the virtual ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sandboxAvailability } from '../../sandbox/index.ts';
import { checkTaskDirectly } from '../direct-check.ts';
import { terminal, terminalTasks } from './index.ts';

const { bwrap } = await sandboxAvailability();

describe('terminal tasks on the bwrap sandbox', { concurrency: 4 }, () => {
  for (const task of terminalTasks()) {
    it(`${task.id}: golden passes, idle and destructive fail`, async (t) => {
      if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
      const result = await checkTaskDirectly(terminal, task, { sandbox: 'bwrap' });
      assert.deepEqual(result.problems, [], result.problems.join('\n'));
    });
  }
});
