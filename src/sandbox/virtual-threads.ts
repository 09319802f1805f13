// The virtual sandbox's interpreter runs on threads of its own. just-bash cannot be preempted: a
// command that never awaits (`while :; do :; done`) runs until its deadline or its command budget,
// ~10 s, and on the main thread that froze every rollout of the process with it, timers and
// time-outs included. Here each command gets a fresh interpreter on a pool thread; the files stay
// on the caller's thread, reached by messages, so readFile and listFiles need no thread at all.
// A runaway command holds only its own thread; others start more threads, up to a cap. A command
// the caller stops (abort, close) or that outlives its deadline in one step the interpreter cannot
// interrupt loses its thread: the thread is terminated, and the next command gets a fresh one.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { InMemoryFs } from 'just-bash';

/** What one command needs on its thread besides the files. */
export interface ShellRequest {
  command: string;
  cwd: string;
  /** The interpreter's environment (HOME, PATH …) and the command's own variables. */
  baseEnv: Record<string, string>;
  env: Record<string, string>;
  stdin: string;
  timeoutMs: number;
  executionLimits: Record<string, number>;
}

export type ShellOutcome =
  | { kind: 'done'; exitCode: number; stdout: string; stderr: string; timerFired: boolean }
  /** The interpreter threw (a write past the disk limit escapes a top-level command). */
  | { kind: 'threw'; name: string; message: string; code?: string }
  /** The thread itself failed: nothing is known about the command. */
  | { kind: 'thread-died'; why: string }
  /** We terminated the thread under the command: the caller stopped it, or it ran past its deadline. */
  | { kind: 'stopped'; why: 'aborted' | 'deadline' };

/** The file system methods the thread may call, all asynchronous. */
const FS_METHODS = ['readFile', 'readFileBytes', 'readFileBuffer', 'writeFile', 'appendFile', 'exists', 'stat', 'lstat', 'mkdir', 'readdir', 'readdirWithFileTypes', 'rm', 'cp', 'mv', 'chmod', 'symlink', 'link', 'readlink', 'realpath', 'utimes'] as const;
type FsMethod = (typeof FS_METHODS)[number];
const ALLOWED = new Set<string>(FS_METHODS);

/** At most this many shell threads at once; more commands wait for one. */
const MAX_THREADS = 8;
/** Threads kept for the next commands once idle (the rest end). */
const KEEP_IDLE = 2;
/** How long a stopped command has to unwind by itself (a sleep does) before its thread is terminated. */
const STOP_GRACE_MS = 200;
/**
 * Past its deadline by this much, a command's thread is terminated: the interpreter checks the
 * deadline only between steps, and one step (sed branching over a line it keeps growing) can run
 * for minutes.
 */
const DEADLINE_GRACE_MS = 1000;
/** setTimeout's longest delay; a longer one fires at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

// Plain JavaScript, evaluated in the thread: it needs no TypeScript loader.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Bash, InMemoryFs } = require(workerData.justBash);
const resolver = new InMemoryFs();
const pending = new Map();
let nextCall = 0;
let controller = null;

function revive(e) {
  const error = new Error(e.message);
  error.name = e.name;
  if (e.code !== undefined) error.code = e.code;
  return error;
}

function callMain(exec, method, args) {
  return new Promise((resolve, reject) => {
    const id = nextCall++;
    pending.set(id, { resolve, reject });
    parentPort.postMessage({ kind: 'fs', exec, id, method, args });
  });
}

// The path list \`find\` reads synchronously: the caller's at the start, kept up to date with what
// this command changes.
function fileSystem(exec, methods, initialPaths) {
  const known = new Set(initialPaths);
  const norm = (p) => resolver.resolvePath('/', String(p));
  const under = (p, root) => p === root || p.startsWith(root === '/' ? '/' : root + '/');
  const add = (p) => {
    for (let at = norm(p); !known.has(at); at = at.slice(0, at.lastIndexOf('/')) || '/') {
      known.add(at);
      if (at === '/') break;
    }
  };
  const move = (from, to, keep) => {
    const src = norm(from), dest = norm(to);
    for (const p of [...known]) {
      if (!under(p, src)) continue;
      if (!keep) known.delete(p);
      add(dest + p.slice(src.length));
    }
  };
  const track = {
    writeFile: (a) => add(a[0]), appendFile: (a) => add(a[0]), mkdir: (a) => add(a[0]),
    symlink: (a) => add(a[1]), link: (a) => add(a[1]),
    rm: (a) => { const root = norm(a[0]); for (const p of [...known]) if (under(p, root)) known.delete(p); },
    mv: (a) => move(a[0], a[1], false), cp: (a) => move(a[0], a[1], true),
  };
  const fs = { resolvePath: (base, p) => resolver.resolvePath(base, p), getAllPaths: () => [...known] };
  for (const method of methods) {
    fs[method] = async (...args) => {
      const value = await callMain(exec, method, args);
      track[method]?.(args);
      return value;
    };
  }
  return fs;
}

async function run(request) {
  controller = new AbortController();
  let timerFired = false;
  // Commands that wait (sleep, reading stdin) are stopped by this timer; busy ones by the interpreter's deadline.
  const timer = setTimeout(() => { timerFired = true; controller.abort(); }, request.timeoutMs);
  try {
    const bash = new Bash({ fs: fileSystem(request.exec, request.methods, request.paths), cwd: request.cwd, env: request.baseEnv, executionLimits: request.executionLimits });
    const result = await bash.exec(request.command, { cwd: request.cwd, env: request.env, stdin: request.stdin, signal: controller.signal, rawScript: true });
    return { kind: 'done', exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, timerFired };
  } catch (error) {
    return { kind: 'threw', name: error?.name ?? 'Error', message: String(error?.message ?? error), ...(error?.code !== undefined ? { code: String(error.code) } : {}) };
  } finally {
    clearTimeout(timer);
    controller = null;
  }
}

parentPort.on('message', (message) => {
  if (message.kind === 'fs-reply') {
    const call = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) call?.reject(revive(message.error));
    else call?.resolve(message.value);
  } else if (message.kind === 'abort') {
    controller?.abort();
  } else if (message.kind === 'run') {
    void run(message.request).then((outcome) => parentPort.postMessage({ kind: 'outcome', outcome }));
  }
});
`;

interface Running {
  /** Which command: an interpreter that outlives its command (aborted, still unwinding) must not reach the next one's files. */
  exec: number;
  fs: InMemoryFs;
  finish: (outcome: ShellOutcome) => void;
}

let nextExec = 0;

class ShellThread {
  readonly worker: Worker;
  running: Running | null = null;
  dead = false;

  constructor(private readonly onGone: (thread: ShellThread) => void) {
    this.worker = new Worker(THREAD_SOURCE, { eval: true, execArgv: [], workerData: { justBash: createRequire(import.meta.url).resolve('just-bash') } });
    this.worker.unref();
    this.worker.on('message', (message: { kind: string; exec?: number; id?: number; method?: string; args?: unknown[]; outcome?: ShellOutcome }) => {
      if (message.kind === 'fs') void this.serveFs(message.exec ?? -1, message.id ?? -1, message.method ?? '', message.args ?? []);
      else if (message.kind === 'outcome' && message.outcome) this.settle(message.outcome);
    });
    const gone = (why: string) => {
      if (this.dead) return;
      this.dead = true;
      this.settle({ kind: 'thread-died', why });
      onGone(this);
    };
    this.worker.on('error', (error) => gone(`the shell's thread failed: ${error.message}`));
    this.worker.on('exit', (code) => gone(`the shell's thread exited (code ${code})`));
  }

  /** Ends command `exec` with `outcome` now and terminates the thread under it; the pool replaces the thread. */
  private stop(exec: number, outcome: ShellOutcome): void {
    if (this.dead || this.running?.exec !== exec) return;
    // Dead first: the pool must not hand this thread to anyone once the command is settled.
    this.dead = true;
    this.settle(outcome);
    this.onGone(this);
    void this.worker.terminate();
  }

  private settle(outcome: ShellOutcome): void {
    const running = this.running;
    this.running = null;
    this.worker.unref();
    running?.finish(outcome);
  }

  private async serveFs(exec: number, id: number, method: string, args: unknown[]): Promise<void> {
    const fs = this.running?.exec === exec ? this.running.fs : undefined;
    try {
      if (!fs || !ALLOWED.has(method)) throw new Error(`EACCES: ${method}: the command that asked has ended`);
      const value: unknown = await (fs[method as FsMethod] as (...a: unknown[]) => Promise<unknown>).apply(fs, args);
      this.worker.postMessage({ kind: 'fs-reply', id, value });
    } catch (error) {
      const e = error as { name?: string; message?: string; code?: unknown };
      this.worker.postMessage({ kind: 'fs-reply', id, error: { name: e?.name ?? 'Error', message: e?.message ?? String(error), ...(e?.code !== undefined ? { code: String(e.code) } : {}) } });
    }
  }

  run(fs: InMemoryFs, request: ShellRequest, signal: AbortSignal | undefined): Promise<ShellOutcome> {
    return new Promise((resolve) => {
      const exec = nextExec++;
      let grace: NodeJS.Timeout | undefined;
      const onAbort = () => {
        this.worker.postMessage({ kind: 'abort' });
        // A command that never yields never reads that message.
        grace ??= setTimeout(() => this.stop(exec, { kind: 'stopped', why: 'aborted' }), STOP_GRACE_MS);
      };
      const overdue = setTimeout(() => this.stop(exec, { kind: 'stopped', why: 'deadline' }), Math.min(request.timeoutMs + DEADLINE_GRACE_MS, MAX_DELAY_MS));
      this.running = {
        exec,
        fs,
        finish: (outcome) => {
          clearTimeout(grace);
          clearTimeout(overdue);
          signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
      };
      this.worker.ref();
      const methods = FS_METHODS.filter((m) => typeof fs[m] === 'function');
      this.worker.postMessage({ kind: 'run', request: { ...request, exec, methods, paths: fs.getAllPaths() } });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** The process's shell threads: started on demand, a few kept idle. */
class ShellThreads {
  private readonly idle: ShellThread[] = [];
  private readonly all = new Set<ShellThread>();
  private readonly waiting: Array<(thread: ShellThread) => void> = [];

  private acquire(): Promise<ShellThread> {
    const thread = this.idle.pop();
    if (thread) return Promise.resolve(thread);
    if (this.all.size < MAX_THREADS) {
      const fresh = new ShellThread((gone) => this.forget(gone));
      this.all.add(fresh);
      return Promise.resolve(fresh);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(thread: ShellThread): void {
    if (thread.dead) return;
    const next = this.waiting.shift();
    if (next) return next(thread);
    if (this.idle.length < KEEP_IDLE) this.idle.push(thread);
    else {
      this.all.delete(thread);
      void thread.worker.terminate();
    }
  }

  private forget(thread: ShellThread): void {
    this.all.delete(thread);
    const at = this.idle.indexOf(thread);
    if (at >= 0) this.idle.splice(at, 1);
    // A waiting command takes a new thread in the dead one's place.
    const next = this.waiting.shift();
    if (next) {
      const fresh = new ShellThread((gone) => this.forget(gone));
      this.all.add(fresh);
      next(fresh);
    }
  }

  async run(fs: InMemoryFs, request: ShellRequest, signal?: AbortSignal): Promise<ShellOutcome> {
    const thread = await this.acquire();
    try {
      return await thread.run(fs, request, signal);
    } finally {
      this.release(thread);
    }
  }
}

export const shellThreads = new ShellThreads();
