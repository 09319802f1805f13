// The terminal environment, unchanged, on the `remote` backend: golden solutions must pass (and idle
// and destructive play fail) with their commands run by a sandbox-server on loopback. A few tasks of
// different families; src/envs/builtins.test.ts runs all of them on bubblewrap.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkTaskDirectly } from '../../envs/direct-check.ts';
import { terminal, terminalTasks } from '../../envs/terminal/index.ts';
import { REMOTE_URL_VARIABLE, type SandboxBackend, type SandboxChoice } from '../../sandbox/index.ts';
import { startSandboxServer, type SandboxServer } from './index.ts';

const SAMPLE = ['terminal/bump-package-version', 'terminal/count-error-lines'];
// `instantiate` takes SandboxBackend, which gains 'remote' once envs accept it; createSandbox already does.
const remote = 'remote' as SandboxChoice as SandboxBackend;

describe('terminal tasks on the remote sandbox backend', { concurrency: 2 }, () => {
  let server: SandboxServer;
  let previous: string | undefined;
  before(async () => {
    server = await startSandboxServer({ host: '127.0.0.1', port: 0 });
    previous = process.env[REMOTE_URL_VARIABLE];
    process.env[REMOTE_URL_VARIABLE] = server.url;
  });
  after(async () => {
    if (previous === undefined) delete process.env[REMOTE_URL_VARIABLE];
    else process.env[REMOTE_URL_VARIABLE] = previous;
    assert.equal(server.stats().sandboxes, 0, 'every episode closed its remote sandbox');
    await server.close();
  });

  const tasks = terminalTasks().filter((task) => SAMPLE.includes(task.id));
  it('has every sampled task', () => assert.equal(tasks.length, SAMPLE.length));
  for (const task of tasks) {
    it(`${task.id}: golden passes, idle and destructive fail, through sandbox-server`, async () => {
      const before = server.stats().created;
      const result = await checkTaskDirectly(terminal, task, { sandbox: remote });
      assert.deepEqual(result.problems, [], result.problems.join('\n'));
      assert.ok(server.stats().created > before, 'the episodes ran their commands on the server');
    });
  }
});
