// A sandbox killed from outside while the model's command runs is an infrastructure failure: the
// rollout ends `infra_error` and is never scored. A command that runs out of its own time stays an
// ordinary tool result the model sees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunConfig } from '../../core/index.ts';
import { executeRun, selectTasks } from '../../runner/index.ts';
import { createSandbox, sandboxAvailability } from '../../sandbox/index.ts';
import { openStore } from '../../store/index.ts';
import { assistant, functionModel, reply } from '../../../test/support/models.ts';
import { descendants, processesNamed, processesWith } from '../../../test/chaos/ledger.ts';

const { bwrap } = await sandboxAvailability();
const MARKER = 'gauntlet-sandbox-death-marker';

/**
 * Waits until our command runs inside a sandbox of this process, then SIGKILLs this process's bwrap.
 * The command is found by its name, not its text: in `fresh` mode bwrap's own command line holds the
 * text from the start, before bwrap has forked its sandboxed half; killing then would leave that half
 * (and the command) running until the exec's own timeout.
 */
async function killBwrapWhenMarkerRuns(): Promise<void> {
  const give = Date.now() + 15_000;
  for (;;) {
    const running = processesNamed(MARKER);
    // Read after the command was seen, so every bwrap it runs under is already among them.
    const mine = new Set(descendants());
    if (running.some((pid) => mine.has(pid))) {
      for (const pid of processesWith('bwrap')) if (mine.has(pid)) process.kill(pid, 'SIGKILL');
      return;
    }
    if (Date.now() > give) throw new Error('the command to kill never started');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const command = (text: string) => functionModel('test:command', (i) =>
  i === 0
    ? reply(assistant({ toolCalls: [{ id: 'c0', name: 'run_command', arguments: { command: text }, argumentsText: JSON.stringify({ command: text }) }] }))
    : reply(assistant({ toolCalls: [{ id: 'c1', name: 'submit', arguments: {}, argumentsText: '{}' }] })),
);

describe('a sandbox that dies under a command', () => {
  it('ends the rollout as a retryable sandbox infra_error, not a score', async (t) => {
    if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
    const store = openStore(':memory:');
    try {
      const config = RunConfig.parse({ envs: ['terminal'], model: 'test', epochs: 1, concurrency: 1, seed: 1, sandbox: 'bwrap', maxAttempts: 1 });
      const tasks = selectTasks(config).slice(0, 1);
      const running = executeRun({ store, model: command(`exec -a ${MARKER} sleep 30`), sleep: async () => {}, run: { resolved: { config, tasks } } });
      await killBwrapWhenMarkerRuns();
      const summary = await running;
      const [rollout] = store.rollouts(summary.runId);
      assert.equal(rollout?.status, 'infra_error');
      assert.equal(rollout?.error?.source, 'sandbox');
      assert.match(rollout?.error?.message ?? '', /run_command: the sandbox died while the command ran/);
    } finally {
      store.close();
    }
  });

  it('flags the exec result itself, and a command past its own time limit is not flagged', async (t) => {
    if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
    const sandbox = await createSandbox({ backend: 'bwrap' });
    try {
      const slow = await sandbox.exec('sleep 5', { timeoutMs: 200 });
      assert.equal(slow.timedOut, true);
      assert.equal(slow.sandboxFailure, undefined);
      const pending = sandbox.exec(`exec -a ${MARKER} sleep 30`, { timeoutMs: 30_000 });
      await killBwrapWhenMarkerRuns();
      const died = await pending;
      assert.match(died.sandboxFailure ?? '', /died while the command ran/);
      // The next command gets a fresh instance: the death was not the sandbox's last word.
      const after = await sandbox.exec('echo back', { timeoutMs: 10_000 });
      assert.equal(after.stdout, 'back\n');
      assert.equal(after.sandboxFailure, undefined);
    } finally {
      await sandbox.close();
    }
  });

  it('flags a fresh-mode bwrap killed from outside', async (t) => {
    if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
    const sandbox = await createSandbox({ backend: 'bwrap', mode: 'fresh' });
    try {
      const pending = sandbox.exec(`exec -a ${MARKER} sleep 30`, { timeoutMs: 30_000 });
      await killBwrapWhenMarkerRuns();
      assert.match((await pending).sandboxFailure ?? '', /bwrap was killed by SIGKILL/);
      assert.equal((await sandbox.exec('exit 137', { timeoutMs: 10_000 })).sandboxFailure, undefined);
    } finally {
      await sandbox.close();
    }
  });
});
