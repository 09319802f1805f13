// The bubblewrap command line: what the sandboxed command can see and which limits apply.
import { lstatSync, readlinkSync } from 'node:fs';
import type { ResolvedLimits } from './limits.ts';

export const BWRAP_WORKDIR = '/work';
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
  /** Host directory bound read-write at /work. */
  hostDir: string;
  limits: ResolvedLimits;
  /** Absolute directory inside the sandbox to start in. */
  cwd: string;
  env?: Record<string, string>;
  command: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const kib = (bytes: number) => Math.max(1, Math.floor(bytes / 1024));

/**
 * Limits applied by a wrapper shell before the command: process count (enforced because the
 * command runs as an unprivileged uid in its own user namespace), address space, file size and
 * no core dumps. `ulimit` without -S/-H sets the hard limit too, so the command cannot raise them.
 */
function limitScript(limits: ResolvedLimits): string {
  return [
    `ulimit -c 0 && ulimit -u ${limits.maxProcesses} && ulimit -v ${kib(limits.memoryBytes)} && ulimit -f ${kib(limits.diskBytes)}`,
    `|| { echo 'sandbox: could not apply resource limits' >&2; exit 125; }`,
    `; exec /bin/bash -c "$1"`,
  ].join(' ');
}

export function bwrapArgs(invocation: BwrapInvocation): string[] {
  const { hostDir, limits, cwd, env = {}, command } = invocation;
  const scratch = String(Math.min(limits.diskBytes, 64 * 1024 ** 2));
  const args = [
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
    '--bind', hostDir, BWRAP_WORKDIR,
    '--chdir', cwd,
    '--clearenv',
    '--setenv', 'PATH', BASE_PATH,
    '--setenv', 'HOME', BWRAP_WORKDIR,
    '--setenv', 'LANG', 'C.UTF-8',
    '--setenv', 'TERM', 'dumb',
  ];
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new Error(`sandbox exec: environment variable name ${JSON.stringify(name)} is not a valid shell name`);
    args.push('--setenv', name, value);
  }
  args.push('--', '/bin/bash', '-c', limitScript(limits), 'sandbox', command);
  return args;
}
