// The bubblewrap backend: each command runs in fresh namespaces over a read-only system, with a
// private writable work dir that lives on the host (a size-limited tmpfs where mounting works), in
// this process's folder of host-dirs.ts, so a killed process's work dirs are reaped later.
import { execFile } from 'node:child_process';
import { chmod, chown, lstat, mkdir, readdir, readFile, readlink, realpath, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import type { ExecOptions, ExecResult, Sandbox } from '../core/index.ts';
import { WorkdirSandbox } from './base.ts';
import { bwrapArgs, BWRAP_WORKDIR } from './bwrap-args.ts';
import { runContained, type RunAs } from './bwrap-process.ts';
import { WorkdirFiles, type FsAdapter } from './files.ts';
import { makeHostDir, reapLeftoversOnce } from './host-dirs.ts';
import { effectiveTimeout, type ResolvedLimits } from './limits.ts';
import { relativeToWorkdir } from './paths.ts';
import type { BwrapSupport } from './probe.ts';

const run = promisify(execFile);

class BwrapSandbox extends WorkdirSandbox {
  override readonly backend = 'bwrap' as const;

  constructor(
    private readonly support: BwrapSupport & { path: string },
    private readonly hostDir: string,
    private readonly limits: ResolvedLimits,
    private readonly mounted: boolean,
  ) {
    super(BWRAP_WORKDIR, new WorkdirFiles(hostAdapter(support.runAs), hostDir, BWRAP_WORKDIR));
  }

  override async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    this.assertOpen('exec');
    const cwd = options.cwd === undefined ? BWRAP_WORKDIR : posix.resolve(BWRAP_WORKDIR, options.cwd);
    const cwdProblem = await this.checkCwd(cwd);
    if (cwdProblem) return { exitCode: 1, stdout: '', stderr: `sandbox: ${cwdProblem}\n`, timedOut: false, truncated: false, durationMs: 0 };
    const args = bwrapArgs({ hostDir: this.hostDir, limits: this.limits, cwd, command, ...(options.env ? { env: options.env } : {}) });
    const result = await runContained({
      bwrapPath: this.support.path,
      args,
      runAs: this.support.runAs,
      timeoutMs: effectiveTimeout(options.timeoutMs, this.limits),
      maxOutputBytes: this.limits.maxOutputBytes,
      ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return {
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      timedOut: result.timedOut,
      truncated: result.truncated,
      durationMs: result.durationMs,
    };
  }

  /** Only directories inside the work dir can be checked from here; others are bwrap's to refuse. */
  private async checkCwd(cwd: string): Promise<string | null> {
    const rel = relativeToWorkdir(cwd, BWRAP_WORKDIR);
    if (!rel.ok) return null;
    try {
      const stat = await lstat(join(this.hostDir, rel.rel));
      return stat.isDirectory() ? null : `working directory ${cwd} is not a directory`;
    } catch {
      return `working directory ${cwd} does not exist`;
    }
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.mounted) await run('umount', ['-l', this.hostDir], { timeout: 10_000 }).catch(() => undefined);
    await rm(this.hostDir, { recursive: true, force: true });
  }
}

/** The host side of the work dir; as root, what it creates is handed to the sandbox's uid. */
function hostAdapter(owner: RunAs | undefined): FsAdapter {
  const give = async (path: string) => {
    if (owner) await chown(path, owner.uid, owner.gid);
  };
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
    mkdir: async (path) => {
      await mkdir(path);
      await give(path);
    },
    readText: (path) => readFile(path, 'utf8'),
    readBytes: (path) => readFile(path),
    writeText: async (path, content) => {
      await writeFile(path, content, 'utf8');
      await give(path);
    },
    readdir: (path) => readdir(path),
    readlink: (path) => readlink(path),
  };
}

export async function createBwrapSandbox(
  support: BwrapSupport & { path: string },
  files: Record<string, string>,
  limits: ResolvedLimits,
): Promise<Sandbox> {
  reapLeftoversOnce();
  const hostDir = await makeHostDir('sbx');
  let mounted = false;
  try {
    const owner = support.runAs;
    if (support.disk === 'tmpfs') {
      const inodes = Math.max(1024, Math.floor(limits.diskBytes / 4096));
      const ids = owner ? `,uid=${owner.uid},gid=${owner.gid}` : '';
      await run('mount', ['-t', 'tmpfs', '-o', `size=${limits.diskBytes},nr_inodes=${inodes},mode=0700,nosuid,nodev${ids}`, 'tmpfs', hostDir], { timeout: 10_000 });
      mounted = true;
    } else if (owner) {
      await chown(hostDir, owner.uid, owner.gid);
    }
    await chmod(hostDir, 0o700);
    const sandbox = new BwrapSandbox(support, hostDir, limits, mounted);
    for (const [path, content] of Object.entries(files)) await sandbox.writeFile(path, content);
    return sandbox;
  } catch (error) {
    if (mounted) await run('umount', ['-l', hostDir]).catch(() => undefined);
    await rm(hostDir, { recursive: true, force: true });
    throw error;
  }
}
