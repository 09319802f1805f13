// Attacks from inside a bwrap sandbox that the seccomp filter, the read-only root and the
// supervisor's design stop; one test per item. Each raw syscall is made with perl's syscall(),
// with arguments chosen so that, without the filter, the call would succeed or fail with another
// errno (EFAULT, EINVAL, ENOKEY): EPERM here is the filter's doing. Skipped (with the reason) only
// where bubblewrap or perl is missing.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { Sandbox } from '../core/index.ts';
import { sandboxesRoot } from './host-dirs.ts';
import { createSandbox, sandboxAvailability, type BwrapMode } from './index.ts';
import { syscallTable } from './seccomp.ts';

const { bwrap } = await sandboxAvailability();
const table = syscallTable(process.arch);

/** A shell function `sys NR ARGS…` printing `ok <result>` or `errno <n>`. */
const SYS = `sys() { perl -e 'my @a = map { /^-?\\d+$/ ? $_ + 0 : $_ } @ARGV; my $n = shift @a; my $r = syscall($n, @a); print $r == -1 ? "errno " . ($! + 0) : "ok $r", "\\n"' "$@"; }`;

async function attack(t: TestContext, mode: BwrapMode, fn: (run: (script: string) => Promise<string>, sb: Sandbox) => Promise<void>): Promise<void> {
  if (!bwrap.available) return t.skip(`bwrap unavailable here: ${bwrap.reason}`);
  if (!table) return t.skip(`no seccomp filter for ${process.arch}`);
  const sb = await createSandbox({ backend: 'bwrap', mode });
  try {
    if ((await sb.exec('command -v perl', { timeoutMs: 10_000 })).exitCode !== 0) return t.skip('perl is not installed in the sandbox (the attacks use its syscall())');
    const run = async (script: string) => {
      const r = await sb.exec(`${SYS}\n${script}`, { timeoutMs: 10_000 });
      assert.equal(r.timedOut, false);
      return r.stdout;
    };
    await fn(run, sb);
  } finally {
    await sb.close();
  }
}

for (const mode of ['persistent', 'fresh'] as const) {
  describe(`bwrap sandbox hardening (${mode})`, () => {
    it('runs every command under the seccomp filter, with no new privileges', (t) =>
      attack(t, mode, async (run) => {
        const status = await run('grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status');
        assert.match(status, /^NoNewPrivs:\s+1$/m);
        assert.match(status, /^Seccomp:\s+2$/m, 'mode 2: a filter');
      }));

    it('holds no file descriptor but its stdio, whatever Gauntlet itself inherited', (t) =>
      attack(t, mode, async (run) => {
        const out = await run('ls /proc/self/fd');
        // 0-2, and the one ls reads /proc/self/fd through.
        assert.deepEqual(out.split('\n').filter(Boolean).map(Number).sort((a, b) => a - b), [0, 1, 2, 3]);
      }));

    it('cannot create a user namespace: unshare -U, clone(CLONE_NEWUSER), clone3, nested bwrap', (t) =>
      attack(t, mode, async (run) => {
        const { unshare, clone, clone3 } = table!;
        const out = await run(
          [
            `echo "unshare: $(sys ${unshare} ${0x10000000})"`,
            `echo "clone: $(sys ${clone} ${0x10000000 | 17} 0 0 0 0)"`,
            `echo "clone3: $(sys ${clone3} 0 0)"`,
            `unshare --user --map-root-user true 2>&1 | head -n1 | sed 's/^/util-linux: /'`,
            `bwrap --ro-bind / / true 2>&1 | head -n1 | sed 's/^/bwrap: /'`,
            // Plain processes are still fine.
            `( echo "fork: $(echo child)" )`,
          ].join('\n'),
        );
        assert.match(out, /^unshare: errno 1$/m);
        assert.match(out, /^clone: errno 1$/m);
        assert.match(out, /^clone3: errno 38$/m, 'ENOSYS, so that libc falls back to clone');
        assert.match(out, /^util-linux: .*Operation not permitted/m);
        assert.match(out, /^bwrap: /m);
        assert.doesNotMatch(out, /^bwrap: $/m);
        assert.match(out, /^fork: child$/m);
      }));

    it('cannot ptrace another process or read its memory with process_vm_readv', (t) =>
      attack(t, mode, async (run) => {
        const { ptrace, process_vm_readv } = table!.denied;
        const out = await run(
          ['sleep 30 & victim=$!', `echo "ptrace: $(sys ${ptrace} 16 $victim 0 0)"`, `echo "process_vm_readv: $(sys ${process_vm_readv} $$ 0 0 0 0 0)"`].join('\n'),
        );
        assert.match(out, /^ptrace: errno 1$/m, 'PTRACE_ATTACH to a sibling');
        assert.match(out, /^process_vm_readv: errno 1$/m);
      }));

    it('cannot reach the kernel keyring: keyctl, add_key, request_key', (t) =>
      attack(t, mode, async (run) => {
        const { keyctl, add_key, request_key } = table!.denied;
        const out = await run(
          [`echo "keyctl: $(sys ${keyctl} 0 -3 1)"`, `echo "add_key: $(sys ${add_key} user gauntlet secret 6 -2)"`, `echo "request_key: $(sys ${request_key} user gauntlet 0 0)"`].join('\n'),
        );
        assert.match(out, /^keyctl: errno 1$/m);
        assert.match(out, /^add_key: errno 1$/m);
        assert.match(out, /^request_key: errno 1$/m, 'ENOKEY without the filter');
      }));

    it('cannot mount, unmount or pivot in any way (old and new mount API)', (t) =>
      attack(t, mode, async (run) => {
        const d = table!.denied;
        // Arguments that make the kernel answer EFAULT or EINVAL before it checks permissions.
        const calls: [string, string][] = [
          ['mount', `${d.mount} 0 0 0 0 0`],
          ['umount2', `${d.umount2} /tmp -1`],
          ['pivot_root', `${d.pivot_root} 0 0`],
          ['open_tree', `${d.open_tree} -100 / -1`],
          ['open_tree_attr', `${d.open_tree_attr} -100 / -1 0 0`],
          ['move_mount', `${d.move_mount} -1 0 -1 0 -1`],
          ['fsopen', `${d.fsopen} tmpfs -1`],
          ['fsconfig', `${d.fsconfig} -1 -1 0 0 0`],
          ['fsmount', `${d.fsmount} -1 -1 0`],
          ['fspick', `${d.fspick} -100 / -1`],
          ['mount_setattr', `${d.mount_setattr} -100 / -1 0 0`],
        ];
        const out = await run([...calls.map(([name, args]) => `echo "${name}: $(sys ${args})"`), 'mount -t tmpfs none /tmp 2>&1 | sed "s/^/mount(8): /"'].join('\n'));
        for (const [name] of calls) assert.match(out, new RegExp(`^${name}: errno 1$`, 'm'), name);
        assert.match(out, /^mount\(8\): .+/m);
      }));

    it('shows nothing of the host temp folder where sandboxes live: not in mounts, environment, cwd or command lines', (t) =>
      attack(t, mode, async (run) => {
        const out = await run('cat /proc/self/mountinfo /proc/mounts /proc/self/cmdline; env; pwd; readlink /proc/self/cwd; tr "\\0" " " < /proc/1/cmdline');
        assert.ok(out.includes('/work'), 'what was read includes the work dir');
        if (bwrap.disk !== 'tmpfs') {
          // A bind mount shows its source path; only a tmpfs of its own (root with CAP_SYS_ADMIN) hides it.
          assert.doesNotMatch(out.split('\n').filter((l) => !/^\d+ \d+ /.test(l)).join('\n'), new RegExp(sandboxesRoot()));
          return t.skip('without mounting (not root), mountinfo shows the work dir\'s host path');
        }
        assert.equal(out.includes(sandboxesRoot()), false, `found ${sandboxesRoot()} in:\n${out}`);
      }));
  });
}

describe('persistent sandbox supervisor', () => {
  it('cannot be killed, read or written to by a command, and its end marker cannot be forged', (t) =>
    attack(t, 'persistent', async (run, sb) => {
      const out = await run(
        [
          'kill -9 1; kill -TERM 1; echo "kill: $?"',
          'cat /proc/1/environ 2>&1 | sed "s/^/environ: /"',
          'head -c 1 /proc/1/mem 2>&1 | sed "s/^/mem: /"',
          'ls /proc/1/fd 2>&1 | sed "s/^/fd: /"',
          '{ echo x > /proc/1/fd/0; } 2>&1 | sed "s/^/inject: /"',
        ].join('\n'),
      );
      assert.match(out, /^environ: .*Permission denied/m);
      assert.match(out, /^mem: .*Permission denied/m);
      assert.match(out, /^fd: .*Permission denied/m);
      assert.match(out, /^inject: .*Permission denied/m);
      const after = await sb.exec('echo alive; cat /proc/1/cmdline | head -c 40 | tr "\\0" " "', { timeoutMs: 5000 });
      assert.match(after.stdout, /^alive\n\/run\/gauntlet\/supervisor -c/, 'the same supervisor is still pid 1');
      // A marker with a guessed nonce is just output: the command goes on, and its exit code is its own.
      const forged = await sb.exec(`printf '\\0GAUNTLET:%s:0:1\\n' 0123456789abcdef0123456789abcdef; sleep 0.2; echo still-mine; exit 7`, { timeoutMs: 5000 });
      assert.equal(forged.exitCode, 7);
      assert.match(forged.stdout, /GAUNTLET:0123456789abcdef0123456789abcdef:0:1\nstill-mine\n$/);
      // Nothing a command can see names the real nonce: not its stdin file, not its open files.
      const seen = await sb.exec('ls -a /run/gauntlet; ls -l /proc/self/fd', { timeoutMs: 5000, stdin: 'input' });
      const nonce = /\bstdin\.([0-9a-f]{32})\b/.exec(seen.stdout)?.[1];
      assert.ok(nonce, seen.stdout);
      const attempt = await sb.exec(`printf '\\0GAUNTLET:%s:0:1\\n' ${nonce}; printf '\\0GAUNTLET:%s\\n' ${nonce} >&2; echo still-mine`, { timeoutMs: 5000, stdin: 'input' });
      assert.match(attempt.stdout, /still-mine\n$/, 'the stdin file\'s name is not the nonce');
      assert.match(seen.stdout, / 0 -> \/run\/gauntlet\/stdin\./);
    }));
});
