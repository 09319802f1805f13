// Where bwrap sandboxes keep their work dirs on the host. Each Gauntlet process owns one folder,
// named after its pid and kernel start time, under a per-user parent. A process killed with
// SIGKILL cannot clean up after itself, so the first sandbox of every process removes the
// folders (and the tmpfs mounted in them) of owners that no longer run; the start time keeps a
// reused pid from passing for the dead owner.
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage, InfraError } from '../core/index.ts';

/** `<pid>-<start time>`: the owner record is the folder's name, which nothing inside a sandbox can change. */
const OWNER_FOLDER = /^(\d+)-(\d+)$/;

/** The per-user parent of every process's folder (under the shared temp dir, so it is checked before use). */
export function sandboxesRoot(): string {
  return join(tmpdir(), `gauntlet-sandboxes-${process.getuid?.() ?? 'user'}`);
}

interface ProcessStat {
  state: string;
  /** Clock ticks after boot when the process started (field 22 of /proc/<pid>/stat). */
  startTime: string;
}

function readStat(pid: number): ProcessStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2 is the command name in parentheses and may itself hold spaces or ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, startTime] = [fields[0], fields[19]];
  return state && startTime ? { state, startTime } : null;
}

/** Whether the process that made a folder still runs: same pid, same start time, not a zombie. */
export function ownerRunning(pid: number, startTime: string): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
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
  const self = readStat(process.pid);
  if (!self) throw new InfraError('sandbox', 'cannot read /proc/self/stat: bwrap sandboxes need Linux with /proc mounted', { retryable: false });
  const dir = join(root, `${process.pid}-${self.startTime}`);
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

export interface ReapReport {
  /** Folders of owners that no longer run, removed with their mounts. */
  removed: string[];
  failed: { dir: string; error: string }[];
}

/** Removes the folders of every owner that no longer runs. Folders of running processes are never touched. */
export function reapLeftovers(): ReapReport {
  const root = ensureRoot();
  const report: ReapReport = { removed: [], failed: [] };
  for (const name of readdirSync(root)) {
    const owner = OWNER_FOLDER.exec(name);
    // Anything not named like an owner record was not made by Gauntlet: leave it alone.
    if (!owner || ownerRunning(Number(owner[1]), owner[2]!)) continue;
    const dir = join(root, name);
    try {
      removeTree(dir);
      report.removed.push(dir);
    } catch (error) {
      report.failed.push({ dir, error: errorMessage(error) });
    }
  }
  return report;
}

let reaped = false;

/** Reaps once per process, before its first sandbox; leftovers that resist are reported, not fatal. */
export function reapLeftoversOnce(): void {
  if (reaped) return;
  reaped = true;
  const { failed } = reapLeftovers();
  for (const { dir, error } of failed) process.stderr.write(`gauntlet: could not remove the leftover sandbox folder ${dir}: ${error}\n`);
}
