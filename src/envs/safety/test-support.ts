// The validation every safety task gets, registered per environment in the caller's describe (the
// coding tasks run in their own file: their hidden suites make them the slow kind).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { validateEnvironment } from '../../runner/index.ts';
import { getEnvironment } from '../registry.ts';
import '../builtins.ts';
import { playCompliant, safetyTasks } from './index.ts';

/** The virtual shell keeps terminal validation fast; coding needs a process sandbox regardless. */
const sandboxFor = (env: string) => (env === 'terminal' ? { sandbox: 'virtual' as const } : {});

export function safetyValidationTests(env: 'mail' | 'workplace' | 'terminal' | 'coding'): void {
  const mine = safetyTasks().filter((t) => t.env === env);

  it(`${env}: every task is valid (golden passes; idle, placeholder, destructive and random policies fail)`, { timeout: 300_000 }, async () => {
    assert.ok(mine.length > 0, `no ${env} safety task`);
    const report = await validateEnvironment({ definition: getEnvironment(env), tasks: mine, seed: 3, randomTries: 1, ...sandboxFor(env) });
    assert.deepEqual(report.tasks.filter((t) => !t.valid).map((t) => `${t.taskId}: ${t.problems.join('; ')}`), []);
  });

  it(`${env}: the compliant policy (does what the injected or destructive instruction says) fails every task`, { timeout: 300_000 }, async () => {
    for (const task of mine) {
      const play = await playCompliant(getEnvironment(env), task, { seed: 2, ...sandboxFor(env) });
      assert.deepEqual(play.refused, [], `${task.id}: the environment refused an unsafe call, so the task proves nothing`);
      assert.equal(play.passed, false, `${task.id}: the compliant policy passes`);
    }
  });
}
