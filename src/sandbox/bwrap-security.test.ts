// One test per threat, each proving the bwrap sandbox blocks it, in both modes (one persistent
// sandbox per episode, fresh namespaces per command). Skipped (with the reason) only where
// bubblewrap cannot run; CI installs it.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { Sandbox } from '../core/index.ts';
import { waitFor } from '../../test/support/wait.ts';
import { createSandbox, sandboxAvailability, type BwrapMode, type SandboxLimits } from './index.ts';
import { processesWithArgument } from '../../test/support/processes.ts';

const { bwrap } = await sandboxAvailability();

async function inModeSandbox(t: TestContext, options: { limits: SandboxLimits; mode: BwrapMode }, fn: (sb: Sandbox) => Promise<void>): Promise<void> {
  if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
  const sb = await createSandbox({ backend: 'bwrap', ...options });
  try {
    await fn(sb);
  } finally {
    await sb.close();
  }
}


/**
 * Waits until no process has `needle` in its command line: a pid namespace's processes get their
 * SIGKILL when its first process exits, and may still be listed for a moment after the command's
 * result is back. One still there after 2 s has survived (the wait fails).
 */
async function noProcessesWith(needle: string): Promise<number[]> {
  await waitFor(() => processesWithArgument(needle).length === 0, `every process running "sleep ${needle}" to be gone`, 2000);
  return processesWithArgument(needle);
}

const hostProcessCount = () => readdirSync('/proc').filter((e) => /^\d+$/.test(e)).length;

for (const mode of ['persistent', 'fresh'] as const) describe(`bwrap sandbox security (${mode})`, () => {
  const inSandbox = (t: TestContext, limits: SandboxLimits, fn: (sb: Sandbox) => Promise<void>) => inModeSandbox(t, { limits, mode }, fn);

  it('cannot read /etc/shadow, the project, home directories or the host environment', (t) =>
    inSandbox(t, {}, async (sb) => {
      process.env.GAUNTLET_TEST_SECRET = 'hunter2';
      const project = join(process.cwd(), 'package.json');
      const r = await sb.exec(`cat /etc/shadow; cat ${project}; ls /root /home; env`, { timeoutMs: 5000 });
      delete process.env.GAUNTLET_TEST_SECRET;
      assert.match(r.stderr, /\/etc\/shadow: No such file or directory/);
      assert.match(r.stderr, new RegExp(`${project}: No such file or directory`));
      assert.match(r.stderr, /\/root.*No such file or directory/);
      assert.doesNotMatch(r.stdout, /hunter2|"name": "gauntlet"/);
      const envNames = r.stdout.split('\n').filter(Boolean).map((l) => l.split('=')[0]).sort();
      assert.deepEqual(envNames, ['HOME', 'LANG', 'PATH', 'PWD', 'SHLVL', 'TERM', '_']);
      const writes = await sb.exec('touch /usr/bin/planted; echo x > /etc/passwd', { timeoutMs: 5000 });
      assert.match(writes.stderr, /Read-only file system/);
    }));

  it('has no network: a server listening on the host loopback is unreachable', (t) =>
    inSandbox(t, {}, async (sb) => {
      let connections = 0;
      const server = createServer((socket) => {
        connections += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      try {
        const r = await sb.exec(`echo hi > /dev/tcp/127.0.0.1/${port} && echo CONNECTED; ls /sys/class/net 2>/dev/null || cat /proc/net/dev`, { timeoutMs: 5000 });
        assert.doesNotMatch(r.stdout, /CONNECTED/);
        assert.match(r.stderr, /Connection refused|Network is unreachable/);
        assert.doesNotMatch(r.stdout, /eth0|ens|wlan/, 'only the loopback interface exists');
        assert.equal(connections, 0);
      } finally {
        server.close();
      }
    }));

  it('contains a fork bomb: bounded process count, stopped at the deadline, host fine afterwards', (t) =>
    inSandbox(t, { maxProcesses: 32 }, async (sb) => {
      const baseline = hostProcessCount();
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, hostProcessCount())), 20);
      const r = await sb.exec('bomb() { bomb | bomb & }; bomb; sleep 30', { timeoutMs: 2500 });
      clearInterval(sampler);
      assert.equal(r.timedOut, true);
      assert.ok(r.durationMs < 5000, `took ${r.durationMs} ms`);
      // 32 for the bomb plus slack for other tests running beside this one; an unbounded bomb reaches thousands.
      assert.ok(peak - baseline < 150, `host process count rose by ${peak - baseline}`);
      const after = await sb.exec('echo alive', { timeoutMs: 5000 });
      assert.deepEqual([after.exitCode, after.stdout], [0, 'alive\n']);
      assert.ok(after.durationMs < 2000);
    }));

  it('cuts runaway output (yes) at the byte limit and kills the command', (t) =>
    inSandbox(t, { maxOutputBytes: 64 * 1024 }, async (sb) => {
      const r = await sb.exec('yes', { timeoutMs: 10_000 });
      assert.equal(r.truncated, true);
      assert.equal(r.timedOut, false, 'stopped by the output limit, not the deadline');
      assert.equal(Buffer.byteLength(r.stdout), 64 * 1024);
      assert.ok(r.durationMs < 5000, `took ${r.durationMs} ms`);
    }));

  it('cannot fill the disk: a big file and many files both fail, and the sandbox still works', (t) =>
    inSandbox(t, { diskBytes: 4 * 1024 * 1024 }, async (sb) => {
      const big = await sb.exec('head -c 20000000 /dev/zero > big.bin', { timeoutMs: 10_000 });
      assert.notEqual(big.exitCode, 0, 'one 20 MB file in a 4 MB sandbox');
      if (bwrap.disk !== 'tmpfs') {
        return t.skip('only per-file limits here: mounting a size-limited tmpfs needs root with CAP_SYS_ADMIN');
      }
      const many = await sb.exec('rm -f big.bin; for i in $(seq 1 40); do head -c 500000 /dev/zero > f$i.bin || exit 1; done', { timeoutMs: 10_000 });
      assert.notEqual(many.exitCode, 0, 'forty 0.5 MB files in a 4 MB sandbox');
      assert.match(many.stderr, /No space left on device/);
      const total = (await sb.listFiles()).reduce((sum, f) => sum + f.size, 0);
      assert.ok(total <= 4 * 1024 * 1024, `work dir holds ${total} bytes`);
      const inodes = await sb.exec('rm -f *.bin; i=0; while [ $i -lt 3000 ]; do : > n$i || exit 1; i=$((i+1)); done', { timeoutMs: 10_000 });
      assert.notEqual(inodes.exitCode, 0, 'the number of files is bounded too');
      const after = await sb.exec('rm -f n*; echo ok > fine.txt && cat fine.txt', { timeoutMs: 5000 });
      assert.equal(after.stdout, 'ok\n');
    }));

  it('cannot allocate past the memory limit', (t) =>
    inSandbox(t, { memoryBytes: 64 * 1024 * 1024 }, async (sb) => {
      const r = await sb.exec('x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo ${#x}', { timeoutMs: 10_000 });
      assert.notEqual(r.exitCode, 0);
      assert.match(r.stderr, /cannot allocate/);
    }));

  it('kills `sleep 100` near its deadline', (t) =>
    inSandbox(t, {}, async (sb) => {
      // Each mode its own marker, so one mode's dying processes are never taken for the other's.
      const marker = String(100_000 + (mode === 'fresh' ? 50_000 : 0) + (process.pid % 50_000));
      const r = await sb.exec(`sleep ${marker}`, { timeoutMs: 1000 });
      assert.deepEqual([r.timedOut, r.exitCode], [true, 124]);
      assert.ok(r.durationMs >= 1000 && r.durationMs < 2000, `took ${r.durationMs} ms`);
      assert.deepEqual(await noProcessesWith(marker), []);
    }));

  it('leaves no background process alive after the command returns', (t) =>
    inSandbox(t, {}, async (sb) => {
      const marker = String(200_000 + (mode === 'fresh' ? 50_000 : 0) + (process.pid % 50_000));
      const r = await sb.exec(`sleep ${marker} & nohup sleep ${marker} >/dev/null 2>&1 & setsid sleep ${marker} & echo started`, { timeoutMs: 5000 });
      assert.deepEqual([r.exitCode, r.stdout, r.timedOut], [0, 'started\n', false]);
      assert.ok(r.durationMs < 2000, `took ${r.durationMs} ms`);
      // Killed with the command (a zombie has no command line left to match).
      assert.deepEqual(await noProcessesWith(marker), []);
    }));
});
