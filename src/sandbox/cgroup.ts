// Whole-sandbox limits with cgroups v2: one cgroup per sandbox holding every process it starts,
// so memory (memory.max, no swap) is the sum over its processes, and process count (pids.max) and
// CPU time (cpu.max) are the sandbox's too. Sandbox cgroups live in one folder per Gauntlet
// process, `<parent>/gauntlet/<pid>-<start time>/sbx-…`, where <parent> is the parent of the
// cgroup Gauntlet runs in: cgroup v2 lets only a cgroup without processes of its own hand
// controllers to children, and ours holds at least Gauntlet itself. Where none of this is possible
// (cgroup v1 or a hybrid host, a read-only /sys/fs/cgroup in a container, no delegation), the
// sandbox falls back to per-process limits and says why once.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, InfraError } from '../core/index.ts';
import type { ResolvedLimits } from './limits.ts';
import { ownerGone, ownName } from './owners.ts';

export type CgroupController = 'memory' | 'pids' | 'cpu';
const WANTED: CgroupController[] = ['memory', 'pids', 'cpu'];

export type ResourceControl =
  | {
      mode: 'cgroup-v2';
      /** The folder every Gauntlet process's sandbox cgroups go in, one subfolder each (what the reaper scans). */
      root: string;
      /** This process's folder. */
      folder: string;
      controllers: CgroupController[];
    }
  | { mode: 'per-process'; reason: string };
export type CgroupControl = Extract<ResourceControl, { mode: 'cgroup-v2' }>;

/** The few file operations cgroup management needs, so that tests can run it on a model of cgroupfs. */
export interface CgroupFs {
  read(path: string): string;
  write(path: string, data: string): void;
  mkdir(path: string): void;
  rmdir(path: string): void;
  /** Child cgroups (sub-directories). */
  list(path: string): string[];
  exists(path: string): boolean;
}

export const hostCgroupFs: CgroupFs = {
  read: (path) => readFileSync(path, 'utf8'),
  write: (path, data) => writeFileSync(path, data),
  mkdir: (path) => mkdirSync(path),
  rmdir: (path) => rmdirSync(path),
  list: (path) =>
    readdirSync(path, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name),
  exists: (path) => existsSync(path),
};

export interface CgroupHost {
  fs: CgroupFs;
  /** Where a cgroup v2 hierarchy must be mounted to be used. */
  mountPoint: string;
  /** Contents of /proc/self/mountinfo and /proc/self/cgroup. */
  mountinfo: string;
  selfCgroup: string;
  /** This process's owner record (owners.ts). */
  owner: string;
}

const unescapeMount = (raw: string) => raw.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** The file-system type mounted at `point` (the last mount there wins), or null. */
function mountType(mountinfo: string, point: string): string | null {
  let type: string | null = null;
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    if (unescapeMount(left.split(' ')[4] ?? '') === point) type = right.split(' ')[0] ?? null;
  }
  return type;
}

const words = (text: string) => text.trim().split(/\s+/).filter(Boolean);

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/** Turns on `controllers` for the children of `dir` (those already on are left alone). */
function delegate(fs: CgroupFs, dir: string, controllers: CgroupController[]): void {
  const on = new Set(words(fs.read(join(dir, 'cgroup.subtree_control'))));
  const missing = controllers.filter((c) => !on.has(c));
  if (missing.length > 0) fs.write(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
}

function mkdirIfMissing(fs: CgroupFs, dir: string): void {
  try {
    fs.mkdir(dir);
  } catch (error) {
    if (codeOf(error) !== 'EEXIST') throw error;
  }
}

/** Where sandbox cgroups can go on this host, or why they cannot. Creates this process's folder. */
export function detectResourceControl(host: CgroupHost): ResourceControl {
  const { fs, mountPoint } = host;
  const type = mountType(host.mountinfo, mountPoint);
  if (type !== 'cgroup2') {
    const what = type === null ? 'nothing is mounted there' : `it is ${type}, a cgroup v1 or hybrid layout`;
    return { mode: 'per-process', reason: `${mountPoint} is not a cgroup v2 hierarchy (${what})` };
  }
  const own = /^0::(\/.*)$/m.exec(host.selfCgroup)?.[1];
  if (!own) return { mode: 'per-process', reason: 'this process is in no cgroup v2 cgroup (/proc/self/cgroup has no "0::" line)' };
  const ownDir = join(mountPoint, own);
  // Our own cgroup holds processes (us), so it cannot delegate; its parent can, unless we are at the top.
  const parent = own === '/' ? mountPoint : dirname(ownDir);
  let available: CgroupController[];
  try {
    const offered = new Set(words(fs.read(join(parent, 'cgroup.controllers'))));
    available = WANTED.filter((c) => offered.has(c));
  } catch (error) {
    return { mode: 'per-process', reason: `cannot read ${join(parent, 'cgroup.controllers')}: ${errorMessage(error)}` };
  }
  if (!available.includes('memory')) return { mode: 'per-process', reason: `the memory controller is not available in ${parent}` };
  try {
    delegate(fs, parent, available);
  } catch (error) {
    const why =
      codeOf(error) === 'EBUSY'
        ? `${parent} holds processes of its own, so cgroup v2 lets it hand no controllers to child cgroups; run Gauntlet in a cgroup of its own (systemd-run --scope, or a container whose init lives in a child cgroup)`
        : `cannot enable ${available.join(', ')} for the children of ${parent} (${errorMessage(error)}); run as root or in a delegated cgroup`;
    return { mode: 'per-process', reason: why };
  }
  const root = join(parent, 'gauntlet');
  const folder = join(root, host.owner);
  try {
    mkdirIfMissing(fs, root);
    delegate(fs, root, available);
    mkdirIfMissing(fs, folder);
    delegate(fs, folder, available);
    // One throwaway sandbox cgroup proves that limits can be written here before any sandbox relies on it.
    const probe = join(folder, `probe-${randomBytes(4).toString('hex')}`);
    fs.mkdir(probe);
    try {
      fs.write(join(probe, 'memory.max'), 'max');
    } finally {
      fs.rmdir(probe);
    }
  } catch (error) {
    return { mode: 'per-process', reason: `cannot create sandbox cgroups under ${root}: ${errorMessage(error)}` };
  }
  return { mode: 'cgroup-v2', root, folder, controllers: available };
}

/** cpu.max's period: the default 100 ms. The kernel refuses quotas under 1 ms. */
const CPU_PERIOD_US = 100_000;
/** pids.max counts the sandbox's own plumbing too: bwrap outside, the supervisor or bwrap's init inside, the shell wrapper. */
const PIDS_OVERHEAD = 4;

/** One sandbox's cgroup. Its processes are placed in it before they start anything (see bwrap-process.ts). */
export class SandboxCgroup {
  private constructor(
    readonly path: string,
    private readonly fs: CgroupFs,
  ) {}

  static create(control: CgroupControl, limits: ResolvedLimits, fs: CgroupFs = hostCgroupFs): SandboxCgroup {
    const path = join(control.folder, `sbx-${randomBytes(6).toString('hex')}`);
    try {
      fs.mkdir(path);
    } catch (error) {
      throw new InfraError('sandbox', `cannot create the sandbox cgroup ${path}: ${errorMessage(error)}`, { cause: error });
    }
    const cgroup = new SandboxCgroup(path, fs);
    try {
      const has = (c: CgroupController) => control.controllers.includes(c);
      // memory.oom.group stays off: the OOM killer takes the largest process, not the whole sandbox.
      if (has('memory')) {
        fs.write(join(path, 'memory.max'), String(limits.memoryBytes));
        // Absent when the kernel does not account swap; then there is none to limit.
        if (fs.exists(join(path, 'memory.swap.max'))) fs.write(join(path, 'memory.swap.max'), '0');
      }
      if (has('pids')) fs.write(join(path, 'pids.max'), String(limits.maxProcesses + PIDS_OVERHEAD));
      if (has('cpu')) fs.write(join(path, 'cpu.max'), `${Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US))} ${CPU_PERIOD_US}`);
    } catch (error) {
      fs.rmdir(path);
      throw new InfraError('sandbox', `cannot set the limits of the sandbox cgroup ${path}: ${errorMessage(error)}`, { cause: error });
    }
    return cgroup;
  }

  /** Moves a process in; everything it starts from then on is in the sandbox's cgroup. */
  enter(pid: number): void {
    this.fs.write(join(this.path, 'cgroup.procs'), String(pid));
  }

  /** Kills every process in it, waits until it is empty, and removes it. */
  async remove(): Promise<void> {
    const deadline = Date.now() + 5000;
    for (;;) {
      killAll(this.fs, this.path);
      try {
        this.fs.rmdir(this.path);
        return;
      } catch (error) {
        if (codeOf(error) === 'ENOENT') return;
        // EBUSY while the killed processes are still exiting.
        if (codeOf(error) !== 'EBUSY' || Date.now() > deadline) {
          throw new InfraError('sandbox', `cannot remove the sandbox cgroup ${this.path}: ${errorMessage(error)}`, { cause: error });
        }
      }
      await sleep(10);
    }
  }
}

/** SIGKILL to everything in a cgroup: cgroup.kill where the kernel has it (5.14+), else pid by pid. */
function killAll(fs: CgroupFs, path: string): void {
  try {
    if (fs.exists(join(path, 'cgroup.kill'))) {
      fs.write(join(path, 'cgroup.kill'), '1');
      return;
    }
    for (const pid of words(fs.read(join(path, 'cgroup.procs')))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw error;
  }
}

/** Blocks the thread for a moment: the reaper runs once, before the first sandbox, and is synchronous. */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Removes one cgroup after killing what is in it, waiting up to 2 s for the processes to exit. */
function removeNow(fs: CgroupFs, path: string): void {
  const deadline = Date.now() + 2000;
  for (;;) {
    killAll(fs, path);
    try {
      fs.rmdir(path);
      return;
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return;
      if (codeOf(error) !== 'EBUSY' || Date.now() > deadline) throw error;
    }
    pause(10);
  }
}

export interface CgroupReapReport {
  removed: string[];
  failed: { path: string; error: string }[];
}

/** Kills and removes the sandbox cgroups of every Gauntlet process that no longer runs. */
export function reapCgroups(control: CgroupControl, fs: CgroupFs = hostCgroupFs): CgroupReapReport {
  const report: CgroupReapReport = { removed: [], failed: [] };
  for (const name of fs.list(control.root)) {
    if (!ownerGone(name)) continue;
    const folder = join(control.root, name);
    try {
      for (const leaf of fs.list(folder)) removeNow(fs, join(folder, leaf));
      fs.rmdir(folder);
      report.removed.push(folder);
    } catch (error) {
      report.failed.push({ path: folder, error: errorMessage(error) });
    }
  }
  return report;
}

let detected: ResourceControl | undefined;

/** How this host limits a sandbox as a whole, found out once per process. */
export function resourceControl(): ResourceControl {
  if (detected) return detected;
  const owner = ownName();
  if (!owner) {
    detected = { mode: 'per-process', reason: 'cannot read /proc/self/stat' };
    return detected;
  }
  let mountinfo: string;
  let selfCgroup: string;
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
    selfCgroup = readFileSync('/proc/self/cgroup', 'utf8');
  } catch (error) {
    detected = { mode: 'per-process', reason: `cannot read /proc/self: ${errorMessage(error)}` };
    return detected;
  }
  detected = detectResourceControl({ fs: hostCgroupFs, mountPoint: '/sys/fs/cgroup', mountinfo, selfCgroup, owner });
  if (detected.mode === 'cgroup-v2') {
    const { folder } = detected;
    // Sandboxes still open at exit were killed with us (--die-with-parent); their cgroups go too.
    process.once('exit', () => {
      try {
        for (const leaf of hostCgroupFs.list(folder)) removeNow(hostCgroupFs, join(folder, leaf));
        hostCgroupFs.rmdir(folder);
      } catch {
        // the next Gauntlet process reaps it
      }
    });
  }
  return detected;
}
