// Attacks on the in-process `virtual` sandbox: commands that try to keep its shell threads busy
// after the caller gave up (close, abort, deadline), blow up the interpreter (brace expansion,
// recursion, parser nesting, huge here-docs), or reach past its in-memory files through the API.
// Each must end in bounded time and leave the process's shell threads free for other sandboxes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecResult, Sandbox } from '../../src/core/index.ts';
import { createSandbox } from '../../src/sandbox/index.ts';
import { shellThreads } from '../../src/sandbox/virtual-threads.ts';
import { waitFor } from '../support/wait.ts';
import { token } from './support.ts';

/** Commands given this long would hold a thread for a minute; every test here must end far sooner. */
const LONG_MS = 60_000;
/** Slack for a loaded 2-core machine: a thread's termination and a fresh thread's start. */
const SLACK_MS = 4000;

/** Shell threads running a command right now. */
function busyThreads(): number {
  const all = (shellThreads as unknown as { all: Set<{ running: unknown }> }).all;
  return [...all].filter((thread) => thread.running !== null).length;
}

async function withVirtual(fn: (sb: Sandbox) => Promise<void>, files: Record<string, string> = {}): Promise<void> {
  const sb = await createSandbox({ backend: 'virtual', files, limits: { timeoutMs: LONG_MS, maxOutputBytes: 64 * 1024, diskBytes: 8 * 1024 ** 2 } });
  try {
    await fn(sb);
  } finally {
    await sb.close();
  }
}

/** Starts a loop that never yields and waits until it runs (its first write crossed to this thread). */
async function startLoop(sb: Sandbox, options: { signal?: AbortSignal } = {}): Promise<{ running: Promise<ExecResult> }> {
  const running = sb.exec('echo started > started.txt; while :; do :; done', { timeoutMs: LONG_MS, ...options });
  await waitFor(async () => (await sb.readFile('started.txt')) === 'started\n', 'the loop to start', 30_000);
  return { running };
}

describe('attack (virtual): keep a shell thread after the caller gave up', () => {
  it('closing the sandbox stops a loop that never yields at once, and other sandboxes run on', async () => {
    const other = await createSandbox({ backend: 'virtual', files: { 'note.txt': 'still here\n' } });
    try {
      await withVirtual(async (sb) => {
        const { running } = await startLoop(sb);
        await waitFor(() => busyThreads() === 1, 'one busy shell thread');
        const started = Date.now();
        await sb.close();
        const r = await running;
        assert.ok(Date.now() - started < SLACK_MS, `close took ${Date.now() - started} ms`);
        assert.equal(r.exitCode, 137);
        assert.match(r.sandboxFailure ?? '', /closed while the command ran/);
        assert.equal(busyThreads(), 0, 'the loop still holds its thread');
        await assert.rejects(sb.exec('true', { timeoutMs: 1000 }), /closed/);
      });
      assert.equal((await other.exec('cat note.txt', { timeoutMs: 30_000 })).stdout, 'still here\n');
    } finally {
      await other.close();
    }
  });

  it('an abort stops a loop that never yields within moments, with exit code 130', () =>
    withVirtual(async (sb) => {
      const abort = new AbortController();
      const { running } = await startLoop(sb, { signal: abort.signal });
      await waitFor(() => busyThreads() === 1, 'one busy shell thread');
      const started = Date.now();
      abort.abort();
      const r = await running;
      assert.ok(Date.now() - started < SLACK_MS, `the abort took ${Date.now() - started} ms`);
      assert.deepEqual([r.exitCode, r.timedOut, r.sandboxFailure], [130, false, undefined]);
      assert.equal(busyThreads(), 0);
      assert.equal((await sb.exec('cat started.txt', { timeoutMs: 30_000 })).stdout, 'started\n', 'the files stay; a new thread runs the next command');
    }));

  it('closing while many sandboxes loop frees every thread, and a queued command still runs', async () => {
    const loops = await Promise.all(Array.from({ length: 9 }, () => createSandbox({ backend: 'virtual' })));
    const queued = await createSandbox({ backend: 'virtual' });
    try {
      // Eight threads at most: the ninth loop waits for one.
      const running = loops.map((sb) => sb.exec('while :; do :; done', { timeoutMs: LONG_MS }));
      await waitFor(() => busyThreads() === 8, 'eight busy shell threads', 30_000);
      const waiting = queued.exec('echo queued', { timeoutMs: LONG_MS });
      await Promise.all(loops.map((sb) => sb.close()));
      for (const r of await Promise.all(running)) assert.equal(r.exitCode, 137);
      assert.equal((await waiting).stdout, 'queued\n');
      assert.equal(busyThreads(), 0);
    } finally {
      await queued.close();
    }
  });
});

describe('attack (virtual): outlive the deadline inside one step', () => {
  // sed's branch loop is one interpreter step: the interpreter's deadline is not looked at inside
  // it, and this one (each pass grows the line) runs for many minutes.
  it('a sed loop growing its own line ends shortly after the deadline', { timeout: 60_000 }, () =>
    withVirtual(async (sb) => {
      const started = Date.now();
      const r = await sb.exec('sed ":a;s/x*$/&x/;ba" <<< y', { timeoutMs: 1000 });
      assert.ok(Date.now() - started < 1000 + SLACK_MS, `took ${Date.now() - started} ms`);
      assert.deepEqual([r.exitCode, r.timedOut], [124, true]);
      assert.equal(busyThreads(), 0);
      assert.equal((await sb.exec('echo alive', { timeoutMs: 30_000 })).stdout, 'alive\n');
    }));
});

describe('attack (virtual): blow up the interpreter', () => {
  const bounded = [
    ['a brace expansion of a hundred million words', 'echo {1..99999999} | wc -c'],
    ['nested brace products', 'echo {1..9999}{1..9999} | wc -c'],
    ['2^25 words from pairs', `echo ${'{a,b}'.repeat(25)} | wc -c`],
    ['unbounded function recursion', 'f(){ f; }; f'],
    ['parentheses nested 20,000 deep', `: $(( ${'('.repeat(20_000)}1${')'.repeat(20_000)} ))`],
    ['braces nested 5,000 deep', `echo ${'{'.repeat(5000)}a,b${'}'.repeat(5000)}`],
    ['a 5 MB here-doc', `cat <<EOF\n${'x'.repeat(5_000_000)}\nEOF`],
    ['a string doubled forever', 's=x; while :; do s=$s$s; done'],
    ['an array grown forever', 'a=(); while :; do a+=(xxxxxxxxxxxxxxxx); done'],
    ['a huge seq', 'seq 1 100000000 | head -1'],
    ['an awk loop with no end', 'awk "BEGIN{while(1){}}"'],
    ['jq recursion with no end', 'jq -n "def f: f; f"'],
    ['a width of a hundred million', 'printf "%*s" 100000000 x | wc -c'],
  ] as const;
  for (const [what, command] of bounded) {
    it(`${what} ends by a limit or the deadline`, { timeout: 60_000 }, () =>
      withVirtual(async (sb) => {
        const started = Date.now();
        const r = await sb.exec(command, { timeoutMs: 3000 });
        assert.ok(Date.now() - started < 3000 + SLACK_MS, `took ${Date.now() - started} ms`);
        assert.ok(Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr) <= 64 * 1024, 'output stays within the cap');
        assert.equal((await sb.exec('echo alive', { timeoutMs: 30_000 })).stdout, 'alive\n');
      }));
  }
});

describe('attack (virtual): reach past the in-memory files', () => {
  it("Gauntlet's environment is not the command's", () =>
    withVirtual(async (sb) => {
      const secret = `sk-${token()}`;
      process.env.OPENAI_API_KEY = secret;
      try {
        const r = await sb.exec('env; set; cat /proc/self/environ /proc/1/environ 2>&1; echo "$OPENAI_API_KEY"', { timeoutMs: 10_000 });
        assert.doesNotMatch(r.stdout + r.stderr, new RegExp(secret));
      } finally {
        delete process.env.OPENAI_API_KEY;
      }
    }));

  it('host files are not there by path, ../ or symlink', () =>
    withVirtual(async (sb) => {
      const r = await sb.exec('cat /etc/passwd ../../etc/passwd /proc/self/root/etc/passwd 2>&1; ln -s /etc/passwd p; cat p 2>&1; true', { timeoutMs: 10_000 });
      assert.doesNotMatch(r.stdout, /root:x:0:0/);
    }));

  it('readFile and writeFile refuse ../, absolute paths outside the work dir and NUL bytes', () =>
    withVirtual(async (sb) => {
      await sb.exec('echo private > /tmp/elsewhere', { timeoutMs: 10_000 });
      for (const path of ['../tmp/elsewhere', '/tmp/elsewhere', 'a/../../tmp/elsewhere', 'ok\0/../../tmp/elsewhere']) {
        await assert.rejects(sb.readFile(path), /outside the work dir|NUL byte/, path);
        await assert.rejects(sb.writeFile(path, 'pwned'), /outside the work dir|NUL byte/, path);
      }
      assert.equal((await sb.exec('cat /tmp/elsewhere', { timeoutMs: 10_000 })).stdout, 'private\n');
    }));

  it('a symlink out of the work dir is not followed by readFile or writeFile', () =>
    withVirtual(async (sb) => {
      await sb.exec('echo private > /tmp/elsewhere; ln -s /tmp/elsewhere out; mkdir -p d; ln -s /tmp d/up', { timeoutMs: 10_000 });
      for (const path of ['out', 'd/up/elsewhere']) {
        await assert.rejects(sb.readFile(path), /outside the work dir/, path);
        await assert.rejects(sb.writeFile(path, 'pwned'), /outside the work dir/, path);
      }
      assert.equal((await sb.exec('cat /tmp/elsewhere', { timeoutMs: 10_000 })).stdout, 'private\n');
    }));
});
