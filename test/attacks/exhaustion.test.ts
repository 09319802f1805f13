// Attacks on the host's resources and on the sandbox's own bookkeeping: fork bombs, full disks,
// memory, processes left behind, and commands that try to outlive their deadline. Each must end
// within its deadline (plus kill slack), stay inside the limits, and leave nothing running.
import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { sandboxAvailability } from '../../src/sandbox/index.ts';
import { inSandbox, LIMITS, run, stillWorks, token } from './support.ts';

const hostFreeBytes = () => {
  const s = statfsSync(tmpdir());
  return s.bavail * s.bsize;
};

describe('attack: fork bomb', () => {
  it('a sleeping-children bomb stops at the process limit and ends at the deadline', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'n=0; while true; do sleep 60 & n=$((n+1)); done', { timeoutMs: 1000 });
      assert.equal(r.timedOut, true);
      await stillWorks(sb);
    }));

  it('a python os.fork() bomb is bounded the same way', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'python3 -c "import os\nwhile True:\n  try: os.fork()\n  except OSError: pass"', { timeoutMs: 1500 });
      assert.equal(r.timedOut, true);
      await stillWorks(sb);
    }));

  it('cannot count past the process limit: the number alive at once stays bounded', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'for i in $(seq 100); do sleep 5 & done 2>/dev/null; ls -d /proc/[0-9]* | wc -l', { timeoutMs: 1500 });
      assert.ok(Number(r.stdout.trim()) <= LIMITS.maxProcesses + 2, `${r.stdout.trim()} processes alive`);
    }));
});

describe('attack: fill the disk', () => {
  it('fallocate and sparse files past the disk limit fail and leave host space alone', (t) =>
    inSandbox(t, async (sb) => {
      const free = hostFreeBytes();
      const r = await run(sb, 'fallocate -l 2G big 2>&1; truncate -s 2G sparse 2>&1; du -sb . | cut -f1');
      assert.ok(Number(r.stdout.trim().split('\n').pop()) <= LIMITS.diskBytes, r.stdout);
      assert.ok(hostFreeBytes() > free - 64 * 1024 ** 2, 'host free space barely moved');
      await stillWorks(sb);
    }));

  it('/tmp and /dev/shm are bounded as well as the work dir', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'head -c 100M /dev/zero > /tmp/a 2>/dev/null; head -c 100M /dev/zero > /dev/shm/b 2>/dev/null; du -sb /tmp/a /dev/shm/b | cut -f1');
      for (const size of r.stdout.trim().split('\n')) assert.ok(Number(size) <= LIMITS.diskBytes, r.stdout);
    }));

  it('empty files in /tmp, /dev/shm and the supervisor folder stop at a bound, not at the host memory', async (t) => {
    const { bwrap } = await sandboxAvailability();
    // The bound needs mounting from the host (root); cgroups v2 would count the memory instead.
    if (bwrap.disk !== 'tmpfs') return t.skip('the host cannot mount here: scratch file counts are not bounded');
    await inSandbox(t, async (sb) => {
      // Each empty file costs no bytes of the size limit but ~1 KiB of kernel memory.
      const r = await run(
        sb,
        `python3 -c "
import os
for d in ('/tmp', '/dev/shm', '/run/gauntlet'):
  n = 0
  try:
    while n < 50000:
      os.close(os.open('%s/f%d' % (d, n), os.O_CREAT | os.O_WRONLY)); n += 1
  except OSError: pass
  print(n)
"; grep -E ' /(tmp|dev/shm|run/gauntlet) ' /proc/self/mountinfo`,
        { timeoutMs: 20_000 },
      );
      const [counts, mounts] = [r.stdout.split('\n').slice(0, 3).map(Number), r.stdout.split('\n').slice(3).filter(Boolean)];
      assert.ok(counts.every((n) => n > 100 && n < 10_000), `files made: ${counts.join(', ')}`);
      // The remount that bounds them keeps them nosuid and nodev.
      assert.equal(mounts.length, 3, r.stdout);
      for (const line of mounts) assert.match(line, /nosuid,nodev/, line);
      await stillWorks(sb);
      assert.equal((await run(sb, 'cat', { stdin: 'hello' })).stdout, 'hello');
    });
  });

  it('many small files in many folders end with an error, and listFiles still answers', (t) =>
    inSandbox(t, async (sb) => {
      await run(sb, 'for d in $(seq 10); do mkdir -p d$d; for f in $(seq 60); do echo $d$f > d$d/$f || exit 0; done; done', { timeoutMs: 3000 });
      const started = Date.now();
      const files = await sb.listFiles();
      assert.ok(Date.now() - started < 10_000);
      assert.ok(files.length > 0);
    }));

  it('a folder nested hundreds deep does not crash the host-side walk', (t) =>
    inSandbox(t, async (sb) => {
      await run(sb, 'p=.; for i in $(seq 600); do p=$p/d; done; mkdir -p "$p" 2>/dev/null; cd "$p" 2>/dev/null && echo deep > f; true');
      const files = await sb.listFiles();
      assert.ok(Array.isArray(files));
      await stillWorks(sb);
    }));
});

describe('attack: exhaust memory', () => {
  it('one process allocating past the limit is stopped', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'python3 -c "b = bytearray(1024 * 1024 * 1024); print(\'ALLOCATED\')" 2>&1; true');
      assert.doesNotMatch(r.stdout, /ALLOCATED/);
    }));

  it('memory grown a chunk at a time hits the limit too', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'python3 -c "\nchunks = []\nfor i in range(16):\n  chunks.append(bytearray(64 * 1024 * 1024))\nprint(\'GREW\', len(chunks))" 2>&1; true');
      assert.doesNotMatch(r.stdout, /GREW 16/);
      await stillWorks(sb);
    }));

  it('a bash string doubling forever ends by the limit or the deadline, not the host', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 's=x; while true; do s=$s$s; done', { timeoutMs: 2000 });
      assert.notEqual(r.exitCode, 0);
      await stillWorks(sb);
    }));
});

describe('attack: leave background processes', () => {
  it('setsid + nohup + disown daemons are gone once the command returns', (t) =>
    inSandbox(t, async (sb) => {
      const mark = token();
      await run(sb, `setsid nohup sh -c 'exec -a ${mark} sleep 600' >/dev/null 2>&1 & disown; (sh -c 'sleep 600' &) ; true`);
      const r = await run(sb, `for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done | grep -c -e "[${mark[0]}]${mark.slice(1)}" -e "[s]leep 600"; true`);
      assert.equal(r.stdout.trim(), '0');
    }));

  it('a background writer cannot change files between the next two commands', (t) =>
    inSandbox(t, async (sb) => {
      await run(sb, "(while true; do echo evil >> f; done) >/dev/null 2>&1 & echo start > f");
      const first = await run(sb, 'cat f');
      const second = await run(sb, 'cat f');
      assert.equal(first.stdout, second.stdout);
    }));

  it('a process that ignores every catchable signal is still gone after the command', (t) =>
    inSandbox(t, async (sb) => {
      await run(sb, "trap '' TERM INT HUP QUIT USR1 USR2; (trap '' TERM INT HUP QUIT USR1 USR2; exec sleep 600) & true");
      const r = await run(sb, 'ls -d /proc/[0-9]* | wc -l');
      assert.ok(Number(r.stdout.trim()) <= 4, `${r.stdout.trim()} processes still visible`);
    }));
});

describe('attack: outlive the deadline', () => {
  it('a shell that traps and ignores TERM is killed at its deadline', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, "trap '' TERM INT HUP; while true; do sleep 1; done", { timeoutMs: 800 });
      assert.equal(r.timedOut, true);
    }));

  it('a command that stops itself (SIGSTOP) still ends at its deadline', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'kill -STOP $$; echo resumed', { timeoutMs: 800 });
      assert.equal(r.timedOut, true);
      await stillWorks(sb);
    }));

  it('closing its own output does not hide a command from its deadline', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'exec 1>&- 2>&-; sleep 60', { timeoutMs: 800 });
      assert.equal(r.timedOut, true);
    }));

  it('a busy loop in a child keeping the parent waiting is killed with it', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'python3 -c "while True: pass" & wait', { timeoutMs: 800 });
      assert.equal(r.timedOut, true);
      await stillWorks(sb);
    }));

  it('one endless line of output is cut at the byte cap and the command killed', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'tr "\\0" x < /dev/zero', { timeoutMs: 3000 });
      assert.equal(r.truncated, true);
      assert.ok(r.stdout.length <= LIMITS.maxOutputBytes);
    }));

  it('an abort from the caller ends a command that would run for minutes', (t) =>
    inSandbox(t, async (sb) => {
      const abort = new AbortController();
      const started = Date.now();
      const pending = sb.exec('sleep 300', { timeoutMs: 60_000, signal: abort.signal });
      abort.abort();
      const r = await pending;
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      assert.notEqual(r.exitCode, 0);
      await stillWorks(sb);
    }));
});

describe("attack: make the sandbox look broken (an infra error, not the agent's failure)", () => {
  // Commands share the supervisor's uid, and it keeps the next command's stdin in its own folder.
  const attacks = [
    'chmod 0 /run/gauntlet',
    'head -c 100M /dev/zero > /run/gauntlet/fill',
    'mkdir -p /run/gauntlet/d/e && touch /run/gauntlet/d/e/f /run/gauntlet/.hidden && chmod 0 /run/gauntlet/d/e /run/gauntlet/d',
    'ln -s /work /run/gauntlet/link && chmod 0 /run/gauntlet',
  ];
  for (const attack of attacks) {
    it(`"${attack}" does not end the sandbox under the next command given stdin`, (t) =>
      inSandbox(t, async (sb) => {
        await run(sb, `${attack}; true`);
        const r = await run(sb, 'cat', { stdin: 'hello' });
        assert.deepEqual([r.exitCode, r.stdout, r.sandboxFailure], [0, 'hello', undefined], r.stderr);
        await stillWorks(sb);
      }));
  }
});
