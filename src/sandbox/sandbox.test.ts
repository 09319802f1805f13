import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Sandbox } from '../core/index.ts';
import { InputError } from '../core/index.ts';
import { createSandbox, sandboxAvailability, SandboxPathError, type BwrapMode, type SandboxBackend } from './index.ts';
import { sha256 } from './files.ts';
import { sandboxesRoot } from './host-dirs.ts';

/** The folder of a process's sandboxes: `<pid>-<start time>` under the per-user root. */
const ownFolderOf = (pid: number) => {
  const name = readdirSync(sandboxesRoot()).find((d) => d.startsWith(`${pid}-`));
  assert.ok(name, `no sandboxes folder for pid ${pid}`);
  return join(sandboxesRoot(), name);
};

const { bwrap } = await sandboxAvailability();
const variants: { name: string; backend: Exclude<SandboxBackend, 'auto'>; mode?: BwrapMode }[] = [
  { name: 'virtual', backend: 'virtual' },
  { name: 'bwrap', backend: 'bwrap', mode: 'persistent' },
  { name: 'bwrap (fresh)', backend: 'bwrap', mode: 'fresh' },
];

for (const { name, backend, mode } of variants) {
  describe(`${name} sandbox`, () => {
    const skip = backend === 'bwrap' && !bwrap.available ? `bwrap unavailable here: ${bwrap.reason}` : undefined;
    const withSandbox = async (t: { skip(reason: string): void }, fn: (sb: Sandbox) => Promise<void>, files: Record<string, string> = {}, workdir?: string) => {
      if (skip) return t.skip(skip);
      const sb = await createSandbox({ backend, files, limits: { maxOutputBytes: 10_000 }, ...(mode ? { mode } : {}), ...(workdir ? { workdir } : {}) });
      try {
        await fn(sb);
      } finally {
        await sb.close();
      }
    };

    it('places files, reads what commands write and lists every file with its sha256', (t) =>
      withSandbox(
        t,
        async (sb) => {
          assert.equal(sb.backend, backend);
          assert.equal(sb.workdir, '/work');
          const r = await sb.exec('cat notes/todo.txt && mkdir -p out && printf "done\\n" > out/result.txt', { timeoutMs: 5000 });
          assert.deepEqual([r.exitCode, r.stdout, r.timedOut, r.truncated], [0, 'buy milk\n', false, false]);
          assert.equal(await sb.readFile('out/result.txt'), 'done\n');
          assert.equal(await sb.readFile('/work/out/result.txt'), 'done\n');
          assert.equal(await sb.readFile('missing.txt'), null);
          assert.equal(await sb.readFile('out'), null, 'a directory is not a file');
          await sb.writeFile('deep/new/file.txt', 'x');
          assert.equal((await sb.exec('cat deep/new/file.txt', { timeoutMs: 5000 })).stdout, 'x');
          assert.deepEqual(await sb.listFiles(), [
            { path: 'deep/new/file.txt', size: 1, sha256: sha256('x') },
            { path: 'notes/todo.txt', size: 9, sha256: sha256('buy milk\n') },
            { path: 'out/result.txt', size: 5, sha256: sha256('done\n') },
          ]);
        },
        { 'notes/todo.txt': 'buy milk\n' },
      ));

    it('reports exit codes, stderr, stdin, cwd and per-command environment variables', (t) =>
      withSandbox(t, async (sb) => {
        const failed = await sb.exec('echo oops >&2; exit 3', { timeoutMs: 5000 });
        assert.deepEqual([failed.exitCode, failed.stderr], [3, 'oops\n']);
        assert.equal((await sb.exec('tr a-z A-Z', { timeoutMs: 5000, stdin: 'hello' })).stdout, 'HELLO');
        assert.equal((await sb.exec('cat', { timeoutMs: 5000 })).stdout, '', 'no stdin means an immediate end of input');
        await sb.writeFile('sub/dir/x.txt', '1');
        assert.equal((await sb.exec('pwd; ls', { timeoutMs: 5000, cwd: 'sub/dir' })).stdout, '/work/sub/dir\nx.txt\n');
        assert.equal((await sb.exec('pwd', { timeoutMs: 5000, cwd: '/work/sub' })).stdout, '/work/sub\n');
        const missing = await sb.exec('pwd', { timeoutMs: 5000, cwd: 'nope' });
        assert.equal(missing.exitCode, 1);
        assert.match(missing.stderr, /working directory \/work\/nope does not exist/);
        assert.equal((await sb.exec('echo "$GREETING"; echo "$HOME"', { timeoutMs: 5000, env: { GREETING: 'hi' } })).stdout, 'hi\n/work\n');
        assert.equal((await sb.exec('echo $FOO', { timeoutMs: 5000 })).stdout, '\n', 'shell state does not leak between commands');
      }));

    it('stops a command at its deadline with exit code 124', (t) =>
      withSandbox(t, async (sb) => {
        const r = await sb.exec('sleep 30', { timeoutMs: 500 });
        assert.equal(r.timedOut, true);
        assert.equal(r.exitCode, 124);
        assert.ok(r.durationMs < 3000, `took ${r.durationMs} ms`);
      }));

    it('cuts output past the limit and says so', (t) =>
      withSandbox(t, async (sb) => {
        const r = await sb.exec('seq 1 200000', { timeoutMs: 10_000 });
        assert.equal(r.truncated, true);
        assert.ok(Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr) <= 10_000);
        assert.ok(r.stdout.startsWith('1\n2\n3\n'));
        const small = await sb.exec('seq 1 200000 > big.txt; wc -l < big.txt', { timeoutMs: 10_000 });
        assert.deepEqual([small.stdout.trim(), small.truncated], ['200000', false], 'output written to files is not output');
      }));

    it('refuses paths that leave the work dir, directly or through symlinks', (t) =>
      withSandbox(t, async (sb) => {
        await assert.rejects(sb.readFile('../etc/passwd'), SandboxPathError);
        await assert.rejects(sb.readFile('/etc/passwd'), SandboxPathError);
        await assert.rejects(sb.writeFile('a/../../escape.txt', 'x'), SandboxPathError);
        const r = await sb.exec('ln -s /bin/ls leak && ln -s /tmp tmpdir && mkdir -p real && ln -s real alias', { timeoutMs: 5000 });
        assert.equal(r.exitCode, 0, r.stderr);
        await assert.rejects(sb.readFile('leak'), SandboxPathError);
        await assert.rejects(sb.writeFile('tmpdir/planted.txt', 'x'), SandboxPathError);
        await sb.writeFile('alias/ok.txt', 'inside');
        assert.equal(await sb.readFile('real/ok.txt'), 'inside', 'symlinks that stay inside are fine');
        const listed = (await sb.listFiles()).map((f) => f.path);
        assert.deepEqual(listed, ['alias', 'leak', 'real/ok.txt', 'tmpdir'], 'symlinks are listed, never followed');
      }));

    it('refuses names and paths longer than the file system takes, without naming where the sandbox lives on the host', (t) =>
      withSandbox(t, async (sb) => {
        for (const path of [`${'n'.repeat(256)}.txt`, `${'d/'.repeat(1950)}f.txt`]) {
          for (const attempt of [sb.writeFile(path, 'x'), sb.readFile(path)]) {
            await assert.rejects(attempt, (error: unknown) => {
              assert.ok(error instanceof SandboxPathError, String(error));
              assert.match(error.message, /bytes/);
              assert.doesNotMatch(error.message, /\/tmp\/|ENAMETOOLONG/);
              return true;
            });
          }
        }
        await sb.writeFile(`${'n'.repeat(255)}`, 'x');
        assert.equal(await sb.readFile(`${'n'.repeat(255)}`), 'x', 'a name of 255 bytes is fine');
      }));

    it('mounts the work dir where asked (/app), with the same guarantees', (t) =>
      withSandbox(
        t,
        async (sb) => {
          assert.equal(sb.workdir, '/app');
          const r = await sb.exec('pwd; echo "$HOME"; cat task.txt; mkdir -p out && echo ok > out/r.txt', { timeoutMs: 5000 });
          assert.deepEqual([r.exitCode, r.stdout], [0, '/app\n/app\ngiven\n'], r.stderr);
          assert.equal(await sb.readFile('/app/out/r.txt'), 'ok\n');
          assert.equal((await sb.exec('pwd', { timeoutMs: 5000, cwd: 'out' })).stdout, '/app/out\n');
          await assert.rejects(sb.readFile('/work/out/r.txt'), SandboxPathError);
        },
        { 'task.txt': 'given\n' },
        '/app',
      ));

    it('refuses to work once closed', (t) =>
      withSandbox(t, async (sb) => {
        await sb.close();
        await assert.rejects(sb.exec('true', { timeoutMs: 1000 }), /closed/);
      }));
  });
}

describe('createSandbox', () => {
  it('picks bwrap for auto when it works here, and removes the work dir on close', async (t) => {
    const sb = await createSandbox({ backend: 'auto' });
    try {
      assert.equal(sb.backend, bwrap.available ? 'bwrap' : 'virtual');
    } finally {
      await sb.close();
    }
    if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
    const other = await createSandbox({ backend: 'bwrap' });
    const marker = `marker-${process.pid}-${Date.now()}`;
    await other.writeFile(marker, 'x');
    const ownFolder = ownFolderOf(process.pid);
    const mine = readdirSync(ownFolder).filter((d) => existsSync(join(ownFolder, d, marker)));
    assert.equal(mine.length, 1, 'the work dir is one folder in this process\'s own folder on the host');
    await other.close();
    assert.equal(existsSync(join(ownFolder, mine[0] ?? '')), false, 'close removes it');
  });

  it('refuses a work dir that is not absolute, not normalised, the root, or a system directory', async () => {
    for (const workdir of ['app', '/', '/app/', '/work/../etc', '/usr', '/usr/local/app', '/etc', '/proc/1', '/dev/shm', '/sys', '/tmp', '/run/gauntlet', '/lib64']) {
      await assert.rejects(
        createSandbox({ backend: 'virtual', workdir }),
        (error: unknown) => error instanceof InputError && error.where === 'workdir' && error.message.includes(JSON.stringify(workdir)),
        workdir,
      );
    }
    const deep = await createSandbox({ backend: 'virtual', workdir: '/home/agent/project' });
    assert.equal(deep.workdir, '/home/agent/project');
    await deep.close();
  });

  it('rejects nonsense limits with the field name', async () => {
    await assert.rejects(createSandbox({ backend: 'virtual', limits: { timeoutMs: -1 } }), /limits\.timeoutMs: got -1 \(expected a whole number from 1 to 2147483647\)/);
  });
});
