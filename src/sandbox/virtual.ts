// The in-process backend: just-bash (a bash interpreter in JavaScript) over an in-memory file
// system. Nothing it runs touches the host; it has no real processes, network or host files.
// Commands run on shell threads (virtual-threads.ts), the files stay here. Limits: the command's
// deadline is checked by the interpreter between steps, so a loop that never yields still stops at
// it; a step that runs on past it (sed looping over a line it grows) loses its thread soon after,
// as does a command its caller aborts or whose sandbox closes; output is cut at maxOutputBytes; the
// file system holds at most diskBytes.
import { posix } from 'node:path';
import { Bash, InMemoryFs } from 'just-bash';
import type { ExecOptions, ExecResult, Sandbox } from '../core/index.ts';
import { WorkdirSandbox } from './base.ts';
import { cutUtf8, effectiveTimeout, type ResolvedLimits } from './limits.ts';
import { digestOf, FileTooLargeError, WorkdirFiles, type FsAdapter } from './files.ts';
import { shellThreads } from './virtual-threads.ts';

const baseEnv = (workdir: string) => ({ HOME: workdir, PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', USER: 'agent' });

/** just-bash reports its own limits through stderr text; this one means "output was cut". */
const OUTPUT_LIMIT = /output size limit exceeded|total output size exceeded/;

const CLOSED_WHILE_RUNNING = 'the sandbox was closed while the command ran';

/** A command its sandbox's closing overtook: the sandbox failed, not the command (as in the bwrap backend). */
const closedUnder = (durationMs: number): ExecResult => ({
  exitCode: 137,
  stdout: '',
  stderr: `sandbox: ${CLOSED_WHILE_RUNNING}\n`,
  timedOut: false,
  truncated: false,
  durationMs,
  sandboxFailure: CLOSED_WHILE_RUNNING,
});

/** A write that would take the file system past its size limit (ENOSPC, as a full disk reports it). */
class DiskFullError extends Error {
  readonly code = 'ENOSPC';
  constructor(path: string, limit: number) {
    super(`${path}: No space left on device (the sandbox's files may take ${limit} bytes in all)`);
    this.name = 'DiskFullError';
  }
}

/** The in-memory file system with a size limit whose error names the file and the limit. */
class BoundedFs extends InMemoryFs {
  constructor(private readonly limit: number) {
    super(undefined, { maxTotalBytes: limit });
  }

  private async bounded(path: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('ENOSPC')) throw new DiskFullError(path, this.limit);
      throw error;
    }
  }

  override writeFile(...args: Parameters<InMemoryFs['writeFile']>): Promise<void> {
    return this.bounded(args[0], () => super.writeFile(...args));
  }

  override appendFile(...args: Parameters<InMemoryFs['appendFile']>): Promise<void> {
    return this.bounded(args[0], () => super.appendFile(...args));
  }

  override cp(...args: Parameters<InMemoryFs['cp']>): Promise<void> {
    return this.bounded(args[1], () => super.cp(...args));
  }
}

class VirtualSandbox extends WorkdirSandbox {
  override readonly backend = 'virtual' as const;
  /** Aborts on close: commands still running are stopped with the sandbox. */
  private readonly closing = new AbortController();
  /** Commands running now; close returns once they are gone (their threads free or terminated). */
  private readonly runs = new Set<Promise<unknown>>();

  constructor(
    private readonly fs: BoundedFs,
    private readonly limits: ResolvedLimits,
    workdir: string,
  ) {
    super(workdir, new WorkdirFiles(memoryAdapter(fs), workdir, workdir));
  }

  override async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    this.assertOpen('exec');
    const started = performance.now();
    const timeoutMs = effectiveTimeout(options.timeoutMs, this.limits);
    const cwd = options.cwd === undefined ? this.workdir : posix.resolve(this.workdir, options.cwd);
    const isDirectory = await this.isDirectory(cwd);
    if (this.closed) return closedUnder(0);
    if (!isDirectory) {
      return { exitCode: 1, stdout: '', stderr: `sandbox: working directory ${cwd} does not exist\n`, timedOut: false, truncated: false, durationMs: 0 };
    }
    // A fresh interpreter per command, on a shell thread (virtual-threads.ts): shell state resets
    // (as in a new \`bash -c\`), and a command that never awaits holds that thread, not this one. Its
    // deadline is the command's timeout, checked between steps: JavaScript cannot preempt a loop
    // that never awaits. Step counts bound the work as well.
    const signal = options.signal ? AbortSignal.any([options.signal, this.closing.signal]) : this.closing.signal;
    const running = shellThreads.run(
      this.fs,
      {
        command,
        cwd,
        baseEnv: baseEnv(this.workdir),
        env: options.env ?? {},
        stdin: options.stdin ?? '',
        timeoutMs,
        executionLimits: {
          maxExecutionTimeMs: timeoutMs,
          // Everything the command writes counts here, to files and pipes too: room to fill the disk
          // twice over plus the output limit; past that it is runaway output and is stopped.
          maxOutputSize: 2 * (this.limits.diskBytes + this.limits.maxOutputBytes),
          maxCommandCount: 1_000_000,
          maxLoopIterations: 1_000_000,
        },
      },
      signal,
    );
    this.runs.add(running);
    let outcome: Awaited<typeof running>;
    try {
      outcome = await running;
    } finally {
      this.runs.delete(running);
    }
    const durationMs = Math.round(performance.now() - started);
    if (this.closing.signal.aborted) return closedUnder(durationMs);
    if (outcome.kind === 'stopped') {
      if (outcome.why === 'aborted') return { exitCode: 130, stdout: '', stderr: 'sandbox: the command was stopped\n', timedOut: false, truncated: false, durationMs };
      return { exitCode: 124, stdout: '', stderr: `sandbox: the command ran past its deadline (${timeoutMs} ms) and was stopped\n`, timedOut: true, truncated: false, durationMs };
    }
    if (outcome.kind === 'thread-died') {
      return { exitCode: 137, stdout: '', stderr: `sandbox: ${outcome.why}\n`, timedOut: false, truncated: false, durationMs, sandboxFailure: outcome.why };
    }
    // just-bash turns a failed write into a shell error inside loops, groups and functions, but lets
    // it escape from a top-level command. A full disk is then the command's failure (as a write
    // error is in bash), reported on stderr; what it printed before is lost with it.
    if (outcome.kind === 'threw') {
      if (outcome.name !== DiskFullError.name) throw new Error(`virtual sandbox: the interpreter failed: ${outcome.message}`);
      return { exitCode: 1, stdout: '', stderr: `bash: ${outcome.message}\n`, timedOut: false, truncated: false, durationMs };
    }
    // The interpreter's own deadline ends the script with 124; a script's own \`exit 124\` ends earlier.
    const timedOut = outcome.timerFired || (outcome.exitCode === 124 && performance.now() - started >= timeoutMs);
    const stdout = cutUtf8(outcome.stdout, this.limits.maxOutputBytes);
    const remaining = this.limits.maxOutputBytes - Buffer.byteLength(stdout.text);
    const stderr = cutUtf8(outcome.stderr, Math.max(0, remaining));
    return {
      // Same codes as the bwrap backend: 124 for the deadline, 130 when the caller aborted.
      exitCode: timedOut ? 124 : options.signal?.aborted ? 130 : outcome.exitCode,
      stdout: stdout.text,
      stderr: stderr.text,
      timedOut,
      truncated: stdout.cut || stderr.cut || OUTPUT_LIMIT.test(outcome.stderr),
      durationMs,
    };
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    await Promise.allSettled(this.runs);
  }

  private async isDirectory(path: string): Promise<boolean> {
    try {
      return (await this.fs.stat(path)).isDirectory;
    } catch {
      return false;
    }
  }
}

function memoryAdapter(fs: BoundedFs): FsAdapter {
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
    readText: async (path, maxBytes) => {
      if (maxBytes === undefined) return fs.readFile(path);
      // The file system's own bytes, not a copy: measured before anything is made of them.
      const bytes = await fs.readFileBuffer(path);
      if (bytes.length > maxBytes) throw new FileTooLargeError(path, maxBytes, bytes.length);
      // As readFile decodes them (a BOM dropped, a byte that is not UTF-8 as U+FFFD).
      return new TextDecoder().decode(bytes);
    },
    // Its bytes are in memory already: hashed where they lie.
    digest: async (path) => digestOf(await fs.readFileBuffer(path)),
    writeText: (path, content) => fs.writeFile(path, content),
    readdir: (path) => fs.readdir(path),
    readlink: (path) => fs.readlink(path),
  };
}

export async function createVirtualSandbox(options: { files: Record<string, string>; limits: ResolvedLimits; workdir: string }): Promise<Sandbox> {
  const { files, limits, workdir } = options;
  const fs = new BoundedFs(limits.diskBytes);
  await fs.mkdir(workdir, { recursive: true });
  // The interpreter lays out /bin, /dev, /proc and /tmp in a file system it is given; the shell
  // threads reach this one by messages, which it does not recognise, so it is laid out here once.
  new Bash({ fs, cwd: workdir, env: baseEnv(workdir) });
  const sandbox = new VirtualSandbox(fs, limits, workdir);
  for (const [path, content] of Object.entries(files)) await sandbox.writeFile(path, content);
  return sandbox;
}
