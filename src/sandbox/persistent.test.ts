// The persistent bwrap sandbox: one instance per episode whose state is the shell user's (files,
// /tmp), never a process; commands queue; a dead instance is replaced; fifty stay open at once.
// Skipped (with the reason) only where bubblewrap cannot run; CI installs it.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as poll } from 'node:timers/promises';
import type { Sandbox } from '../core/index.ts';
import { idleProcessesOf } from './bwrap.ts';
import { sandboxesRoot } from './host-dirs.ts';
import { createSandbox, resourceControl, sandboxAvailability } from './index.ts';
import { ownName } from './owners.ts';

const { bwrap } = await sandboxAvailability();

async function inSandbox(t: TestContext, fn: (sb: Sandbox) => Promise<void>, mode: 'persistent' | 'fresh' = 'persistent'): Promise<void> {
  if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
  const sb = await createSandbox({ backend: 'bwrap', mode });
  try {
    await fn(sb);
  } finally {
    await sb.close();
  }
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await poll(20);
  }
}

/** Waits until a command has made `path` in the work dir: it has started. */
async function untilFile(sb: Sandbox, path: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await sb.readFile(path)) === null) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${path}`);
    await poll(20);
  }
}

describe('persistent bwrap sandbox', () => {
  it('keeps files, /tmp and /dev/shm between commands, and no process', (t) =>
    inSandbox(t, async (sb) => {
      const first = await sb.exec('echo kept > /tmp/state; echo shm > /dev/shm/s; echo work > w.txt; sleep 300 & echo $!', { timeoutMs: 5000 });
      assert.equal(first.exitCode, 0, first.stderr);
      const sleeper = first.stdout.trim();
      assert.match(sleeper, /^\d+$/);
      // The first command's background sleep is gone: its pid, and any process running `sleep 300`.
      // (Counting /proc entries raced with the counting pipeline's own processes starting.)
      const second = await sb.exec(`cat /tmp/state /dev/shm/s w.txt; [ -e /proc/${sleeper} ] && echo alive || echo gone; for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done | grep -c '^sleep 300'`, { timeoutMs: 5000 });
      assert.equal(second.stdout, 'kept\nshm\nwork\ngone\n0\n');
      assert.equal((await sb.exec('echo $FOO; export FOO=1', { timeoutMs: 5000 })).stdout, '\n');
      assert.equal((await sb.exec('echo "[$FOO]"', { timeoutMs: 5000 })).stdout, '[]\n', 'each command is a fresh shell');
    }));

  it('stops a command at its deadline or output limit without losing the sandbox or its /tmp', (t) =>
    inSandbox(t, async (sb) => {
      await sb.exec('echo kept > /tmp/state', { timeoutMs: 5000 });
      const [before] = await idleProcessesOf(sb);
      const slow = await sb.exec('sleep 30', { timeoutMs: 300 });
      assert.deepEqual([slow.exitCode, slow.timedOut], [124, true]);
      assert.equal(slow.stderr, '', 'no job report from the supervisor');
      const loud = await sb.exec('yes', { timeoutMs: 10_000 });
      assert.deepEqual([loud.truncated, loud.timedOut], [true, false]);
      const after = await sb.exec('cat /tmp/state', { timeoutMs: 5000 });
      assert.equal(after.stdout, 'kept\n');
      assert.equal((await idleProcessesOf(sb))[0], before, 'the same bwrap instance');
    }));

  it('runs commands sent together one after another, each with its own output, and skips one aborted while waiting', (t) =>
    inSandbox(t, async (sb) => {
      const controller = new AbortController();
      const runs = [1, 2, 3, 4].map((i) => sb.exec(`sleep 0.0${i}; echo out-${i}; echo err-${i} >&2; exit ${i}`, { timeoutMs: 5000 }));
      const skipped = sb.exec('touch aborted.txt', { timeoutMs: 5000, signal: controller.signal });
      controller.abort();
      const results = await Promise.all(runs);
      assert.deepEqual(
        results.map((r) => [r.exitCode, r.stdout, r.stderr]),
        [1, 2, 3, 4].map((i) => [i, `out-${i}\n`, `err-${i}\n`]),
      );
      assert.equal((await skipped).exitCode, 130);
      assert.equal(await sb.readFile('aborted.txt'), null, 'it never ran');
    }));

  it('stops the running command when the caller aborts', (t) =>
    inSandbox(t, async (sb) => {
      const controller = new AbortController();
      const running = sb.exec('echo started; touch started; sleep 30', { timeoutMs: 60_000, signal: controller.signal });
      await untilFile(sb, 'started');
      controller.abort();
      const r = await running;
      assert.deepEqual([r.exitCode, r.stdout, r.timedOut], [130, 'started\n', false]);
      assert.ok(r.durationMs < 5000, `took ${r.durationMs} ms`);
    }));

  it('passes stdin bytes, multi-line environment values and odd working directories exactly', (t) =>
    inSandbox(t, async (sb) => {
      await sb.writeFile('dir with space/é/x.txt', 'x');
      const r = await sb.exec('pwd; printf "%s|" "$A"; wc -c', { timeoutMs: 5000, cwd: 'dir with space/é', env: { A: 'one\ntwo  three' }, stdin: 'héllo\n\nwörld' });
      assert.equal(r.stdout, `/work/dir with space/é\none\ntwo  three|${Buffer.byteLength('héllo\n\nwörld')}\n`);
      const signals = await sb.exec('grep -E "^Sig(Ign|Blk)" /proc/self/status', { timeoutMs: 5000 });
      assert.equal(signals.stdout, 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n', 'commands start with default signal handling');
      await assert.rejects(sb.exec('echo a\0b', { timeoutMs: 5000 }), /NUL/);
      assert.equal((await sb.exec('echo still', { timeoutMs: 5000 })).stdout, 'still\n');
    }));

  it('replaces a sandbox whose supervisor died, keeping the work dir (its /tmp is lost), and says so to the command it cut short', (t) =>
    inSandbox(t, async (sb) => {
      await sb.exec('echo kept > w.txt; echo gone > /tmp/t', { timeoutMs: 5000 });
      const [bwrapPid, supervisor] = await idleProcessesOf(sb);
      const running = sb.exec('touch started; sleep 30', { timeoutMs: 60_000 });
      await untilFile(sb, 'started');
      process.kill(supervisor!, 'SIGKILL');
      const cut = await running;
      assert.equal(cut.exitCode, 137);
      assert.match(cut.stderr, /sandbox: the sandbox's supervisor ended.*its \/tmp is lost, the work dir is kept/);
      await until(() => !alive(bwrapPid!), 'the old bwrap to exit');
      const next = await sb.exec('cat w.txt; cat /tmp/t 2>/dev/null || echo no-tmp', { timeoutMs: 10_000 });
      assert.equal(next.stdout, 'kept\nno-tmp\n');
      assert.notEqual((await idleProcessesOf(sb))[0], bwrapPid);
    }));

  it('keeps what a command printed before its sandbox died, down to the last few bytes of each stream', (t) =>
    inSandbox(t, async (sb) => {
      const [, supervisor] = await idleProcessesOf(sb);
      // Shorter than the end marker: all of it is held back while a marker could still begin there.
      const running = sb.exec('printf partial; printf oops >&2; touch started; sleep 30', { timeoutMs: 60_000 });
      await untilFile(sb, 'started');
      process.kill(supervisor!, 'SIGKILL');
      const cut = await running;
      assert.equal(cut.stdout, 'partial');
      assert.match(cut.stderr, /^oops\nsandbox: the sandbox's supervisor ended/);
      assert.match(cut.sandboxFailure ?? '', /the sandbox died while the command ran/);
    }));

  it('fresh mode keeps nothing of /tmp between commands', (t) =>
    inSandbox(
      t,
      async (sb) => {
        await sb.exec('echo x > /tmp/t', { timeoutMs: 5000 });
        assert.equal((await sb.exec('cat /tmp/t 2>/dev/null || echo none', { timeoutMs: 5000 })).stdout, 'none\n');
        assert.deepEqual(await idleProcessesOf(sb), [], 'nothing runs between commands');
      },
      'fresh',
    ));

  it('holds 50 sandboxes open at once: each runs a command, and once all are closed nothing of them is left', async (t) => {
    if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
    const folder = join(sandboxesRoot(), ownName()!);
    const sandboxes: Sandbox[] = [];
    try {
      // Ten at a time: starting fifty at once on two cores measures the scheduler, not the sandbox.
      for (let batch = 0; batch < 5; batch++) sandboxes.push(...(await Promise.all(Array.from({ length: 10 }, () => createSandbox({ backend: 'bwrap' })))));
      const pids = (await Promise.all(sandboxes.map((sb) => idleProcessesOf(sb)))).flat();
      assert.equal(pids.length, 100, 'a bwrap and a supervisor each');
      assert.ok(pids.every(alive));
      const results = await Promise.all(sandboxes.map((sb, i) => sb.exec(`echo ${i} > n.txt && cat n.txt`, { timeoutMs: 60_000 })));
      assert.deepEqual(
        results.map((r) => r.stdout),
        sandboxes.map((_, i) => `${i}\n`),
      );
      await Promise.all(sandboxes.splice(0).map((sb) => sb.close()));
      await until(() => !pids.some(alive), 'every sandbox process to exit');
      assert.deepEqual(readdirSync(folder).filter((name) => name.startsWith('sbx-')), [], 'no work dir is left');
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(`${folder}/sbx-`));
      assert.deepEqual(mounts, [], 'no tmpfs is left mounted');
      const control = resourceControl();
      if (control.mode === 'cgroup-v2') assert.deepEqual(readdirSync(control.folder), [], 'no cgroup is left');
    } finally {
      await Promise.all(sandboxes.map((sb) => sb.close()));
    }
  });
});
