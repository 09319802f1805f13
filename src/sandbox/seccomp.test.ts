// The seccomp filter as the kernel would run it: a small classic-BPF interpreter executes the
// encoded program on seccomp_data records. The attacks from inside a real sandbox are in
// hardening.test.ts.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  CLONE_NEWUSER,
  DENIED_SYSCALLS,
  ENOSYS,
  EPERM,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  seccompFilter,
  syscallTable,
} from './seccomp.ts';

interface SeccompData {
  nr: number;
  arch: number;
  args?: bigint[];
}

/** Runs a classic BPF program over one seccomp_data record; fails on anything the kernel would reject. */
function runFilter(program: Buffer, data: SeccompData): number {
  assert.equal(program.length % 8, 0);
  const record = Buffer.alloc(64);
  record.writeInt32LE(data.nr, 0);
  record.writeUInt32LE(data.arch, 4);
  (data.args ?? []).forEach((arg, i) => record.writeBigUInt64LE(arg, 16 + 8 * i));
  const count = program.length / 8;
  let a = 0;
  for (let pc = 0; pc < count; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    const branch = (taken: boolean) => {
      pc += taken ? jt : jf;
      assert.ok(pc + 1 < count, 'a jump lands past the end of the program');
    };
    switch (code) {
      case 0x20: // ld [k]
        assert.ok(k % 4 === 0 && k < 64, `load from offset ${k}`);
        a = record.readUInt32LE(k);
        break;
      case 0x15: // jeq #k
        branch(a === k);
        break;
      case 0x35: // jge #k
        branch(a >>> 0 >= k);
        break;
      case 0x45: // jset #k
        branch((a & k) !== 0);
        break;
      case 0x06: // ret #k
        return k;
      default:
        assert.fail(`unexpected BPF opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  return assert.fail('the program ran off its end without returning');
}

const eperm = SECCOMP_RET_ERRNO | EPERM;
const AUDIT_ARCH_I386 = 0x40000003;
/** Syscalls any program makes (read, write, openat, exit_group on x86_64 / aarch64). */
const ORDINARY: Record<'x64' | 'arm64', number[]> = { x64: [0, 1, 257, 231], arm64: [63, 64, 56, 94] };

for (const arch of ['x64', 'arm64'] as const) {
  describe(`seccomp filter (${arch})`, () => {
    const table = syscallTable(arch)!;
    const program = seccompFilter(arch)!;
    const decide = (nr: number, args: bigint[] = []) => runFilter(program, { nr, arch: table.audit, args });

    it('refuses ptrace, cross-process memory access, the keyring and every mount call with EPERM', () => {
      for (const name of DENIED_SYSCALLS) assert.equal(decide(table.denied[name]) >>> 0, eperm, name);
    });

    it('refuses clone and unshare that ask for a new user namespace, whatever else they ask, and allows the rest', () => {
      for (const nr of [table.clone, table.unshare]) {
        assert.equal(decide(nr, [BigInt(CLONE_NEWUSER)]), eperm);
        assert.equal(decide(nr, [BigInt(CLONE_NEWUSER | 0x20000 | 17)]), eperm, 'with CLONE_NEWNS and SIGCHLD');
        assert.equal(decide(nr, [0x20000n | 17n]), SECCOMP_RET_ALLOW, 'CLONE_NEWNS alone is the kernel\'s to refuse');
        assert.equal(decide(nr, [17n]), SECCOMP_RET_ALLOW, 'a plain fork');
      }
    });

    it('answers clone3 with ENOSYS, so that libc falls back to clone', () => {
      assert.equal(decide(table.clone3), SECCOMP_RET_ERRNO | ENOSYS);
    });

    it('allows ordinary syscalls', () => {
      for (const nr of ORDINARY[arch]) assert.equal(decide(nr), SECCOMP_RET_ALLOW, String(nr));
    });

    it('kills a process that calls through another architecture\'s syscall table', () => {
      for (const nr of [table.unshare, ...ORDINARY[arch]]) {
        assert.equal(runFilter(program, { nr, arch: AUDIT_ARCH_I386 }) >>> 0, SECCOMP_RET_KILL_PROCESS);
      }
    });
  });
}

describe('seccomp filter, per architecture', () => {
  it('refuses x32 calls on x86_64 (the same arch value, numbers with bit 30 set)', () => {
    const table = syscallTable('x64')!;
    const program = seccompFilter('x64')!;
    assert.equal(runFilter(program, { nr: 0x40000000 + table.unshare, arch: table.audit, args: [BigInt(CLONE_NEWUSER)] }) >>> 0, eperm);
    assert.equal(runFilter(program, { nr: 0x40000000, arch: table.audit }) >>> 0, eperm);
  });

  it('has no filter for an architecture without a table here', () => {
    assert.equal(seccompFilter('s390x'), undefined);
    assert.equal(seccompFilter('ia32'), undefined);
  });

  /** Numbers as this machine's kernel headers define them (an independent source). */
  const HEADERS: Record<'x64' | 'arm64', string> = {
    x64: '/usr/include/x86_64-linux-gnu/asm/unistd_64.h',
    arm64: '/usr/include/asm-generic/unistd.h',
  };
  for (const arch of ['x64', 'arm64'] as const) {
    it(`uses the syscall numbers of the kernel headers (${arch})`, (t) => {
      if (!existsSync(HEADERS[arch])) return t.skip(`${HEADERS[arch]} is not installed here (linux-libc-dev)`);
      const defined = new Map<string, number>();
      for (const match of readFileSync(HEADERS[arch], 'utf8').matchAll(/#define __NR(?:3264)?_(\w+)\s+(\d+)/g)) defined.set(match[1]!, Number(match[2]));
      const table = syscallTable(arch)!;
      const ours: [string, number][] = [...Object.entries(table.denied), ['unshare', table.unshare], ['clone', table.clone], ['clone3', table.clone3]];
      let compared = 0;
      for (const [name, nr] of ours) {
        // Headers older than the kernel lack the newest calls (open_tree_attr came with 6.15).
        if (!defined.has(name)) continue;
        assert.equal(nr, defined.get(name), name);
        compared += 1;
      }
      assert.ok(compared >= ours.length - 1, `only ${compared} of ${ours.length} found in the headers`);
    });
  }
});
