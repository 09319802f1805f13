// Where bwrap sandboxes keep their work dirs on the host. Each Gauntlet process owns one folder,
// named after its pid and kernel start time (owners.ts), under a per-user parent. A process killed
// with SIGKILL cannot clean up after itself, so the first sandbox of every process reaps what
// owners that no longer run left behind: processes, folders (and the tmpfs mounted in them), and
// sandbox cgroups.
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { errorMessage, InfraError } from '../core/index.ts';
import { reapCgroups, resourceControl } from './cgroup.ts';
import { ownerGone, ownerRunning, ownName, startTimeOf } from './owners.ts';

const run = promisify(execFile);

/** The per-user parent of every process's folder (under the shared temp dir, so it is checked before use). */
export function sandboxesRoot(): string {
  return join(tmpdir(), `gauntlet-sandboxes-${process.getuid?.() ?? 'user'}`);
}

/** The mount points at or below `dir`, deepest first (/proc/self/mountinfo escapes spaces as \040). */
export function mountsUnder(dir: string): string[] {
  const found: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const raw = line.split(' ')[4];
    if (!raw) continue;
    const point = raw.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    if (point === dir || point.startsWith(`${dir}/`)) found.push(point);
  }
  return found.sort((a, b) => b.length - a.length);
}

/** Lazily unmounts everything mounted below `dir` (busy mounts detach now, vanish when idle), then deletes it. */
export function removeTree(dir: string): void {
  for (const point of mountsUnder(dir)) execFileSync('umount', ['-l', point], { stdio: 'ignore', timeout: 10_000 });
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The parent folder, created when missing. It lives in a shared temp dir, so a folder someone
 * else made (or a symlink planted in its place) is refused rather than used.
 */
function ensureRoot(): string {
  const root = sandboxesRoot();
  try {
    mkdirSync(root, { mode: 0o711 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new InfraError('sandbox', `cannot create the sandboxes folder ${root}: ${errorMessage(error)}`, { retryable: false, cause: error });
    }
  }
  const stat = lstatSync(root);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
    throw new InfraError('sandbox', `${root} is not a private directory owned by uid ${uid ?? '?'} (a symlink, someone else's, or group/world-writable); remove it and try again`, {
      retryable: false,
    });
  }
  // Others need to pass through (not list) it: as root, bwrap runs as an unprivileged uid.
  if ((stat.mode & 0o777) !== 0o711) chmodSync(root, 0o711);
  return realpathSync(root);
}

let ownFolder: string | undefined;

/** This process's folder, made on first use; whatever is left in it is removed when the process exits. */
function ownDir(): string {
  if (ownFolder) return ownFolder;
  const root = ensureRoot();
  const owner = ownName();
  if (!owner) throw new InfraError('sandbox', 'cannot read /proc/self/stat: bwrap sandboxes need Linux with /proc mounted', { retryable: false });
  const dir = join(root, owner);
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  chmodSync(dir, 0o711);
  // Covers process.exit() and a natural end with sandboxes still open; SIGKILL is the reaper's job.
  process.once('exit', () => {
    try {
      removeTree(dir);
    } catch {
      // the next Gauntlet process reaps it
    }
  });
  ownFolder = dir;
  return dir;
}

/** A fresh, empty folder for one sandbox work dir (or a probe) inside this process's folder. */
export function makeHostDir(prefix: 'sbx' | 'probe'): Promise<string> {
  return mkdtemp(join(ownDir(), `${prefix}-`));
}

let runtime: Promise<string> | undefined;

/**
 * This process's folder for what all its sandboxes share read-only (the supervisor's shell). With
 * `tmpfs`, it is a small tmpfs of its own, so a bind mount from it shows no host path inside.
 */
export function runtimeDir(options: { tmpfs: boolean }): Promise<string> {
  runtime ??= (async () => {
    const dir = join(ownDir(), 'rt');
    await mkdir(dir, { mode: 0o711 });
    if (options.tmpfs) await run('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0711,nosuid,nodev', 'tmpfs', dir], { timeout: 10_000 });
    return dir;
  })();
  return runtime;
}

export interface ReapReport {
  /** Folders of owners that no longer run, removed with their mounts. */
  removed: string[];
  failed: { dir: string; error: string }[];
  /** Recorded processes still running for an owner that no longer runs (a sandbox's bwrap), killed. */
  killed: number[];
  /** Sandbox cgroups of owners that no longer run, killed and removed (where cgroups v2 are in use). */
  cgroups: string[];
}

/** The record of the bwrap processes an owner started, one `<pid> <start time>` per line. */
const PROCESS_RECORD = 'processes';

/**
 * Notes a bwrap process this process started, so that it can be found should we die without it:
 * bwrap's command line names nothing of ours (its arguments come through a pipe, so that they
 * cannot be read from inside the sandbox either).
 */
export function recordProcess(pid: number): void {
  const started = startTimeOf(pid);
  if (started) appendFileSync(join(ownDir(), PROCESS_RECORD), `${pid} ${started}\n`);
}

/**
 * Recorded processes of a dead owner that still run (the same pid and start time): a sandbox's
 * bwrap. `--die-with-parent` normally takes them down with their owner; this catches any that outlived it.
 */
function leftoverProcesses(folder: string): number[] {
  let record: string;
  try {
    record = readFileSync(join(folder, PROCESS_RECORD), 'utf8');
  } catch {
    return [];
  }
  return record
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([pid, started]) => pid && started && ownerRunning(Number(pid), started))
    .map(([pid]) => Number(pid));
}

/** Reaps everything of every owner that no longer runs. Nothing of a running process is ever touched. */
export function reapLeftovers(): ReapReport {
  const root = ensureRoot();
  const report: ReapReport = { removed: [], failed: [], killed: [], cgroups: [] };
  // Anything not named like an owner record was not made by Gauntlet: leave it alone.
  const dead = readdirSync(root)
    .filter(ownerGone)
    .map((name) => join(root, name));
  for (const pid of dead.flatMap(leftoverProcesses)) {
    try {
      process.kill(pid, 'SIGKILL');
      report.killed.push(pid);
    } catch {
      // gone already
    }
  }
  for (const dir of dead) {
    try {
      removeTree(dir);
      report.removed.push(dir);
    } catch (error) {
      report.failed.push({ dir, error: errorMessage(error) });
    }
  }
  const control = resourceControl();
  if (control.mode === 'cgroup-v2') {
    const cgroups = reapCgroups(control);
    report.cgroups = cgroups.removed;
    for (const { path, error } of cgroups.failed) report.failed.push({ dir: path, error });
  }
  return report;
}

let reaped = false;

/** Reaps once per process, before its first sandbox; leftovers that resist are reported, not fatal. */
export function reapLeftoversOnce(): void {
  if (reaped) return;
  reaped = true;
  const { failed } = reapLeftovers();
  for (const { dir, error } of failed) process.stderr.write(`gauntlet: could not remove the leftover sandbox folder or cgroup ${dir}: ${error}\n`);
}
