// A long-running program (an MCP server) inside bubblewrap, its stdio piped to us: no network,
// a read-only view of the system and of the files it names, its own /tmp, an unprivileged uid
// when we are root, and gone when we are (--die-with-parent plus its own pid namespace).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { InfraError, InputError } from '../core/index.ts';
import { BASE_PATH, bwrapProgramArgs } from './bwrap-args.ts';
import { resolveLimits, type SandboxLimits } from './limits.ts';
import { findOnPath, sandboxAvailability } from './probe.ts';

export interface ContainedProgramOptions {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  /** Host working directory, visible read-only at the same path (default: this process's). */
  cwd?: string;
  /** Further host paths the program needs, visible read-only at the same place. */
  readOnlyPaths?: string[];
  /** Process count, /tmp size and file size apply; memoryBytes does not (see bwrapProgramArgs). */
  limits?: SandboxLimits;
}

export interface ContainedProgram {
  readonly child: ChildProcessWithoutNullStreams;
  /** Closes its stdin, waits up to `graceMs` for it to exit, then kills everything inside. */
  stop(graceMs?: number): Promise<void>;
}

/** Directories the system part of the sandbox already shows. */
const SYSTEM_PREFIXES = ['/usr/', '/bin/', '/sbin/', '/lib/', '/lib64/', '/lib32/', '/libx32/'];

const underSystem = (path: string) => SYSTEM_PREFIXES.some((prefix) => path.startsWith(prefix));

/**
 * The installation an executable belongs to: `/opt/node/bin/node` → `/opt/node`, so that its
 * libraries and siblings (`npx` next to `node`) come along.
 */
function installRoot(executable: string): string {
  const dir = dirname(executable);
  return dir.endsWith('/bin') && dirname(dir) !== '/' ? dirname(dir) : dir;
}

function existingPath(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The sandbox's own /proc and /dev, and the root itself, are never replaced by the host's. */
const shareable = (path: string) => path !== '/' && !/^\/(proc|dev)(\/|$)/.test(path);

/** What the sandbox must show for the program to start: its executable's installation, cwd, and paths named as whole arguments. */
function visiblePaths(executable: string, options: ContainedProgramOptions, cwd: string): string[] {
  const named = (options.args ?? []).filter((arg) => isAbsolute(arg) && existingPath(arg));
  const wanted = [cwd, ...(options.readOnlyPaths ?? []), ...named];
  for (const path of new Set([executable, realpathSync(executable)])) {
    if (!underSystem(path)) wanted.push(installRoot(path));
  }
  // Sorted, so a folder is bound before anything inside it.
  return [...new Set(wanted.map((path) => resolve(path)))].filter((path) => shareable(path) && !underSystem(`${path}/`)).sort();
}

/** Starts `command` inside bubblewrap; refuses (never falls back to the host) when bwrap cannot run here. */
export async function spawnContained(options: ContainedProgramOptions): Promise<ContainedProgram> {
  const cwd = resolve(options.cwd ?? process.cwd());
  if (!shareable(cwd)) throw new InputError('cwd', `${cwd} cannot be shared with a sandboxed program`, 'a project directory');
  for (const path of options.readOnlyPaths ?? []) {
    if (!isAbsolute(path) || !shareable(resolve(path))) throw new InputError('readOnlyPaths', `"${path}" cannot be shared with a sandboxed program`, 'absolute host paths such as /opt/my-server');
  }
  const executable = options.command.includes('/') ? resolve(cwd, options.command) : findOnPath(options.command);
  if (!executable || !existingPath(executable)) throw new InputError('command', `"${options.command}" not found or not executable`, 'a program on PATH or a path to an executable');
  const { bwrap } = await sandboxAvailability();
  if (!bwrap.available || !bwrap.path) {
    throw new InfraError('sandbox', `cannot start "${options.command}" inside bubblewrap: ${bwrap.reason ?? 'bwrap is unavailable'}`, { retryable: false });
  }

  const path = underSystem(executable) ? BASE_PATH : `${dirname(executable)}:${BASE_PATH}`;
  const args = bwrapProgramArgs({
    executable,
    args: options.args ?? [],
    readOnly: visiblePaths(executable, options, cwd),
    cwd,
    path,
    ...(options.env ? { env: options.env } : {}),
    limits: resolveLimits(options.limits),
  });
  const child = spawn(bwrap.path, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches us, and we decide when it stops.
    detached: true,
    env: {},
    cwd: '/',
    ...(bwrap.runAs ? { uid: bwrap.runAs.uid, gid: bwrap.runAs.gid } : {}),
  });
  await new Promise<void>((resolveSpawn, reject) => {
    child.once('spawn', resolveSpawn);
    child.once('error', (error) => reject(new InfraError('sandbox', `could not start bwrap (${bwrap.path}): ${error.message}`, { retryable: false, cause: error })));
  });
  return { child, stop: (graceMs = 2000) => stop(child, graceMs) };
}

async function stop(child: ChildProcessWithoutNullStreams, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolveExit) => child.once('close', () => resolveExit()));
  child.stdin.end();
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout('timeout'), graceMs);
  });
  const first = await Promise.race([exited.then(() => 'exited' as const), graceOver]);
  clearTimeout(timer);
  if (first === 'exited') return;
  try {
    // bwrap leads the group; the pid namespace takes everything inside down with it.
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  await exited;
}
