// Runs one bwrap invocation with a wall-clock deadline and an output budget. bwrap is started in
// its own process group; killing that group kills bwrap, and `--die-with-parent` plus the pid
// namespace take every process inside down with it, background jobs included.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { OutputBudget } from './limits.ts';

export interface RunAs {
  uid: number;
  gid: number;
}

export interface ContainedRun {
  bwrapPath: string;
  args: string[];
  runAs: RunAs | undefined;
  stdin?: string;
  timeoutMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal;
}

export interface ContainedResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
  aborted: boolean;
  durationMs: number;
}

export function runContained(run: ContainedRun): Promise<ContainedResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(run.bwrapPath, run.args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      env: {},
      // The unprivileged uid may not be able to enter our own working directory.
      cwd: '/',
      ...(run.runAs ? { uid: run.runAs.uid, gid: run.runAs.gid } : {}),
    });
    const budget = new OutputBudget(run.maxOutputBytes);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    let aborted = false;
    let killed = false;
    const kill = () => {
      if (killed || child.pid === undefined) return;
      killed = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      if (budget.truncated) return;
      into.push(budget.take(chunk));
      if (budget.truncated) kill();
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    // A command that never reads its stdin closes the pipe early: that is not an error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(run.stdin ?? '');

    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, run.timeoutMs);
    const onAbort = () => {
      aborted = true;
      kill();
    };
    if (run.signal?.aborted) onAbort();
    else run.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (error) => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      reject(new Error(`sandbox: could not start bwrap (${run.bwrapPath}): ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      const exitCode = timedOut ? 124 : aborted ? 130 : (code ?? 128 + signalNumber(signal));
      resolve({
        exitCode,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        timedOut,
        truncated: budget.truncated,
        aborted,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 1) : 1;
}
