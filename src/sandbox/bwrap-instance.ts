// One long-lived bwrap sandbox whose supervisor (supervisor.ts) runs the commands we send it, one
// at a time. A command costs a fork and an exec instead of a set of namespaces. We keep the
// deadline, the abort signal and the output budget: to stop a command we signal the supervisor,
// which kills everything but itself; should it not answer within STOP_GRACE_MS, the whole
// instance is killed instead, and the sandbox starts a new one for the next command.
import { copyFile, chmod, readFile } from 'node:fs/promises';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { errorMessage, InfraError } from '../core/index.ts';
import { spawnBwrap, type BwrapLaunch, type ContainedResult } from './bwrap-process.ts';
import { runtimeDir } from './host-dirs.ts';
import { OutputBudget } from './limits.ts';
import { encodeRequest, MarkedStream, newNonce, type SupervisorRequest } from './supervisor.ts';

const STOP_GRACE_MS = 2000;
const START_TIMEOUT_MS = 20_000;

let binary: Promise<string> | undefined;

/**
 * An execute-only copy of bash, shared by this process's sandboxes: running a binary one cannot
 * read makes the process non-dumpable, which is what keeps commands out of the supervisor.
 */
export function supervisorBinary(options: { tmpfs: boolean }): Promise<string> {
  binary ??= (async () => {
    const path = join(await runtimeDir(options), 'supervisor');
    await copyFile(realpathSync('/bin/bash'), path);
    await chmod(path, 0o111);
    return path;
  })();
  return binary;
}

/** The pid (in our namespace) of the child bwrap started inside its namespaces: the supervisor. */
async function namespaceInit(bwrapPid: number): Promise<number | null> {
  try {
    const children = (await readFile(`/proc/${bwrapPid}/task/${bwrapPid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean);
    if (children.length > 0) return Number(children[0]);
  } catch {
    // kernels without CONFIG_PROC_CHILDREN: look for it by parent pid instead
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === bwrapPid) return Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  return null;
}

interface Running {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  ended(why: string): void;
}

export interface RunOptions {
  timeoutMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal;
}

export class SupervisedInstance {
  private running: Running | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private supervisorPid: number | null = null;
  private exitWhy: string | null = null;
  private readonly exited: Promise<void>;
  /** bwrap's own complaints (printed before the supervisor runs), for the error when it cannot start. */
  private setupErrors = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.exited = new Promise((resolve) => {
      const end = (why: string) => {
        this.exitWhy ??= why;
        this.running?.ended(this.exitWhy);
        resolve();
      };
      // A bwrap that never started reports only 'error'; one that ran ends with 'close'.
      child.on('error', (error) => {
        if (child.pid === undefined) end(`bwrap could not be started: ${error.message}`);
      });
      child.on('close', (code, signal) => end(`the sandbox's supervisor ended (${signal ?? `exit ${code}`})`));
    });
    child.stdin.on('error', () => undefined);
    child.stdout.on('data', (chunk: Buffer) => this.running?.stdout(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      if (this.running) this.running.stderr(chunk);
      else if (this.setupErrors.length < 4096) this.setupErrors += chunk.toString('utf8');
    });
  }

  /** Starts the sandbox and waits until its supervisor has answered a first (empty) command. */
  static async start(launch: BwrapLaunch, workdir: string): Promise<SupervisedInstance> {
    const instance = new SupervisedInstance(spawnBwrap(launch));
    const hello = await instance.run({ cwd: workdir, command: ':', env: {}, stdin: '' }, { timeoutMs: START_TIMEOUT_MS, maxOutputBytes: 4096 });
    const pid = instance.alive ? await namespaceInit(instance.child.pid!) : null;
    if (hello.exitCode !== 0 || pid === null) {
      await instance.kill();
      const said = `${instance.setupErrors}${hello.stderr}`.trim();
      throw new InfraError('sandbox', `the persistent bwrap sandbox did not start (${hello.timedOut ? 'no answer in 20 s' : `exit ${hello.exitCode}`})${said ? `: ${said}` : ''}`, {
        kind: 'crash',
      });
    }
    instance.supervisorPid = pid;
    return instance;
  }

  /** The supervisor's host pid: the sandbox's init, whose namespaces are the sandbox's. */
  get initPid(): number | null {
    return this.supervisorPid;
  }

  get alive(): boolean {
    return this.exitWhy === null;
  }

  /** The host pids of its processes that run while it idles: bwrap and the supervisor. */
  idleProcesses(): number[] {
    return [this.child.pid, this.supervisorPid].filter((pid): pid is number => pid !== undefined && pid !== null);
  }

  /** Runs commands one after another, in the order asked; a command's deadline starts when it starts. */
  run(request: SupervisorRequest, options: RunOptions): Promise<ContainedResult> {
    const turn = this.queue.then(() => this.runNow(request, options));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private runNow(request: SupervisorRequest, options: RunOptions): Promise<ContainedResult> {
    const nonce = newNonce();
    const frame = encodeRequest(nonce, request);
    const started = performance.now();
    const ended = (fields: Partial<ContainedResult>): ContainedResult => ({
      exitCode: 137,
      stdout: '',
      stderr: '',
      timedOut: false,
      truncated: false,
      aborted: false,
      durationMs: Math.round(performance.now() - started),
      ...fields,
    });
    if (options.signal?.aborted) return Promise.resolve(ended({ exitCode: 130, aborted: true }));
    if (!this.alive) return Promise.resolve(ended({ stderr: `sandbox: ${this.exitWhy}\n`, sandboxFailure: `the sandbox had ended before the command: ${this.exitWhy}` }));

    return new Promise((resolve) => {
      const budget = new OutputBudget(options.maxOutputBytes);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timedOut = false;
      let aborted = false;
      let stopping = false;
      let graceTimer: NodeJS.Timeout | undefined;

      const stop = () => {
        if (stopping) return;
        stopping = true;
        try {
          if (this.supervisorPid !== null) process.kill(this.supervisorPid, 'SIGUSR1');
        } catch {
          // the supervisor is gone; its exit ends this command
        }
        graceTimer = setTimeout(() => void this.kill(), STOP_GRACE_MS);
      };
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        if (budget.truncated) return;
        into.push(budget.take(chunk));
        if (budget.truncated) stop();
      };
      const out = new MarkedStream(nonce, collect(stdout));
      const err = new MarkedStream(nonce, collect(stderr));

      const timer = setTimeout(() => {
        timedOut = true;
        stop();
      }, options.timeoutMs);
      const onAbort = () => {
        aborted = true;
        stop();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });

      const result = (died: string | null): ContainedResult => {
        const [status, clean] = (out.trailer ?? '').split(':').map(Number);
        // A command that left something unkillable behind takes the instance with it.
        if (died === null && clean !== 1) void this.kill();
        // Died while we were not stopping it (for its time limit, output limit or an abort): not the command's doing.
        const failure = died !== null && !stopping ? died : null;
        if (died !== null) {
          // What the command printed before the end stays its output.
          out.flush();
          err.flush();
        }
        const own = died === null ? (status ?? 1) : 137;
        let errorText = Buffer.concat(stderr).toString('utf8');
        if (failure !== null) errorText += `${errorText && !errorText.endsWith('\n') ? '\n' : ''}sandbox: ${failure}; its /tmp is lost, the work dir is kept\n`;
        return {
          ...(failure !== null ? { sandboxFailure: `the sandbox died while the command ran: ${failure}` } : {}),
          exitCode: timedOut ? 124 : aborted ? 130 : own,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: errorText,
          timedOut,
          truncated: budget.truncated,
          aborted,
          durationMs: Math.round(performance.now() - started),
        };
      };
      /** An exception while collecting the output (a string past V8's limit) fails the command, never the process. */
      const uncollected = (error: unknown): ContainedResult =>
        ended({ exitCode: 1, timedOut, aborted, truncated: budget.truncated, stderr: `sandbox: the command's output could not be collected: ${errorMessage(error)}\n` });
      const settle = (outcome: () => ContainedResult) => {
        clearTimeout(timer);
        clearTimeout(graceTimer);
        options.signal?.removeEventListener('abort', onAbort);
        this.running = undefined;
        let value: ContainedResult;
        try {
          value = outcome();
        } catch (error) {
          value = uncollected(error);
        }
        resolve(value);
      };
      const finish = (died: string | null) => settle(() => result(died));
      const check = (rest: Buffer | null) => {
        // Bytes after a marker would mean the stream is out of step with us: retire the instance.
        if (rest && rest.length > 0) void this.kill();
        if (out.trailer !== null && err.trailer !== null) finish(null);
      };
      // Thrown from a stream's handler, an exception would end the whole process.
      const guarded = (feed: (chunk: Buffer) => void) => (chunk: Buffer) => {
        try {
          feed(chunk);
        } catch (error) {
          // The streams are out of step with us now: the instance goes with the command.
          void this.kill();
          settle(() => uncollected(error));
        }
      };
      this.running = {
        stdout: guarded((chunk) => check(out.push(chunk))),
        stderr: guarded((chunk) => check(err.push(chunk))),
        ended: (why) => finish(why),
      };
      this.child.stdin.write(frame);
    });
  }

  /** Kills the sandbox and everything in it, and waits until it is gone. */
  async kill(): Promise<void> {
    this.exitWhy ??= 'the sandbox was stopped';
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await this.exited;
  }
}
