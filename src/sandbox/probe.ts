// Which backends work on this machine, found out once per process and cached.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { bwrapArgs } from './bwrap-args.ts';
import { runContained, type RunAs } from './bwrap-process.ts';
import { makeHostDir } from './host-dirs.ts';
import { resolveLimits } from './limits.ts';
import { DEFAULT_WORKDIR } from './paths.ts';
import { seccompFilter } from './seccomp.ts';

const run = promisify(execFile);

/** The uid/gid commands run as when Gauntlet itself runs as root (nobody/nogroup on Debian). */
export const UNPRIVILEGED: RunAs = { uid: 65534, gid: 65534 };

export interface BwrapSupport {
  available: boolean;
  /** Why not, when unavailable. */
  reason?: string;
  path?: string;
  version?: string;
  /** Set when running as root: bwrap runs as this uid so RLIMIT_NPROC is enforced. */
  runAs?: RunAs;
  /** How the work dir's size is bounded: a size-limited tmpfs, or only per-file `ulimit -f`. */
  disk: 'tmpfs' | 'file-size-only';
}

export interface SandboxAvailability {
  virtual: { available: true };
  bwrap: BwrapSupport;
}

/** The first executable called `name` on this process's PATH. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function runAsFor(): RunAs | undefined {
  return process.getuid?.() === 0 ? UNPRIVILEGED : undefined;
}

/** Mounting needs root with CAP_SYS_ADMIN (plain root or a privileged container). */
async function canMountTmpfs(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  const dir = await makeHostDir('probe');
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=65536,mode=0700', 'tmpfs', dir], { timeout: 5000 });
    await run('umount', [dir], { timeout: 5000 });
    return true;
  } catch {
    return false;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function probeBwrap(): Promise<BwrapSupport> {
  const path = findOnPath('bwrap');
  if (!path) return { available: false, reason: 'bwrap is not on PATH (install the bubblewrap package)', disk: 'file-size-only' };
  let version: string | undefined;
  try {
    version = (await run(path, ['--version'], { timeout: 5000 })).stdout.trim();
  } catch (error) {
    return { available: false, reason: `${path} --version failed: ${(error as Error).message}`, path, disk: 'file-size-only' };
  }
  const runAs = runAsFor();
  let dir: string;
  try {
    dir = await makeHostDir('probe');
  } catch (error) {
    return { available: false, reason: (error as Error).message, path, version, disk: 'file-size-only' };
  }
  try {
    if (runAs) await run('chown', [`${runAs.uid}:${runAs.gid}`, dir], { timeout: 5000 });
    const limits = resolveLimits({ maxProcesses: 64 });
    const args = bwrapArgs({ hostDir: dir, workdir: DEFAULT_WORKDIR, limits, cwd: DEFAULT_WORKDIR, command: 'echo ok > probe && cat probe' });
    // With the seccomp filter, as every sandbox runs: a kernel or bwrap that refuses it fails here.
    const seccomp = seccompFilter();
    const result = await runContained({ bwrapPath: path, args, runAs, timeoutMs: 10_000, maxOutputBytes: 4096, ...(seccomp ? { seccomp } : {}) });
    if (result.exitCode !== 0 || result.stdout.trim() !== 'ok') {
      const why = result.timedOut ? 'timed out' : `exit ${result.exitCode}: ${result.stderr.trim().split('\n')[0] ?? ''}`;
      return { available: false, reason: `bwrap cannot start a sandbox here (${why}); user namespaces may be disabled`, path, version, disk: 'file-size-only' };
    }
  } catch (error) {
    return { available: false, reason: (error as Error).message, path, version, disk: 'file-size-only' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const disk = (await canMountTmpfs()) ? 'tmpfs' : 'file-size-only';
  return { available: true, path, ...(version ? { version } : {}), ...(runAs ? { runAs } : {}), disk };
}

let cached: Promise<BwrapSupport> | undefined;

/** Which backends work here. bwrap is probed once per process by starting a real sandbox. */
export async function sandboxAvailability(): Promise<SandboxAvailability> {
  cached ??= probeBwrap();
  return { virtual: { available: true }, bwrap: await cached };
}
