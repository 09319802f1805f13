// The bubblewrap command line: what the sandboxed command can see and which limits apply.
import { lstatSync, readlinkSync } from 'node:fs';
import type { ResolvedLimits } from './limits.ts';
import { CLOSE_INHERITED_FDS, SUPERVISOR_BINARY, SUPERVISOR_DIR, supervisorScript } from './supervisor.ts';

export const BASE_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * /etc entries a shell and coreutils need. Everything else under /etc (shadow, gshadow, ssh and
 * TLS keys, package credentials, the host's configuration) is simply not there.
 */
const ETC_ENTRIES = [
  'passwd',
  'group',
  'hosts',
  'nsswitch.conf',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'timezone',
  'alternatives',
  'bash.bashrc',
  'profile',
  'inputrc',
  'os-release',
  'debian_version',
  'mime.types',
  'magic',
];

/** Top-level system directories; on merged-/usr systems most are symlinks into /usr. */
const SYSTEM_DIRS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

let systemArgsCache: string[] | undefined;

/** Read-only views of /usr and the system dirs, mirroring the host's symlink layout. */
function systemArgs(): string[] {
  if (systemArgsCache) return systemArgsCache;
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const dir of SYSTEM_DIRS) {
    try {
      const stat = lstatSync(dir);
      if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
      else if (stat.isDirectory()) args.push('--ro-bind', dir, dir);
    } catch {
      // not on this system
    }
  }
  for (const entry of ETC_ENTRIES) args.push('--ro-bind-try', `/etc/${entry}`, `/etc/${entry}`);
  systemArgsCache = args;
  return args;
}

export interface BwrapInvocation {
  /** Host directory bound read-write at `workdir`. */
  hostDir: string;
  /** Where the work dir is inside (paths.ts resolveWorkdir has checked it). */
  workdir: string;
  limits: ResolvedLimits;
  /** Absolute directory inside the sandbox to start in. */
  cwd: string;
  env?: Record<string, string>;
  command: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const kib = (bytes: number) => Math.max(1, Math.floor(bytes / 1024));

/**
 * Limits applied by a wrapper shell before the program starts: process count (enforced because
 * it runs as an unprivileged uid in its own user namespace), address space, file size and no core
 * dumps. `ulimit` without -S/-H sets the hard limit too, so the program cannot raise them.
 */
function limitPrelude(limits: ResolvedLimits, options: { addressSpace: boolean }): string {
  const addressSpace = options.addressSpace ? ` && ulimit -v ${kib(limits.memoryBytes)}` : '';
  return [
    `ulimit -c 0 && ulimit -u ${limits.maxProcesses}${addressSpace} && ulimit -f ${kib(limits.diskBytes)}`,
    `|| { echo 'sandbox: could not apply resource limits' >&2; exit 125; }`,
  ].join(' ');
}

/** Bytes of each in-memory scratch file system (/tmp, /dev/shm, the supervisor's). */
export const scratchBytes = (limits: ResolvedLimits) => Math.min(limits.diskBytes, 64 * 1024 ** 2);

/**
 * Files a tmpfs of `bytes` may hold. Without a bound the kernel allows millions, each taking ~1 KiB
 * of kernel memory that neither its size nor (without cgroups v2) the memory limit counts.
 */
export const inodeLimit = (bytes: number) => Math.max(1024, Math.floor(bytes / 4096));

/** The in-memory file systems bwrap makes inside (it cannot bound their files; see bwrap.ts). */
export const SCRATCH_MOUNTS = ['/tmp', '/dev/shm'] as const;

/** Fresh namespaces, the read-only system, and in-memory /dev, /proc, /tmp and /dev/shm sized by the disk limit. */
function isolationArgs(limits: ResolvedLimits): string[] {
  const scratch = String(scratchBytes(limits));
  return [
    '--unshare-all', // user, pid, net (loopback only), ipc, uts, cgroup
    '--unshare-user',
    '--die-with-parent',
    '--new-session',
    '--hostname', 'sandbox',
    ...systemArgs(),
    '--proc', '/proc',
    '--dev', '/dev',
    // /dev, /tmp and /dev/shm live in memory: size them so they cannot eat the host's RAM.
    '--size', scratch, '--tmpfs', '/dev/shm',
    '--size', scratch, '--tmpfs', '/tmp',
  ];
}

/** Refuses names a shell could not export (they could also smuggle options into a command line). */
export function checkEnvNames(env: Record<string, string>): void {
  for (const name of Object.keys(env)) {
    if (!ENV_NAME.test(name)) throw new Error(`sandbox: environment variable name ${JSON.stringify(name)} is not a valid shell name`);
  }
}

function envArgs(base: Record<string, string>, extra: Record<string, string>): string[] {
  checkEnvNames(extra);
  const args = ['--clearenv'];
  for (const [name, value] of Object.entries({ ...base, ...extra })) args.push('--setenv', name, value);
  return args;
}

/**
 * bwrap's own root (a tmpfs that holds the mount points) becomes read-only once everything is
 * mounted: in a persistent sandbox it would otherwise be an unbounded in-memory disk.
 */
const SEAL_ROOT = ['--remount-ro', '/'];

const baseEnv = (workdir: string) => ({ PATH: BASE_PATH, HOME: workdir, LANG: 'C.UTF-8', TERM: 'dumb' });

/** One command in fresh namespaces of its own (the `fresh` mode). */
export function bwrapArgs(invocation: BwrapInvocation): string[] {
  const { hostDir, workdir, limits, cwd, env = {}, command } = invocation;
  return [
    ...isolationArgs(limits),
    '--bind', hostDir, workdir,
    ...SEAL_ROOT,
    '--chdir', cwd,
    ...envArgs(baseEnv(workdir), env),
    '--', '/bin/bash', '-c', `${limitPrelude(limits, { addressSpace: true })}; ${CLOSE_INHERITED_FDS}; exec /bin/bash -c "$1"`, 'sandbox', command,
  ];
}

export interface SupervisorInvocation {
  hostDir: string;
  workdir: string;
  limits: ResolvedLimits;
  /** Host path of the execute-only shell the supervisor runs in (see supervisor.ts). */
  supervisorBinary: string;
}

/** A long-lived sandbox whose pid 1 is the supervisor, running commands it is sent (the `persistent` mode). */
export function supervisorArgs(invocation: SupervisorInvocation): string[] {
  const { hostDir, workdir, limits, supervisorBinary } = invocation;
  return [
    ...isolationArgs(limits),
    '--as-pid-1',
    '--bind', hostDir, workdir,
    '--size', String(scratchBytes(limits)), '--tmpfs', SUPERVISOR_DIR,
    '--ro-bind', supervisorBinary, SUPERVISOR_BINARY,
    ...SEAL_ROOT,
    '--chdir', workdir,
    ...envArgs(baseEnv(workdir), {}),
    '--', SUPERVISOR_BINARY, '-c', supervisorScript(limits),
  ];
}

export interface BwrapProgram {
  /** Absolute path of the executable, as the host sees it. */
  executable: string;
  args: string[];
  /** Host paths made visible read-only at the same place (the program's files, its working directory). */
  readOnly: string[];
  /** Working directory; must be one of `readOnly` or below one. */
  cwd: string;
  /** PATH inside the sandbox. */
  path: string;
  env?: Record<string, string>;
  limits: ResolvedLimits;
}

/**
 * A long-running program (an MCP server) in the same isolation as commands, but with no work
 * dir: everything it sees is read-only except its own /tmp, which is also its HOME. No
 * address-space limit: runtimes such as V8 reserve far more than they use (a WebAssembly memory
 * alone reserves gigabytes), and would not start under one.
 */
export function bwrapProgramArgs(program: BwrapProgram): string[] {
  const binds = program.readOnly.flatMap((path) => ['--ro-bind', path, path]);
  return [
    ...isolationArgs(program.limits),
    ...binds,
    '--chdir', program.cwd,
    ...envArgs({ PATH: program.path, HOME: '/tmp', TMPDIR: '/tmp', LANG: 'C.UTF-8', TERM: 'dumb' }, program.env ?? {}),
    '--', '/bin/bash', '-c', `${limitPrelude(program.limits, { addressSpace: false })}; exec "$@"`, 'sandbox', program.executable, ...program.args,
  ];
}
