// Validated before trusted: every built-in task's golden solution passes through the agent loop;
// do-nothing, random, placeholder-argument and destructive policies fail; same seed, same state;
// and each environment's own self-check holds (coding: hidden tests fail before, pass after).
// Kept here rather than under test/ because the runner starts files in path order: the suite's
// longest file then runs beside the rest instead of on alone after it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { environmentNames, getEnvironment } from './index.ts';
import { validateEnvironment } from '../runner/index.ts';
import { sandboxAvailability } from '../sandbox/index.ts';

// On bubblewrap where it exists, named rather than left to `auto`: every terminal and coding golden
// solution must work in a real bash, not only in the virtual shell (terminal.test.ts checks that one).
const { bwrap } = await sandboxAvailability();
const sandbox = bwrap.available ? 'bwrap' : 'auto';

// Environments validate side by side: sandboxed ones mostly wait on processes.
describe('built-in environments', { concurrency: true }, () => {
  // harbor runs imported tasks only (task files); its fixture suite is validated in src/envs/interop.
  for (const name of environmentNames().filter((n) => n !== 'harbor')) {
    it(`${name}: every task is valid`, { timeout: 600_000 }, async () => {
      const report = await validateEnvironment({ definition: getEnvironment(name), seed: 3, randomTries: 1, sandbox });
      const invalid = report.tasks.filter((t) => !t.valid).map((t) => `${t.taskId}: ${t.problems.join('; ')}`);
      assert.deepEqual(invalid, []);
      assert.ok(report.tasks.length >= 20, `${name} has ${report.tasks.length} tasks`);
    });
  }
});
