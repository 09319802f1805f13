// A seccomp filter for bubblewrap's `--seccomp FD`, assembled here as classic BPF (no libseccomp).
// It refuses what a sandboxed command never needs and an escape usually does: new user
// namespaces, ptrace and cross-process memory access, the kernel keyring, and every way of
// mounting. Only the architecture Gauntlet itself runs on is allowed (a 32-bit or x32 call
// would reach the kernel through another syscall table that the rules below do not cover).

/** The syscalls refused, by name; the numbers differ per architecture. */
export const DENIED_SYSCALLS = [
  'ptrace',
  'process_vm_readv',
  'process_vm_writev',
  'keyctl',
  'add_key',
  'request_key',
  'mount',
  'umount2',
  'pivot_root',
  'move_mount',
  'fsopen',
  'fsconfig',
  'fsmount',
  'fspick',
  'open_tree',
  'open_tree_attr',
  'mount_setattr',
] as const;
export type DeniedSyscall = (typeof DENIED_SYSCALLS)[number];

interface ArchTable {
  /** AUDIT_ARCH_* as seccomp reports it in seccomp_data.arch. */
  audit: number;
  denied: Record<DeniedSyscall, number>;
  unshare: number;
  clone: number;
  clone3: number;
  /** x86_64 also accepts x32 calls (numbers with this bit set), which the table above does not name. */
  x32Bit?: number;
}

// Numbers from the kernel's arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h.
const X86_64: ArchTable = {
  audit: 0xc000003e,
  denied: {
    ptrace: 101,
    process_vm_readv: 310,
    process_vm_writev: 311,
    keyctl: 250,
    add_key: 248,
    request_key: 249,
    mount: 165,
    umount2: 166,
    pivot_root: 155,
    move_mount: 429,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    open_tree: 428,
    open_tree_attr: 467,
    mount_setattr: 442,
  },
  unshare: 272,
  clone: 56,
  clone3: 435,
  x32Bit: 0x40000000,
};

const AARCH64: ArchTable = {
  audit: 0xc00000b7,
  denied: {
    ptrace: 117,
    process_vm_readv: 270,
    process_vm_writev: 271,
    keyctl: 219,
    add_key: 217,
    request_key: 218,
    mount: 40,
    umount2: 39,
    pivot_root: 41,
    move_mount: 429,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    open_tree: 428,
    open_tree_attr: 467,
    mount_setattr: 442,
  },
  unshare: 97,
  clone: 220,
  clone3: 435,
};

const TABLES: Partial<Record<NodeJS.Architecture, ArchTable>> = { x64: X86_64, arm64: AARCH64 };

/** The syscall numbers used for `arch`, or undefined where Gauntlet has no table (see seccompFilter). */
export function syscallTable(arch: NodeJS.Architecture): Readonly<ArchTable> | undefined {
  return TABLES[arch];
}

// Classic BPF, as in linux/filter.h and linux/seccomp.h.
const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const EPERM = 1;
export const ENOSYS = 38;
export const CLONE_NEWUSER = 0x10000000;

/** Offsets into struct seccomp_data: nr (int), arch (u32), instruction_pointer (u64), args[6] (u64). */
const NR = 0;
const ARCH = 4;
/** Low 32 bits of args[0] on a little-endian machine (both supported architectures are). */
const ARG0_LOW = 16;

interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const load = (offset: number): Instruction => ({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: offset });
const ret = (k: number): Instruction => ({ code: BPF_RET_K, jt: 0, jf: 0, k: k >>> 0 });
const jump = (code: number, k: number, jt: number, jf: number): Instruction => ({ code, jt, jf, k: k >>> 0 });

/** `if (A == nr) return action;` as two instructions. */
const refuse = (nr: number, action: number): Instruction[] => [jump(BPF_JEQ_K, nr, 0, 1), ret(action)];

/** The filter's instructions for one architecture. */
export function filterInstructions(table: ArchTable): Instruction[] {
  const eperm = SECCOMP_RET_ERRNO | EPERM;
  const program: Instruction[] = [
    load(ARCH),
    jump(BPF_JEQ_K, table.audit, 1, 0),
    ret(SECCOMP_RET_KILL_PROCESS),
    load(NR),
  ];
  if (table.x32Bit !== undefined) program.push(jump(BPF_JGE_K, table.x32Bit, 0, 1), ret(eperm));
  for (const name of DENIED_SYSCALLS) program.push(...refuse(table.denied[name], eperm));
  // clone3 passes its flags in memory, out of a filter's reach: refused as unknown, libc retries with clone.
  program.push(...refuse(table.clone3, SECCOMP_RET_ERRNO | ENOSYS));
  // unshare(flags) and clone(flags, ...): refused only when the flags ask for a new user namespace.
  program.push(
    jump(BPF_JEQ_K, table.unshare, 1, 0),
    jump(BPF_JEQ_K, table.clone, 0, 3),
    load(ARG0_LOW),
    jump(BPF_JSET_K, CLONE_NEWUSER, 0, 1),
    ret(eperm),
    ret(SECCOMP_RET_ALLOW),
  );
  return program;
}

/** struct sock_filter[] as the kernel reads it: u16 code, u8 jt, u8 jf, u32 k, little-endian. */
export function encodeFilter(program: Instruction[]): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((insn, i) => {
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(insn.jt, i * 8 + 2);
    out.writeUInt8(insn.jf, i * 8 + 3);
    out.writeUInt32LE(insn.k, i * 8 + 4);
  });
  return out;
}

/** The compiled filter for this machine, or undefined on an architecture without a table here. */
export function seccompFilter(arch: NodeJS.Architecture = process.arch): Buffer | undefined {
  const table = TABLES[arch];
  return table ? encodeFilter(filterInstructions(table)) : undefined;
}
