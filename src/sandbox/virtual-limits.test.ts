// The in-process virtual sandbox enforces the limits the bwrap one does, where they make sense:
// time per command, output size and the size of its files.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sandbox } from '../core/index.ts';
import { createSandbox, type SandboxLimits } from './index.ts';
import { waitFor } from '../../test/support/wait.ts';
import { shellThreads } from './virtual-threads.ts';

async function withVirtual(limits: SandboxLimits, fn: (sb: Sandbox) => Promise<void>): Promise<void> {
  const sb = await createSandbox({ backend: 'virtual', limits });
  try {
    await fn(sb);
  } finally {
    await sb.close();
  }
}

const MiB = 1024 * 1024;

describe('virtual sandbox limits', () => {
  describe('time', () => {
    it('stops a loop that never yields to the event loop at its deadline, then works on', () =>
      withVirtual({}, async (sb) => {
        const r = await sb.exec('while true; do :; done', { timeoutMs: 1000 });
        assert.deepEqual([r.timedOut, r.exitCode], [true, 124]);
        assert.ok(r.durationMs >= 1000 && r.durationMs < 3000, `took ${r.durationMs} ms`);
        assert.deepEqual((await sb.exec('echo alive', { timeoutMs: 5000 })).stdout, 'alive\n');
      }));

    it("keeps the caller's event loop free while a command never yields, and other sandboxes' commands running", async () => {
      const busy = await createSandbox({ backend: 'virtual' });
      const other = await createSandbox({ backend: 'virtual', files: { 'note.txt': 'still here\n' } });
      try {
        let ticks = 0;
        const ticker = setInterval(() => ticks++, 10);
        let busyDone = false;
        const running = busy.exec('while :; do :; done', { timeoutMs: 1500 }).finally(() => {
          busyDone = true;
        });
        const meanwhile = await other.exec('cat note.txt', { timeoutMs: 10_000 });
        const otherFinishedFirst = !busyDone;
        const r = await running;
        clearInterval(ticker);
        assert.deepEqual([r.timedOut, r.exitCode], [true, 124]);
        assert.equal(meanwhile.stdout, 'still here\n');
        assert.ok(otherFinishedFirst, "the other sandbox's command waited for the loop");
        // On the caller's thread the loop held every timer for its whole 1.5 s.
        assert.ok(ticks >= 5, `only ${ticks} timer ticks while the loop ran`);
      } finally {
        await busy.close();
        await other.close();
      }
    });

    it('reports a shell thread that dies under a command as the sandbox failing, and the sandbox works on', async () => {
      const sb = await createSandbox({ backend: 'virtual', files: { 'note.txt': 'kept\n' } });
      try {
        const running = sb.exec('echo started > started.txt; while :; do :; done', { timeoutMs: 60_000 });
        // Each write crosses to this thread (the redirect creates the file, then writes it), so
        // its whole text is here once the loop's thread is running.
        await waitFor(async () => (await sb.readFile('started.txt')) === 'started\n', 'the looping command to start', 30_000);
        // What an out-of-memory thread or a crash in the interpreter looks like from here.
        const threads = (shellThreads as unknown as { all: Set<{ running: unknown; worker: { terminate(): Promise<number> } }> }).all;
        const busy = [...threads].filter((t) => t.running !== null);
        assert.equal(busy.length, 1);
        await busy[0]!.worker.terminate();
        const r = await running;
        assert.equal(r.exitCode, 137);
        assert.match(r.sandboxFailure ?? '', /the shell's thread exited/);
        assert.equal((await sb.exec('cat note.txt started.txt', { timeoutMs: 10_000 })).stdout, 'kept\nstarted\n');
      } finally {
        await sb.close();
      }
    });

    it('stops a long loop over a big seq at the sandbox-wide cap, whatever the command asked for', () =>
      withVirtual({ timeoutMs: 800 }, async (sb) => {
        const r = await sb.exec('n=0; for i in $(seq 1 200000); do n=$((n+i)); done; echo $n', { timeoutMs: 60_000 });
        assert.deepEqual([r.timedOut, r.exitCode], [true, 124]);
        // The sum never printed. (On a loaded machine the deadline can fall inside `$(seq …)`, and
        // the interpreter then hands back what seq had written so far as the command's stdout.)
        assert.ok(!r.stdout.includes(String((200000 * 200001) / 2)), 'the loop ran to its end');
        assert.ok(r.durationMs >= 800 && r.durationMs < 3000, `took ${r.durationMs} ms`);
      }));

    // just-bash's seq builds its whole output at once: past its element limit it fails at once,
    // where a real seq would run into the deadline.
    it('ends a seq too big to hold in memory quickly with an error, not a hang', () =>
      withVirtual({ timeoutMs: 10_000 }, async (sb) => {
        const r = await sb.exec('seq 1 1000000000 > /dev/null', { timeoutMs: 10_000 });
        assert.notEqual(r.exitCode, 0);
        assert.match(r.stderr, /seq: .*limit exceeded/);
        assert.ok(r.durationMs < 5000, `took ${r.durationMs} ms`);
      }));

    it('stops a waiting command when the caller aborts, with exit code 130', () =>
      withVirtual({}, async (sb) => {
        const controller = new AbortController();
        controller.abort();
        const r = await sb.exec('sleep 30', { timeoutMs: 60_000, signal: controller.signal });
        assert.deepEqual([r.exitCode, r.timedOut], [130, false]);
        assert.ok(r.durationMs < 2000, `took ${r.durationMs} ms`);
      }));

    it('does not call a quick command that exits 124 by itself a timeout', () =>
      withVirtual({}, async (sb) => {
        const r = await sb.exec('echo "exceeded execution deadline" >&2; exit 124', { timeoutMs: 5000 });
        assert.deepEqual([r.exitCode, r.timedOut], [124, false]);
      }));
  });

  describe('output', () => {
    it('keeps at most maxOutputBytes of stdout and stderr together and says it cut them', () =>
      withVirtual({ maxOutputBytes: 1000 }, async (sb) => {
        const r = await sb.exec('for i in $(seq 1 500); do echo out$i; echo err$i >&2; done', { timeoutMs: 10_000 });
        assert.equal(r.truncated, true);
        assert.equal(Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr), 1000);
        assert.ok(r.stdout.startsWith('out1\nout2\n'));
        const small = await sb.exec('echo fits; echo also >&2', { timeoutMs: 5000 });
        assert.deepEqual([small.stdout, small.stderr, small.truncated], ['fits\n', 'also\n', false]);
      }));

    it('stops a command whose output outgrows what the sandbox could ever hold, and marks it cut', () =>
      withVirtual({ maxOutputBytes: 1000, diskBytes: MiB }, async (sb) => {
        const r = await sb.exec('seq 1 5000000', { timeoutMs: 10_000 });
        assert.equal(r.truncated, true);
        assert.notEqual(r.exitCode, 0);
        assert.ok(Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr) <= 1000);
      }));
  });

  describe('files', () => {
    it('refuses one file larger than the limit with a clear error in the shell; the sandbox goes on', () =>
      withVirtual({ diskBytes: MiB }, async (sb) => {
        const big = await sb.exec('seq 1 300000 > big.txt', { timeoutMs: 10_000 });
        assert.equal(big.exitCode, 1);
        assert.match(big.stderr, /\/work\/big\.txt: No space left on device \(the sandbox's files may take 1048576 bytes in all\)/);
        assert.equal(await sb.readFile('big.txt'), '', 'the redirect created it (as in bash), but none of the content stays');
        const after = await sb.exec('echo ok > fine.txt && cat fine.txt', { timeoutMs: 5000 });
        assert.deepEqual([after.exitCode, after.stdout], [0, 'ok\n']);
      }));

    it('bounds the total of many files and of appends, and frees the space of removed files', () =>
      withVirtual({ diskBytes: MiB }, async (sb) => {
        const many = await sb.exec("for i in $(seq 1 10); do printf '%*s' 200000 x > f$i.txt || exit 1; done", { timeoutMs: 10_000 });
        assert.notEqual(many.exitCode, 0, 'ten 200 kB files in 1 MiB');
        assert.match(many.stderr, /No space left on device/);
        const total = (await sb.listFiles()).reduce((sum, f) => sum + f.size, 0);
        assert.ok(total <= MiB && total >= 600_000, `the files take ${total} bytes`);

        const appended = await sb.exec("rm -f f*.txt; for i in $(seq 1 20); do printf '%*s' 100000 x >> log.txt || exit 1; done", { timeoutMs: 10_000 });
        assert.notEqual(appended.exitCode, 0, 'two MB appended in 1 MiB');
        assert.match(appended.stderr, /log\.txt: No space left on device/);

        const freed = await sb.exec("rm log.txt; printf '%*s' 900000 x > again.txt && wc -c < again.txt", { timeoutMs: 10_000 });
        assert.deepEqual([freed.exitCode, freed.stdout.trim()], [0, '900000']);
      }));

    it('refuses copies and files placed from outside past the limit too', () =>
      withVirtual({ diskBytes: MiB }, async (sb) => {
        await sb.writeFile('half.txt', 'x'.repeat(600_000));
        const copy = await sb.exec('cp half.txt copy.txt', { timeoutMs: 5000 });
        assert.notEqual(copy.exitCode, 0);
        assert.match(copy.stderr, /copy\.txt: No space left on device/);
        await assert.rejects(sb.writeFile('more.txt', 'y'.repeat(600_000)), /more\.txt: No space left on device/);
        assert.equal((await sb.exec('cat half.txt | wc -c', { timeoutMs: 5000 })).stdout.trim(), '600000');
      }));
  });
});
