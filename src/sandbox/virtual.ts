// The in-process backend: just-bash (a bash interpreter in JavaScript) over an in-memory file
// system. Nothing it runs touches the host; it has no real processes, network or host files.
import { posix } from 'node:path';
import { Bash, InMemoryFs } from 'just-bash';
import type { ExecOptions, ExecResult, Sandbox } from '../core/index.ts';
import { WorkdirSandbox } from './base.ts';
import { cutUtf8, effectiveTimeout, type ResolvedLimits } from './limits.ts';
import { WorkdirFiles, type FsAdapter } from './files.ts';

const WORKDIR = '/work';
const BASE_ENV = { HOME: WORKDIR, PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', USER: 'agent' };

/** just-bash reports its own limits through stderr text; these mean "output was cut". */
const OUTPUT_LIMIT = /output size limit exceeded|total output size exceeded/;
const DEADLINE = /exceeded its execution deadline|execution deadline exceeded|execution timeout/i;

class VirtualSandbox extends WorkdirSandbox {
  override readonly backend = 'virtual' as const;

  constructor(
    private readonly fs: InMemoryFs,
    private readonly limits: ResolvedLimits,
  ) {
    super(WORKDIR, new WorkdirFiles(memoryAdapter(fs), WORKDIR, WORKDIR));
  }

  override async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    this.assertOpen('exec');
    const started = performance.now();
    const timeoutMs = effectiveTimeout(options.timeoutMs, this.limits);
    const cwd = options.cwd === undefined ? WORKDIR : posix.resolve(WORKDIR, options.cwd);
    if (!(await this.isDirectory(cwd))) {
      return { exitCode: 1, stdout: '', stderr: `sandbox: working directory ${cwd} does not exist\n`, timedOut: false, truncated: false, durationMs: 0 };
    }
    // A fresh interpreter per command: shell state resets (as in a new `bash -c`) and the
    // interpreter's own deadline is this command's timeout, which also stops tight JS loops.
    const bash = new Bash({
      fs: this.fs,
      cwd,
      env: BASE_ENV,
      executionLimits: {
        maxExecutionTimeMs: timeoutMs,
        maxOutputSize: this.limits.diskBytes,
        maxFileSystemBytes: this.limits.diskBytes,
        maxCommandCount: 1_000_000,
        maxLoopIterations: 1_000_000,
      },
    });
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await bash.exec(command, {
        cwd,
        env: options.env ?? {},
        stdin: options.stdin ?? '',
        signal: controller.signal,
        rawScript: true,
      });
      timedOut ||= DEADLINE.test(result.stderr) && result.exitCode === 124;
      const stdout = cutUtf8(result.stdout, this.limits.maxOutputBytes);
      const remaining = this.limits.maxOutputBytes - Buffer.byteLength(stdout.text);
      const stderr = cutUtf8(result.stderr, Math.max(0, remaining));
      return {
        // Same codes as the bwrap backend: 124 for the deadline, 130 when the caller aborted.
        exitCode: timedOut ? 124 : options.signal?.aborted ? 130 : result.exitCode,
        stdout: stdout.text,
        stderr: stderr.text,
        timedOut,
        truncated: stdout.cut || stderr.cut || OUTPUT_LIMIT.test(result.stderr),
        durationMs: Math.round(performance.now() - started),
      };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  override async close(): Promise<void> {
    this.closed = true;
  }

  private async isDirectory(path: string): Promise<boolean> {
    try {
      return (await this.fs.stat(path)).isDirectory;
    } catch {
      return false;
    }
  }
}

function memoryAdapter(fs: InMemoryFs): FsAdapter {
  const attempt = async <T>(fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch {
      return null;
    }
  };
  return {
    kind: async (path) => {
      const stat = await attempt(() => fs.lstat(path));
      if (!stat) return null;
      return stat.isSymbolicLink ? 'symlink' : stat.isDirectory ? 'dir' : stat.isFile ? 'file' : 'other';
    },
    realpath: (path) => attempt(() => fs.realpath(path)),
    mkdir: (path) => fs.mkdir(path),
    readText: (path) => fs.readFile(path),
    readBytes: (path) => fs.readFileBuffer(path),
    writeText: (path, content) => fs.writeFile(path, content),
    readdir: (path) => fs.readdir(path),
    readlink: (path) => fs.readlink(path),
  };
}

export async function createVirtualSandbox(files: Record<string, string>, limits: ResolvedLimits): Promise<Sandbox> {
  const fs = new InMemoryFs();
  await fs.mkdir(WORKDIR, { recursive: true });
  const sandbox = new VirtualSandbox(fs, limits);
  for (const [path, content] of Object.entries(files)) await sandbox.writeFile(path, content);
  return sandbox;
}
