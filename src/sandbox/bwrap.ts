// The bubblewrap backend: commands run over a read-only system with a private writable work dir
// that lives on the host (a size-limited tmpfs where mounting works), in this process's folder of
// host-dirs.ts, so a killed process's work dirs are reaped later. Two modes:
// - `persistent` (the default): one long-lived sandbox per Sandbox, whose supervisor runs each
//   command (bwrap-instance.ts); files, /tmp and /dev/shm carry over between commands, processes
//   do not;
// - `fresh`: new namespaces for every command, as before; kept for comparison and benchmarks.
// Both apply the seccomp filter (seccomp.ts) and, where the host allows it, one cgroup per
// sandbox (cgroup.ts) holding every process the sandbox runs.
import { execFile } from 'node:child_process';
import { constants, type Stats } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, lchown, lstat, mkdir, open, readdir, readlink, realpath, rename, rm, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { errorMessage, InfraError, type ExecOptions, type ExecResult, type Sandbox } from '../core/index.ts';
import { WorkdirSandbox } from './base.ts';
import { bwrapArgs, checkEnvNames, inodeLimit, SCRATCH_MOUNTS, scratchBytes, supervisorArgs } from './bwrap-args.ts';
import { SupervisedInstance, supervisorBinary } from './bwrap-instance.ts';
import { runContained, type BwrapLaunch, type ContainedResult, type ContainedRun, type RunAs } from './bwrap-process.ts';
import { resourceControl, SandboxCgroup } from './cgroup.ts';
import { readAtMost, WorkdirFiles, type FileDigest, type FsAdapter } from './files.ts';
import { makeHostDir, reapLeftoversOnce } from './host-dirs.ts';
import { effectiveTimeout, type ResolvedLimits } from './limits.ts';
import { relativeToWorkdir, SandboxPathError } from './paths.ts';
import type { BwrapSupport } from './probe.ts';
import { findOnPath } from './probe.ts';
import { seccompFilter } from './seccomp.ts';
import { SUPERVISOR_DIR } from './supervisor.ts';

const run = promisify(execFile);

export type BwrapMode = 'persistent' | 'fresh';

interface Setup {
  support: BwrapSupport & { path: string };
  hostDir: string;
  workdir: string;
  limits: ResolvedLimits;
  mode: BwrapMode;
  mounted: boolean;
  cgroup: SandboxCgroup | undefined;
  seccomp: Buffer | undefined;
}

/** A command that never ran: the sandbox said why on stderr, as the command's own failure. */
const refusedCommand = (why: string): ExecResult => ({ exitCode: 1, stdout: '', stderr: `sandbox: ${why}\n`, timedOut: false, truncated: false, durationMs: 0 });

const CLOSED_WHILE_RUNNING = 'the sandbox was closed while the command ran';

/** A command the sandbox's closing overtook: the sandbox failed, not the command (as when its instance dies). */
function closedUnder(result: ContainedResult): ContainedResult {
  const stderr = `${result.stderr}${result.stderr && !result.stderr.endsWith('\n') ? '\n' : ''}sandbox: ${CLOSED_WHILE_RUNNING}\n`;
  return { ...result, exitCode: 137, aborted: false, stderr, sandboxFailure: CLOSED_WHILE_RUNNING };
}

const NOT_RUN: ContainedResult = { exitCode: 137, stdout: '', stderr: '', timedOut: false, truncated: false, aborted: false, durationMs: 0 };

/** What the Sandbox contract reports of a run. */
function execResult(result: ContainedResult): ExecResult {
  return {
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    timedOut: result.timedOut,
    truncated: result.truncated,
    durationMs: result.durationMs,
    ...(result.sandboxFailure !== undefined ? { sandboxFailure: result.sandboxFailure } : {}),
  };
}

class BwrapSandbox extends WorkdirSandbox {
  override readonly backend = 'bwrap' as const;
  private instance: Promise<SupervisedInstance> | undefined;
  /** Aborts on close: `fresh` commands (each a bwrap of its own) are killed with the sandbox. */
  private readonly closing = new AbortController();
  /** `fresh` commands running now; close waits for them to be gone before removing the work dir. */
  private readonly freshRuns = new Set<Promise<ContainedResult>>();

  constructor(private readonly setup: Setup) {
    super(setup.workdir, new WorkdirFiles(hostAdapter(setup.support.runAs, setup.hostDir), setup.hostDir, setup.workdir));
  }

  private launch(args: string[]): BwrapLaunch {
    const { support, seccomp, cgroup } = this.setup;
    return { bwrapPath: support.path, args, runAs: support.runAs, ...(seccomp ? { seccomp } : {}), ...(cgroup ? { cgroup } : {}) };
  }

  /** The running instance, or a new one when the last has died (its /tmp goes with it; the work dir stays). */
  async started(): Promise<SupervisedInstance> {
    const current = await this.instance;
    if (current?.alive) return current;
    // Nothing new starts once closing: it would outlive the sandbox.
    this.assertOpen('exec');
    const { hostDir, workdir, limits, mounted } = this.setup;
    const next = supervisorBinary({ tmpfs: mounted })
      .then((binary) => SupervisedInstance.start(this.launch(supervisorArgs({ hostDir, workdir, limits, supervisorBinary: binary })), workdir))
      .then(async (instance) => {
        // Where we may mount, before any command runs in it (the first has not been sent yet).
        if (mounted) await boundScratchFiles(instance, limits).catch(async (error: unknown) => {
          await instance.kill();
          throw error;
        });
        return instance;
      });
    this.instance = next;
    // A failed start is not kept: the next command tries again.
    next.catch(() => {
      if (this.instance === next) this.instance = undefined;
    });
    return next;
  }

  override async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    this.assertOpen('exec');
    const { workdir, limits } = this.setup;
    const cwd = options.cwd === undefined ? workdir : posix.resolve(workdir, options.cwd);
    const cwdProblem = await this.checkCwd(cwd);
    // Closed while we looked: nothing may start now.
    if (this.closed) return execResult(closedUnder(NOT_RUN));
    if (cwdProblem) return refusedCommand(cwdProblem);
    const env = options.env ?? {};
    checkEnvNames(env);
    const timeoutMs = effectiveTimeout(options.timeoutMs, limits);
    const budget = { timeoutMs, maxOutputBytes: limits.maxOutputBytes, ...(options.signal ? { signal: options.signal } : {}) };
    let result: ContainedResult;
    if (this.setup.mode === 'fresh') {
      const args = bwrapArgs({ hostDir: this.setup.hostDir, workdir, limits, cwd, command, env });
      result = await this.runFresh({ ...this.launch(args), ...budget, ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });
    } else {
      const stdin = options.stdin ?? '';
      // The agent's input, too big for where the supervisor keeps it: its command fails, as it would on any machine.
      if (Buffer.byteLength(stdin) > scratchBytes(limits)) {
        return refusedCommand(`stdin of ${Buffer.byteLength(stdin)} bytes is more than the sandbox's scratch space (${scratchBytes(limits)} bytes)`);
      }
      result = await (await this.started()).run({ cwd, command, env, stdin }, budget);
    }
    return execResult(result);
  }

  /** One `fresh` command, killed if the sandbox closes under it; then the sandbox failed, not the command. */
  private async runFresh(run: ContainedRun): Promise<ContainedResult> {
    const signal = run.signal ? AbortSignal.any([run.signal, this.closing.signal]) : this.closing.signal;
    const running = runContained({ ...run, signal });
    this.freshRuns.add(running);
    try {
      const result = await running;
      return this.closing.signal.aborted && result.sandboxFailure === undefined ? closedUnder(result) : result;
    } finally {
      this.freshRuns.delete(running);
    }
  }

  /** Only directories inside the work dir can be checked from here; others are the sandbox's to refuse. */
  private async checkCwd(cwd: string): Promise<string | null> {
    const rel = relativeToWorkdir(cwd, this.setup.workdir);
    if (!rel.ok) return null;
    try {
      const stat = await lstat(join(this.setup.hostDir, rel.rel));
      return stat.isDirectory() ? null : `working directory ${cwd} is not a directory`;
    } catch {
      return `working directory ${cwd} does not exist`;
    }
  }

  /** Host pids of the processes that keep this sandbox open while it idles (none in `fresh` mode). */
  async idleProcesses(): Promise<number[]> {
    const instance = await this.instance?.catch(() => undefined);
    return instance?.alive ? instance.idleProcesses() : [];
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const { hostDir, mounted, cgroup } = this.setup;
    this.closing.abort();
    await Promise.allSettled(this.freshRuns);
    const instance = await this.instance?.catch(() => undefined);
    await instance?.kill();
    await cgroup?.remove();
    if (mounted) await run('umount', ['-l', hostDir], { timeout: 10_000 }).catch(() => undefined);
    await rm(hostDir, { recursive: true, force: true });
  }
}

/**
 * Runs `use` on the folder at `path` once it is held open (without following a link there) and
 * proved inside `root`: a command may swap a folder on the path for a symlink after the walk in
 * files.ts. `use` gets `/proc/self/fd/N`, and a name under it resolves in the folder held, as
 * openat(2) would, however the path changes meanwhile.
 */
async function inFolder<T>(root: string, path: string, use: (held: string) => Promise<T>): Promise<T> {
  const swapped = () => new SandboxPathError(`sandbox: the folder ${JSON.stringify(path.slice(root.length + 1) || '.')} changed into a link or a file, or leads outside the work dir`);
  const folder = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOTDIR' || error.code === 'ELOOP' ? swapped() : error;
  });
  try {
    const opened = await readlink(`/proc/self/fd/${folder.fd}`);
    if (opened !== root && !opened.startsWith(`${root}/`)) throw swapped();
    return await use(`/proc/self/fd/${folder.fd}`);
  } finally {
    await folder.close();
  }
}

/** Runs `use` on `path`'s last component inside its parent folder, held and proved inside `root` (creating through a swapped folder would leave an empty file or folder outside). */
function inParent<T>(root: string, path: string, use: (at: string) => Promise<T>): Promise<T> {
  return inFolder(root, posix.dirname(path), (held) => use(`${held}/${posix.basename(path)}`));
}

/**
 * Opens a file the walk in files.ts resolved inside `root`, and proves the open file is that: a
 * command may swap the path (or a folder on it) for a symlink between the check and the open, so
 * the last component is opened with O_NOFOLLOW and the file actually opened (its /proc/self/fd
 * link) must be a regular file inside `root`. O_NONBLOCK keeps a FIFO swapped in from blocking us.
 */
async function openInside(root: string, path: string, flags: number): Promise<FileHandle> {
  const handle = await inParent(root, path, (at) => open(at, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK));
  try {
    const opened = await readlink(`/proc/self/fd/${handle.fd}`);
    if (!(await handle.stat()).isFile() || !opened.startsWith(`${root}/`)) {
      throw new SandboxPathError(`sandbox: ${JSON.stringify(path.slice(root.length + 1))} changed into a link or special file while it was opened`);
    }
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The file `openInside` opens, whole, or within `maxBytes` (readAtMost: the open file is measured and read, never the path again). */
async function readInside(root: string, path: string, maxBytes?: number): Promise<Buffer> {
  const handle = await openInside(root, path, constants.O_RDONLY);
  try {
    return maxBytes === undefined ? await handle.readFile() : await readAtMost(handle, maxBytes, path);
  } finally {
    await handle.close();
  }
}

/**
 * Writes a file with other names (hard links) in place, as a shell's `>` does, so that every name
 * sees the new content; false, having written nothing, when `target` is no longer the file `old`
 * described (a command swapped it), or there is no room for the content. Every name of the file is
 * in the work dir: link(2) cannot cross mounts, and only the work dir is mounted from this file
 * system. The file is opened by its own name in the folder held, without following a link, and
 * must be the regular file `old` described.
 */
async function writeInPlace(folder: string, target: string, old: Stats, content: string): Promise<boolean> {
  const bytes = Buffer.from(content, 'utf8');
  const handle = await open(target, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!handle) return false;
  try {
    const now = await handle.stat();
    if (!now.isFile() || now.ino !== old.ino || now.dev !== old.dev) return false;
    // Truncating first frees the old blocks: what is free now plus them must hold the new content,
    // else the file would be left half written (the replacing write then fails cleanly instead).
    const fs = await statfs(folder);
    if (fs.bavail * fs.bsize + now.blocks * 512 < bytes.length) return false;
    await handle.truncate(0);
    await handle.writeFile(bytes);
    return true;
  } finally {
    await handle.close();
  }
}

/**
 * Writes `content` to a new file beside `path`, then renames it over `path`, so a write that fails
 * (a full disk) leaves the old content whole. Both happen in the parent folder held open and proved
 * inside `root`; the rename replaces whatever is at `path` itself (a link swapped in is replaced,
 * never followed). A file that was there keeps its permissions; one with hard links is written in
 * place instead (writeInPlace), so its other names do not keep the old content.
 */
async function writeReplacing(root: string, path: string, content: string, owner: RunAs | undefined): Promise<void> {
  await inFolder(root, posix.dirname(path), async (folder) => {
    const target = `${folder}/${posix.basename(path)}`;
    // Its own name, not the target's: a long name plus a suffix could pass the file system's limit.
    const temporary = `${folder}/.gauntlet-write-${randomBytes(8).toString('hex')}`;
    const old = await lstat(target).catch(() => null);
    if (old?.isFile() && old.nlink > 1 && (await writeInPlace(folder, target, old, content))) return;
    const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW);
    try {
      try {
        await handle.writeFile(content, 'utf8');
        if (old?.isFile()) await handle.chmod(old.mode & 0o7777);
        if (owner) await handle.chown(owner.uid, owner.gid);
      } finally {
        await handle.close();
      }
      await rename(temporary, target);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  });
}

/** The host side of the work dir; as root, what it creates is handed to the sandbox's uid. */
/** What a listing's hash reads of a file at a time: a file as large as the sandbox's disk is never held whole. */
const DIGEST_CHUNK_BYTES = 1024 * 1024;

/** The size and SHA-256 of the file `openInside` opens, read a chunk at a time. */
async function digestInside(root: string, path: string): Promise<FileDigest> {
  const handle = await openInside(root, path, constants.O_RDONLY);
  try {
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(DIGEST_CHUNK_BYTES);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, size);
      if (bytesRead === 0) break;
      hash.update(chunk.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { size, sha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

export function hostAdapter(owner: RunAs | undefined, root: string): FsAdapter {
  return {
    kind: async (path) => {
      try {
        const stat = await lstat(path);
        return stat.isSymbolicLink() ? 'symlink' : stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : 'other';
      } catch {
        return null;
      }
    },
    realpath: (path) => realpath(path).catch(() => null),
    mkdir: (path) =>
      inParent(root, path, async (at) => {
        await mkdir(at);
        if (owner) await lchown(at, owner.uid, owner.gid);
      }),
    readText: async (path, maxBytes) => (await readInside(root, path, maxBytes)).toString('utf8'),
    digest: (path) => digestInside(root, path),
    writeText: (path, content) => writeReplacing(root, path, content, owner),
    // Through the folder held open and proved inside, so a folder swapped for a link lists nothing outside.
    readdir: (path) => inFolder(root, path, (folder) => readdir(folder)),
    readlink: (path) => readlink(path),
  };
}

/**
 * Bounds the number of files in the sandbox's in-memory /tmp, /dev/shm and supervisor folder, as
 * the work dir's tmpfs is bounded: bwrap can size them but not bound their files, and a command
 * could otherwise fill them with millions of empty files, gigabytes of kernel memory the size and
 * (without cgroups v2) memory limits do not count. Root on the host remounts them from outside,
 * in the sandbox's mount namespace, keeping nosuid and nodev (a remount would drop them).
 */
async function boundScratchFiles(instance: SupervisedInstance, limits: ResolvedLimits): Promise<void> {
  const nsenter = findOnPath('nsenter');
  const pid = instance.initPid;
  if (!nsenter || pid === null) {
    warnUnbounded(nsenter ? 'the sandbox has no init process to find its mounts by' : 'nsenter (util-linux) is not on PATH');
    return;
  }
  const remount = (point: string) => `mount -o remount,nosuid,nodev,nr_inodes=${inodeLimit(scratchBytes(limits))} ${point}`;
  const script = [...SCRATCH_MOUNTS, SUPERVISOR_DIR].map(remount).join(' && ');
  try {
    await run(nsenter, ['-t', String(pid), '-m', '--', '/bin/sh', '-c', script], { timeout: 10_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  } catch (error) {
    throw new InfraError('sandbox', `could not bound the files of the sandbox's /tmp: ${errorMessage(error)}`, { kind: 'crash', cause: error });
  }
}

let warnedUnbounded = false;

function warnUnbounded(why: string): void {
  if (warnedUnbounded) return;
  warnedUnbounded = true;
  process.stderr.write(`gauntlet: the number of files in a bwrap sandbox's /tmp and /dev/shm is not bounded here (${why})\n`);
}

let warned = false;

/** Says once per process what hardening this host cannot give, so nobody assumes it. */
function warnOnce(seccomp: Buffer | undefined): void {
  if (warned) return;
  warned = true;
  const control = resourceControl();
  if (control.mode === 'per-process') {
    process.stderr.write(
      `gauntlet: whole-sandbox limits are off: ${control.reason}. Each process in a sandbox is still limited (address space, file size, process count), but their memory is not summed, so several together can exceed the sandbox's memory limit.\n`,
    );
  }
  if (!seccomp) process.stderr.write(`gauntlet: no seccomp filter for the ${process.arch} architecture; bwrap sandboxes run without one\n`);
}

/**
 * A tmpfs of `diskBytes` at `hostDir`. Its failure names neither the mount command nor the host's
 * paths: over a sandbox server the message goes to the client.
 */
async function mountWorkdir(hostDir: string, diskBytes: number, owner: RunAs | undefined): Promise<void> {
  const inodes = inodeLimit(diskBytes);
  const ids = owner ? `,uid=${owner.uid},gid=${owner.gid}` : '';
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${diskBytes},nr_inodes=${inodes},mode=0700,nosuid,nodev${ids}`, 'tmpfs', hostDir], { timeout: 10_000 });
  } catch (error) {
    const said = String((error as { stderr?: unknown }).stderr ?? '').split(hostDir).join('<work dir>').trim();
    throw new Error(`sandbox: could not mount a work dir of ${diskBytes} bytes${said ? `: ${said}` : ''}`, { cause: error });
  }
}

export interface BwrapSandboxOptions {
  support: BwrapSupport & { path: string };
  files: Record<string, string>;
  limits: ResolvedLimits;
  workdir: string;
  mode: BwrapMode;
}

export async function createBwrapSandbox(options: BwrapSandboxOptions): Promise<Sandbox> {
  const { support, limits } = options;
  reapLeftoversOnce();
  const seccomp = seccompFilter();
  warnOnce(seccomp);
  const hostDir = await makeHostDir('sbx');
  let mounted = false;
  let cgroup: SandboxCgroup | undefined;
  try {
    const owner = support.runAs;
    if (support.disk === 'tmpfs') {
      await mountWorkdir(hostDir, limits.diskBytes, owner);
      mounted = true;
    } else if (owner) {
      await chown(hostDir, owner.uid, owner.gid);
    }
    await chmod(hostDir, 0o700);
    const control = resourceControl();
    if (control.mode === 'cgroup-v2') cgroup = SandboxCgroup.create(control, limits);
    const sandbox = new BwrapSandbox({ support, hostDir, workdir: options.workdir, limits, mode: options.mode, mounted, cgroup, seccomp });
    for (const [path, content] of Object.entries(options.files)) await sandbox.writeFile(path, content);
    if (options.mode === 'persistent') await sandbox.started();
    return sandbox;
  } catch (error) {
    await cgroup?.remove().catch(() => undefined);
    if (mounted) await run('umount', ['-l', hostDir]).catch(() => undefined);
    await rm(hostDir, { recursive: true, force: true });
    throw error;
  }
}

/** For the bench and tests: the host pids that keep a bwrap sandbox open while it idles. */
export async function idleProcessesOf(sandbox: Sandbox): Promise<number[]> {
  return sandbox instanceof BwrapSandbox ? sandbox.idleProcesses() : [];
}
