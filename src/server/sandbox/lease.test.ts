import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { InfraError } from '../../core/index.ts';
import { createRemoteSandbox, sandboxAvailability } from '../../sandbox/index.ts';
import { startSandboxServer } from './index.ts';

const { bwrap } = await sandboxAvailability();

/** Polls `check` until it holds; fails with `what` past the deadline. */
async function until(check: () => boolean | Promise<boolean>, what: string, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Processes on this machine whose command line contains `needle`, or whose parent is us and name is `comm`. */
async function processes(filter: { needle?: string; childComm?: string }): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (filter.needle !== undefined) {
        const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ');
        if (cmdline.includes(filter.needle)) found.push(Number(entry));
      } else if (filter.childComm !== undefined) {
        const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
        const match = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
        if (match?.[1] === filter.childComm && Number(match[2]) === process.pid) found.push(Number(entry));
      }
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

describe('sandbox leases', () => {
  it('reaps a sandbox once its client has sent nothing for the TTL, by the server clock', async () => {
    let now = 1_000_000;
    const server = await startSandboxServer({ host: '127.0.0.1', port: 0, backend: 'virtual', leaseTtlMs: 10_000, sweepIntervalMs: 3_600_000, now: () => now });
    try {
      const box = await createRemoteSandbox({ url: server.url, heartbeatMs: 3_600_000 });
      now += 9_999;
      assert.deepEqual(await server.reap(), []);
      await box.exec('true', { timeoutMs: 1000 }); // any request renews the lease
      now += 9_999;
      assert.deepEqual(await server.reap(), []);
      now += 2;
      assert.deepEqual(await server.reap(), [box.id]);
      assert.deepEqual({ sandboxes: server.stats().sandboxes, reaped: server.stats().reaped }, { sandboxes: 0, reaped: 1 });
      await assert.rejects(box.exec('true', { timeoutMs: 1000 }), (e: unknown) => e instanceof InfraError && e.source === 'sandbox' && /lease may have expired/.test(e.message));
      await box.close(); // already reaped: closing is a no-op, not an error
    } finally {
      await server.close();
    }
  });

  it('keeps an idle sandbox alive while its client heartbeats', async () => {
    const server = await startSandboxServer({ host: '127.0.0.1', port: 0, backend: 'virtual', leaseTtlMs: 300, sweepIntervalMs: 20 });
    try {
      const box = await createRemoteSandbox({ url: server.url });
      await until(() => server.stats().heartbeats >= 4, 'four heartbeats arrived');
      assert.deepEqual({ sandboxes: server.stats().sandboxes, reaped: server.stats().reaped }, { sandboxes: 1, reaped: 0 });
      assert.equal((await box.exec('echo alive', { timeoutMs: 5000 })).stdout, 'alive\n');
      await box.close();
      assert.equal(server.stats().closed, 1);
    } finally {
      await server.close();
    }
  });

  it('kills the command still running in a deleted sandbox, in either bwrap mode, and its exec reports the sandbox failure', async (t) => {
    if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
    for (const mode of ['fresh', 'persistent'] as const) {
      const server = await startSandboxServer({ host: '127.0.0.1', port: 0, backend: 'bwrap', mode });
      // A short sleep: should the command outlive the sandbox, the test fails in seconds, not minutes.
      const marker = `5.${String(process.pid).padStart(6, '0')}`;
      try {
        const box = await createRemoteSandbox({ url: server.url, heartbeatMs: 3_600_000 });
        const running = box.exec(`sleep ${marker}`, { timeoutMs: 60_000 });
        await until(async () => (await processes({ needle: `sleep ${marker}` })).length > 0, `the ${mode} command runs`);
        await box.close();
        const result = await running;
        assert.match(result.sandboxFailure ?? '', /closed|died|stopped/, `${mode}: ${JSON.stringify(result)}`);
        assert.equal(result.exitCode, 137, mode);
        assert.deepEqual((await processes({ needle: `sleep ${marker}` })).length, 0, `${mode}: the command is gone once its exec has answered`);
      } finally {
        await server.close();
      }
    }
  });

  it('leaves nothing behind when its client is killed in the middle of a command', async () => {
    let now = 1_000_000;
    const server = await startSandboxServer({ host: '127.0.0.1', port: 0, leaseTtlMs: 10_000, sweepIntervalMs: 3_600_000, now: () => now });
    const marker = `61.${String(process.pid).padStart(6, '0')}`;
    try {
      const fixture = fileURLToPath(new URL('./fixtures/doomed-client.mjs', import.meta.url));
      const child = spawn(process.execPath, [fixture, server.url, marker], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const [id] = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next().then((line) => [String(line.value)]);
      assert.match(id ?? '', /^sbx_/);
      await until(() => server.stats().running === 1, 'the client\'s command is running on the server');
      await until(async () => (await processes({ needle: `sleep ${marker}` })).length > 0, 'the command\'s process exists');
      if (server.backend === 'bwrap') assert.ok((await processes({ childComm: 'bwrap' })).length > 0, 'the sandbox runs under bwrap here');

      child.kill('SIGKILL');
      await exited;
      // The connection dropped with the client: the server kills the command at once...
      await until(() => server.stats().running === 0, 'the server ended the orphaned command');
      await until(async () => (await processes({ needle: `sleep ${marker}` })).length === 0, 'the orphaned command\'s process is gone');
      assert.equal(server.stats().sandboxes, 1, 'the sandbox itself waits for its lease');
      // ...and the sandbox goes when its lease runs out.
      now += 10_001;
      assert.deepEqual(await server.reap(), [id]);
      assert.equal(server.stats().sandboxes, 0);
      await until(async () => (await processes({ childComm: 'bwrap' })).length === 0, 'no bwrap process of ours is left');
    } finally {
      await server.close();
    }
  });
});
