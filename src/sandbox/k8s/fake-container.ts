// The fake API's container runtime, for tests: a pod's container is a bwrap with pid, mount and
// user namespaces of its own whose pid 1 is the pod's own command (the keep-alive of pod.ts), and
// an exec is a process that nsenter puts into those namespaces, as a container runtime's exec
// does. So, as in a real pod, processes a command leaves behind live on between execs, a command
// can signal every process of the pod but nothing outside it (the test runner included), and pid 1
// gets only the signals it handles. When pid 1 ends, the kernel ends everything in the pod.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath, UNPRIVILEGED } from '../probe.ts';

export interface FakeContainer {
  /** Starts `argv` inside the pod (as the pod's user, in its work dir), its stdio piped to us. */
  exec(argv: string[]): ChildProcessWithoutNullStreams;
  /** Resolves once pid 1 has ended (the container stopped), with its exit code or 128 + signal. */
  readonly stopped: Promise<number>;
  /** Kills the container (and so everything in it) and removes its work dir. */
  kill(): Promise<void>;
}

const SIGNALS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1, SIGQUIT: 3, SIGPIPE: 13, SIGSEGV: 11, SIGABRT: 6 };

/** A child's exit status as a shell reports it: its code, or 128 + the signal that ended it. */
export function statusOf(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + (signal ? (SIGNALS[signal] ?? 1) : 1);
}

/** The host pid of bwrap's child once it has become `program` (pid 1 in the pod). */
async function podInit(bwrapPid: number, program: string, deadline: number): Promise<number> {
  for (;;) {
    const child = (await readFile(`/proc/${bwrapPid}/task/${bwrapPid}/children`, 'utf8').catch(() => '')).trim().split(/\s+/)[0];
    if (child) {
      const argv0 = (await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '')).split('\0')[0];
      if (argv0 === program) return Number(child);
    }
    if (Date.now() > deadline) throw new Error(`fake kube API: the container did not start its command ${program} within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Starts a container running `command` as pid 1 with a fresh work dir at `workdir`. */
export async function startFakeContainer(options: { workdir: string; command: string[] }): Promise<FakeContainer> {
  const bwrap = findOnPath('bwrap');
  const nsenter = findOnPath('nsenter');
  if (!bwrap || !nsenter) throw new Error('fake kube API: its containers need bwrap and nsenter on PATH');
  // As root, everything runs as nobody: commands must lack privileges, as in a pod.
  const runAs = process.getuid?.() === 0 ? UNPRIVILEGED : undefined;
  const hostDir = await mkdtemp(join(tmpdir(), 'gauntlet-fake-pod-'));
  if (runAs) await chown(hostDir, runAs.uid, runAs.gid);
  const [program = 'sh', ...args] = options.command;
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: options.workdir, LANG: 'C.UTF-8' };
  // No `--dev`: bwrap would then nest a second user namespace, which nsenter could not enter.
  const bwrapArgs = [
    '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent', '--as-pid-1',
    '--tmpfs', '/', '--ro-bind', '/usr', '/usr',
    ...['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/etc'].flatMap((dir) => ['--ro-bind-try', dir, dir]),
    '--proc', '/proc', '--dev-bind', '/dev', '/dev', '--tmpfs', '/tmp',
    '--dir', options.workdir, '--bind', hostDir, options.workdir, '--chdir', options.workdir,
    '--', program, ...args,
  ];
  const child = spawn(bwrap, bwrapArgs, { stdio: 'ignore', detached: true, env, cwd: '/', ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) });
  const stopped = new Promise<number>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (code, signal) => resolve(statusOf(code, signal)));
  });
  // A runtime ends a container's exec streams with it. nsenter's own process (outside the pod)
  // stops itself when the command it waits for is stopped, so a pod whose processes were stopped
  // would otherwise leave it stopped for good once the pod is gone.
  const execs = new Set<ChildProcessWithoutNullStreams>();
  void stopped.then(() => {
    for (const exec of execs) {
      try {
        if (exec.pid !== undefined) process.kill(-exec.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  let killed = false;
  const kill = async () => {
    if (!killed) {
      killed = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await stopped;
    await rm(hostDir, { recursive: true, force: true });
  };
  let init: number;
  try {
    if (child.pid === undefined) throw new Error('fake kube API: bwrap could not be started');
    init = await Promise.race([podInit(child.pid, program, Date.now() + 10_000), stopped.then((status) => Promise.reject(new Error(`fake kube API: the container ended at once (${status})`)))]);
  } catch (error) {
    await kill();
    throw error;
  }
  return {
    stopped,
    kill,
    exec: (argv) => {
      const exec = spawn(nsenter, ['-t', String(init), '-U', '-m', '-p', '--preserve-credentials', '-r', '-w', '--', ...argv], {
        stdio: 'pipe',
        detached: true,
        env,
        cwd: '/',
        ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      });
      execs.add(exec);
      exec.on('close', () => execs.delete(exec));
      return exec;
    },
  };
}
