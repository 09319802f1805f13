// Starting bwrap, and running one invocation to its end with a wall-clock deadline and an output
// budget. bwrap is started in its own process group; killing that group kills bwrap, and
// `--die-with-parent` plus the pid namespace take every process inside down with it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { constants } from 'node:os';
import type { Writable } from 'node:stream';
import type { SandboxCgroup } from './cgroup.ts';
import { recordProcess } from './host-dirs.ts';
import { OutputBudget } from './limits.ts';

export interface RunAs {
  uid: number;
  gid: number;
}

export interface BwrapLaunch {
  bwrapPath: string;
  /** bwrap's options, then `--` and the program; `--seccomp` is added here when there is a filter. */
  args: string[];
  runAs: RunAs | undefined;
  /** A compiled seccomp filter (seccomp.ts), handed to bwrap on fd 3. */
  seccomp?: Buffer;
  /** Where every process of the sandbox must live; bwrap is placed in it before it starts anything. */
  cgroup?: SandboxCgroup;
}

const SECCOMP_FD = 3;
const GATE_FD = 4;
const ARGS_FD = 5;

/**
 * A shell that waits on the gate fd, then becomes bwrap: in between we move it into the sandbox's
 * cgroup, so that nothing bwrap forks ever runs outside it. If we die first, the gate reads EOF
 * and it exits without starting bwrap.
 */
const GATED = `read -r _ <&${GATE_FD} && exec ${GATE_FD}<&- && exec "$0" "$@"`;

/**
 * Starts bwrap (its stdio piped to us, in a process group of its own); throws if the cgroup refuses it.
 * Its options go through a pipe (`--args`), not its command line: in `fresh` mode bwrap itself is
 * pid 1 inside the sandbox, and every command could read its command line (host paths included).
 * What follows `--` (the program and its arguments) bwrap takes from its command line only.
 */
export function spawnBwrap(launch: BwrapLaunch): ChildProcessWithoutNullStreams {
  const split = launch.args.indexOf('--');
  const options = [...(launch.seccomp ? ['--seccomp', String(SECCOMP_FD)] : []), ...(split === -1 ? launch.args : launch.args.slice(0, split))];
  const program = split === -1 ? [] : launch.args.slice(split);
  // NUL separates options on the pipe; inside one it would split it (spawn refuses it in the rest likewise).
  if (options.some((arg) => arg.includes('\0'))) throw new Error('sandbox: a path or environment variable contains a NUL byte');
  const bwrapArgv = ['--args', String(ARGS_FD), ...program];
  const [command, argv] = launch.cgroup ? ['/bin/sh', ['-c', GATED, launch.bwrapPath, ...bwrapArgv]] : [launch.bwrapPath, bwrapArgv];
  const child = spawn(command, argv, {
    stdio: ['pipe', 'pipe', 'pipe', launch.seccomp ? 'pipe' : 'ignore', launch.cgroup ? 'pipe' : 'ignore', 'pipe'],
    detached: true,
    env: {},
    // The unprivileged uid may not be able to enter our own working directory.
    cwd: '/',
    ...(launch.runAs ? { uid: launch.runAs.uid, gid: launch.runAs.gid } : {}),
  });
  // A child that failed to start reports it through 'error'; its extra fds then do not exist.
  if (child.pid === undefined) return child as ChildProcessWithoutNullStreams;
  recordProcess(child.pid);
  const extra = (fd: number) => child.stdio[fd] as Writable;
  extra(ARGS_FD).on('error', () => undefined);
  extra(ARGS_FD).end(Buffer.from(options.map((arg) => `${arg}\0`).join(''), 'utf8'));
  if (launch.seccomp) {
    extra(SECCOMP_FD).on('error', () => undefined);
    extra(SECCOMP_FD).end(launch.seccomp);
  }
  if (launch.cgroup) {
    try {
      launch.cgroup.enter(child.pid);
    } catch (error) {
      process.kill(-child.pid, 'SIGKILL');
      throw error;
    }
    extra(GATE_FD).on('error', () => undefined);
    extra(GATE_FD).end('go\n');
  }
  return child as ChildProcessWithoutNullStreams;
}

export interface ContainedRun extends BwrapLaunch {
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
  /** The sandbox died under the command (killed from outside, not by its own limits): see ExecResult. */
  sandboxFailure?: string;
}

export function runContained(run: ContainedRun): Promise<ContainedResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawnBwrap(run);
    } catch (error) {
      reject(error);
      return;
    }
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
      // bwrap passes on its command's status; bwrap itself ending on a signal we did not send means
      // something outside killed the sandbox.
      const diedOutside = code === null && !killed;
      const durationMs = Math.round(performance.now() - started);
      try {
        resolve({
          ...(diedOutside ? { sandboxFailure: `bwrap was killed by ${signal ?? 'a signal'} while the command ran` } : {}),
          exitCode,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          timedOut,
          truncated: budget.truncated,
          aborted,
          durationMs,
        });
      } catch (error) {
        // Output that cannot become a string (past V8's limit) fails the command; thrown from here it would end the process.
        const stderr = `sandbox: the command's output could not be collected: ${error instanceof Error ? error.message : String(error)}\n`;
        resolve({ exitCode: 1, stdout: '', stderr, timedOut, truncated: budget.truncated, aborted, durationMs });
      }
    });
  });
}

export function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 1) : 1;
}
