// The Kubernetes mode: one pod per sandbox, started through the API, commands and files through
// the exec API, limits as the pod's resources. The pod carries a lease annotation that the client
// renews; while a process holds sandboxes in a namespace it deletes pods there whose lease ran out
// (reapK8sSandboxes in reap.ts, which anyone may also call).
import { randomBytes, randomInt } from 'node:crypto';
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { errorMessage, InfraError, InputError, type ExecOptions, type ExecResult, type FileEntry, type ReadFileOptions, type Sandbox } from '../../core/index.ts';
import { effectiveTimeout, resolveLimits, type ResolvedLimits, type SandboxLimits } from '../limits.ts';
import { FileTooLargeError, readBound } from '../files.ts';
import { requireRelative, resolveWorkdir, SandboxFullError, SandboxPathError } from '../paths.ts';
import { apiError, coreApi, DEFAULT_API_BOUNDS, statusOf } from './api.ts';
import { k8sClient } from './client.ts';
import { clusterServer, defaultKubeConfig, k8sNamespaceFromEnv, k8sTargetFromEnv, namespaceFor } from './config.ts';
import { runInPod } from './exec.ts';
import { commandScript, CONTAINER, KILLED_STATUS, LEASE_ANNOTATION, listScript, podManifest, processLimitProbe, readScript, reapScript, SANDBOX_SELECTOR, SANDBOX_UIDS, writeScript, type ProcessLimitFlag } from './pod.ts';
import { clip, diskLimitEviction, memoryLimitKill, podEndedReason } from './pod-status.ts';
import { holdReaper } from './reap.ts';

/**
 * How many times the clean-up exec runs when something in the pod kills it. A process left looping
 * `kill -9 -1` (same uid: nothing stops it signalling the clean-up) kills most fresh execs before
 * their first line runs, but not all; each try is another chance to run that line, which kills it.
 */
const REAP_TRIES = 10;

/** What a listing may hold at most: a work dir of many small files lists at ~100 bytes a file. */
const LISTING_MAX_BYTES = 64 * 1024 ** 2;

export interface K8sSandboxOptions {
  /** Default: the usual kubeconfig (KUBECONFIG, ~/.kube/config, or in-cluster). */
  kubeConfig?: KubeConfig;
  /** Default: the kubeconfig context's namespace, else `default`. */
  namespace?: string;
  /** The pod's image: needs sh, coreutils (timeout, realpath, sha256sum) and find. */
  image: string;
  files?: Record<string, string>;
  limits?: SandboxLimits;
  workdir?: string;
  /** A pod whose client renews nothing for this long may be deleted by anyone. Default 60 s. */
  leaseTtlMs?: number;
  /** How often the lease is renewed; default a third of the TTL. */
  heartbeatMs?: number;
  /** How long the pod may take to start. Default 120 s. */
  startTimeoutMs?: number;
  /** How often a starting pod is looked at. Default 250 ms. */
  pollMs?: number;
  /** How long one API request may take before it fails as the API's (not the command's) failure. Default 30 s. */
  requestTimeoutMs?: number;
  /** How long past a command's own timeout its exit status may take to arrive before the client stops waiting. Default 10 s. */
  statusGraceMs?: number;
  /**
   * How long the clean-up after a command may run once its stream has opened before what the pod
   * runs is judged to stop it (a process left looping `kill -STOP -1`). Default 60 s.
   */
  cleanUpDeadlineMs?: number;
  /** Hard limit on the pod's life (activeDeadlineSeconds). Default 24 h. */
  maxLifetimeSeconds?: number;
  /**
   * How often this process looks for expired pods in the namespace while it holds sandboxes there
   * (shared by all of them; the first look is at once). Default the lease TTL; 0: never.
   */
  reapEveryMs?: number;
  now?: () => number;
}

/** The Sandbox contract on a pod. */
export type K8sSandbox = Sandbox & {
  readonly backend: 'k8s';
  readonly pod: string;
  readonly namespace: string;
  /** Renews the lease now (the heartbeat does it on its own). */
  renew(): Promise<void>;
};

class PodSandbox implements K8sSandbox {
  readonly specificationVersion = 'v1' as const;
  readonly backend = 'k8s' as const;
  private closed = false;
  /** Why the pod ended, once seen. */
  private ended: string | null = null;
  /**
   * Set when it ended because its own commands went over its disk limit (the kubelet evicted it):
   * the agent's doing, which later commands and file reads show it rather than fail as ours.
   */
  private evictedForDisk: string | null = null;
  /**
   * Set when it ended because its processes went over the memory limit the sandbox set on the pod
   * (its container OOM-killed): the agent's doing, shown as the disk eviction is.
   */
  private outOfMemory: string | null = null;
  /** Set once createK8sSandbox hands the sandbox out: before that nothing of the agent's ran in it. */
  private handedOut = false;
  /**
   * Set when what a command left running killed every clean-up try, or stopped the clean-up, while
   * the pod ran on: the agent's doing, since only its own processes can signal an exec in its pod
   * (a stream the API never opens stays the API's failure). Nothing run in the
   * pod from then on can be trusted to finish, so later commands and file access fail as on an
   * eviction for disk, without another exec.
   */
  private overrun: string | null = null;
  /** Everything run in the pod runs one at a time, as in bwrap: the clean-up after a command kills all but pid 1. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly heartbeat: NodeJS.Timeout;
  private releaseReaper: () => void = () => undefined;
  /** Set once the pod runs: how its sh limits processes (see `limitProcesses`). */
  private processLimitFlag: ProcessLimitFlag | undefined;

  constructor(
    private readonly ctx: { config: KubeConfig; api: CoreV1Api; limits: ResolvedLimits; leaseTtlMs: number; statusGraceMs: number; cleanUpDeadlineMs: number; now: () => number },
    readonly namespace: string,
    readonly pod: string,
    readonly workdir: string,
    heartbeatMs: number,
  ) {
    this.heartbeat = setInterval(() => void this.renew().catch(() => undefined), heartbeatMs);
    this.heartbeat.unref();
  }

  private where(operation: string): string {
    return `k8s sandbox ${this.namespace}/${this.pod} ${operation}`;
  }

  /**
   * Finds how the image's sh sets the per-user process limit, so every command runs under it. An
   * image whose sh cannot is refused as set up wrongly: its commands would run with no bound on
   * processes (a fork bomb would fill the node's pid table).
   */
  async limitProcesses(image: string): Promise<void> {
    const max = this.ctx.limits.maxProcesses;
    const result = await this.run(['sh', '-c', processLimitProbe(max)], { deadlineMs: 60_000 }).catch(async (error: unknown) => {
      const ended = await this.whyEnded();
      if (ended !== null) throw new InfraError('sandbox', `${this.where('start')}: the pod ended before its first command: ${ended}`, { kind: 'unavailable', cause: error });
      throw error;
    });
    const flag = result.stdout.trim();
    if (result.exitCode === 0 && (flag === '-u' || flag === '-p')) {
      this.processLimitFlag = flag;
      return;
    }
    // A pod that ended under the probe says nothing about its image.
    const ended = await this.whyEnded();
    if (ended !== null) throw new InfraError('sandbox', `${this.where('start')}: the pod ended before its first command: ${ended}`, { kind: 'unavailable' });
    const said = `${result.stderr}${result.stdout}`.trim();
    throw new InputError(`image ${image}`, `the sh of ${this.namespace}/${this.pod} cannot limit its processes to ${max} (neither \`ulimit -u\` nor \`ulimit -p\` works; exit ${result.exitCode}${said ? `: ${said}` : ''})`, 'an image whose sh is bash, dash or busybox, and a container hard limit on processes of at least limits.maxProcesses');
  }

  /** From now on what runs in the pod may be the agent's, and so may the pod's end. */
  handOut(): void {
    this.handedOut = true;
  }

  /** Keeps the namespace's sweep going until this sandbox closes. */
  holdReaper(release: () => void): void {
    this.releaseReaper = release;
  }

  async renew(): Promise<void> {
    const { PatchStrategy, setHeaderOptions } = await k8sClient();
    const body = { metadata: { annotations: { [LEASE_ANNOTATION]: String(this.ctx.now() + this.ctx.leaseTtlMs) } } };
    await this.ctx.api.patchNamespacedPod({ name: this.pod, namespace: this.namespace, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)).catch((error: unknown) => {
      throw apiError(this.where('lease renewal'), error);
    });
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const turn = this.queue.then(task);
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new Error(`sandbox ${operation}: the sandbox is closed`);
  }

  /** Runs `argv` in the pod; output past `maxOutputBytes` (default the command output limit) is cut. */
  private run(argv: string[], options: { deadlineMs: number; stdin?: string; signal?: AbortSignal; maxOutputBytes?: number }) {
    return runInPod(this.ctx.config, { namespace: this.namespace, pod: this.pod, argv, maxOutputBytes: this.ctx.limits.maxOutputBytes, ...options });
  }

  async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    this.assertOpen('exec');
    for (const name of Object.keys(options.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`sandbox exec: ${JSON.stringify(name)} is not a valid environment variable name`);
    }
    if (!this.processLimitFlag) throw new Error(`${this.where('exec')}: the pod's process limit was never set up (createK8sSandbox does it)`);
    const processes = { flag: this.processLimitFlag, max: this.ctx.limits.maxProcesses };
    return this.serially(() => this.execNow(command, options, processes));
  }

  private async execNow(command: string, options: ExecOptions, processes: { flag: ProcessLimitFlag; max: number }): Promise<ExecResult> {
    const started = Date.now();
    if (options.signal?.aborted) return { exitCode: 130, stdout: '', stderr: 'sandbox: the command was aborted\n', timedOut: false, truncated: false, durationMs: 0 };
    const failed = (stderr: string, sandboxFailure: string): ExecResult => this.agentEnded({ stdout: '', stderr: '' }, started) ?? { exitCode: 137, stdout: '', stderr: `sandbox: ${stderr}\n`, timedOut: false, truncated: false, durationMs: Date.now() - started, sandboxFailure };
    const broken = this.agentEnded({ stdout: '', stderr: '' }, started);
    if (broken) return broken;
    if (this.ended !== null) return failed(this.ended, `the pod had ended before the command: ${this.ended}`);
    const timeoutMs = effectiveTimeout(options.timeoutMs, this.ctx.limits);
    const cwd = options.cwd === undefined ? this.workdir : options.cwd.startsWith('/') ? options.cwd : `${this.workdir}/${options.cwd}`;
    const script = commandScript({ command, cwd, env: options.env ?? {}, seconds: Math.max(0.001, timeoutMs / 1000), processes });
    // The pod's `timeout` ends the command; the client waits a little longer for the status to arrive.
    let result;
    try {
      result = await this.run(['sh', '-c', script], { deadlineMs: timeoutMs + this.ctx.statusGraceMs, ...(options.stdin !== undefined ? { stdin: options.stdin } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      // The exec stream broke: if the pod ended under it, say so; otherwise the API failed.
      const ended = await this.whyEnded();
      if (ended !== null) return failed(ended, `the pod ended while the command ran: ${ended}`);
      throw error;
    }
    const durationMs = Date.now() - started;
    const timedOut = result.cut === 'deadline' || (result.exitCode === KILLED_STATUS && durationMs >= timeoutMs);
    const exitCode = timedOut ? 124 : result.cut === 'aborted' ? 130 : result.exitCode;
    const outcome = { exitCode, stdout: result.stdout, stderr: result.stderr, timedOut, truncated: result.truncated, durationMs };
    // Killed by a signal it did not get from its own deadline: a pod that ends kills everything in
    // it, which must not read as the command's own failure. A command killed while the pod runs on
    // (its memory limit, its own `kill`) is the command's outcome. So is a stream still open well
    // past the command's own `timeout`, unless the pod ended under it (then no status comes).
    let ended = result.cut === 'deadline' || (result.cut === null && !timedOut && exitCode > 128) ? await this.whyEnded() : null;
    // The script kills what the command left once it ends, unless the client stopped listening
    // first (output cap, deadline, abort: the command runs on) or the script itself was killed
    // (only SIGKILL does that, by the command's hand): then it is done from here, before anything
    // else runs in the pod.
    if (ended === null && (result.cut !== null || result.exitCode > 128)) {
      const note = await this.killLeftovers();
      if (note === 'ended') ended = this.ended;
      else if (note) outcome.stderr += `${outcome.stderr && !outcome.stderr.endsWith('\n') ? '\n' : ''}${note === 'overrun' ? `sandbox: ${this.overrun}` : note}\n`;
    }
    if (ended === null) return outcome;
    return this.agentEnded(outcome, started) ?? { ...outcome, sandboxFailure: `the pod ended while the command ran: ${ended}` };
  }

  /**
   * Kills every process in the pod but pid 1. Returns a note for the command's stderr when some
   * would not die, 'ended' when the pod turns out to have ended, 'overrun' when what the command
   * left killed every try (see `overrun`); throws when the API fails.
   */
  private async killLeftovers(): Promise<string | 'ended' | 'overrun' | undefined> {
    try {
      for (let attempt = 1; ; attempt++) {
        const result = await this.run(['sh', '-c', reapScript()], { deadlineMs: this.ctx.cleanUpDeadlineMs });
        if (result.exitCode === 0) return undefined;
        if (result.exitCode === 1 && result.cut === null) return result.stderr.trim();
        // Killed by what it came to kill: the abandoned command's own script reaping as it ends,
        // or a leftover process signalling everything. A try whose first line runs kills those.
        if (result.exitCode === KILLED_STATUS && result.cut === null) {
          if (attempt < REAP_TRIES) continue;
          // The API ran every try and reported it SIGKILLed: unless the pod ended under them,
          // something in the pod did it, and only the agent's processes run there.
          if ((await this.whyEnded()) !== null) return 'ended';
          this.overrun = `what the commands left running kills every process started in the pod (the clean-up after the command was killed on all ${REAP_TRIES} tries), so nothing more can run in this sandbox`;
          return 'overrun';
        }
        // The API opened the clean-up's stream (a stream that never opens fails as the API's) and
        // the pod runs on, yet no status came: something in the pod stopped the clean-up (a
        // process looping `kill -STOP -1`; only the agent's processes can signal it) or starved it.
        if (result.cut === 'deadline') {
          if ((await this.whyEnded()) !== null) return 'ended';
          this.overrun = `what the commands left running stops every process started in the pod (the clean-up after the command started but did not finish within ${Math.round(this.ctx.cleanUpDeadlineMs / 1000)} s while the pod ran on), so nothing more can run in this sandbox`;
          return 'overrun';
        }
        throw new Error(`exit ${result.exitCode}${result.cut ? ` (${result.cut})` : ''}${attempt > 1 ? ` after ${attempt} tries` : ''}: ${clip(result.stderr.trim())}`);
      }
    } catch (error) {
      if ((await this.whyEnded()) !== null) return 'ended';
      throw new InfraError('sandbox', `${this.where('clean-up')}: the processes a command left could not be killed: ${errorMessage(error)}`, { kind: 'unavailable', cause: error });
    }
  }

  /** Why the agent's own doing left the pod unable to run anything (evicted for its disk use, OOM-killed, overrun), or null. */
  private get brokenByAgent(): string | null {
    return this.evictedForDisk !== null ? `${EVICTED_FOR_DISK}: ${this.evictedForDisk}` : (this.outOfMemory ?? this.overrun);
  }

  /**
   * What a command gets from a pod the agent broke (evicted for going over its own disk limit,
   * OOM-killed for going over its own memory limit, overrun by what its commands left): shown to
   * it as its command's failure (137, and why), so that it cannot turn a rollout into a retried
   * infrastructure error. Undefined when it did not.
   */
  private agentEnded(output: { stdout: string; stderr: string }, started: number): ExecResult | undefined {
    const why = this.brokenByAgent;
    if (why === null) return undefined;
    const said = `${output.stderr}${output.stderr && !output.stderr.endsWith('\n') ? '\n' : ''}`;
    return { exitCode: 137, stdout: output.stdout, stderr: `${said}sandbox: ${why}\n`, timedOut: false, truncated: false, durationMs: Date.now() - started };
  }

  /**
   * Why the pod can run no more commands (deleted, ended, its container stopped or restarted), or
   * null while it runs. Remembered: an ended pod never runs again. A pod that cannot be read
   * counts as ended, so an unknown never scores as the command's outcome.
   */
  private async whyEnded(): Promise<string | null> {
    if (this.ended !== null) return this.ended;
    let pod: V1Pod;
    try {
      pod = await this.ctx.api.readNamespacedPod({ name: this.pod, namespace: this.namespace });
    } catch (error) {
      this.ended = statusOf(error) === 404 ? 'the pod was deleted' : `the pod could not be read: ${errorMessage(error)}`;
      return this.ended;
    }
    this.ended = podEndedReason(pod);
    if (this.ended !== null) {
      this.evictedForDisk = diskLimitEviction(pod);
      // A limit too small for the sandbox's own start-up is the set-up's failure, not the agent's.
      if (this.handedOut && memoryLimitKill(pod)) this.outOfMemory = outOfMemoryReason(this.ctx.limits.memoryBytes);
    }
    return this.ended;
  }

  /**
   * Runs a file script in its turn. 'gone' when the pod ended for going over its own disk or
   * memory limit (before or under it; its files went with it) or was overrun before it (nothing
   * run in it can be trusted to finish). Exit 3 is a path leading out of the work dir, 5 one the
   * pod's own commands made unreadable or unwritable: both the agent's to see.
   */
  private fileOp(operation: string, path: string, script: string, options: { stdin?: string; maxOutputBytes: number }) {
    return this.serially(async () => {
      if (this.brokenByAgent !== null) return 'gone' as const;
      let result;
      try {
        result = await this.run(['sh', '-c', script], { deadlineMs: 60_000, ...options });
      } catch (error) {
        if ((await this.whyEnded()) !== null && this.brokenByAgent !== null) return 'gone' as const;
        throw error;
      }
      if (result.exitCode === KILLED_STATUS && (await this.whyEnded()) !== null && this.brokenByAgent !== null) return 'gone' as const;
      if (result.exitCode === 3) throw new SandboxPathError(`sandbox ${operation}: ${result.stderr.trim()}`);
      if (result.exitCode === 5) throw new SandboxPathError(`sandbox ${operation}: ${JSON.stringify(path)}: ${result.stderr.trim()} (the sandbox's own commands changed its permissions)`);
      return result;
    });
  }

  /** A file may be as large as the disk allows, as on every other backend: the command output limit is for what the model reads, not for the files a check reads. */
  private get fileBytes(): number {
    return Math.max(this.ctx.limits.maxOutputBytes, this.ctx.limits.diskBytes);
  }

  async readFile(path: string, options: ReadFileOptions = {}): Promise<string | null> {
    this.assertOpen('readFile');
    const rel = requireRelative(path, this.workdir, 'readFile');
    const maxBytes = readBound(options);
    // The caller's bound, where it is the tighter: the stream is cut there, so no more of the file comes.
    const bounded = maxBytes !== undefined && maxBytes <= this.fileBytes;
    const result = await this.fileOp('readFile', path, readScript(this.workdir, rel), { maxOutputBytes: bounded ? maxBytes : this.fileBytes });
    if (result === 'gone' || result.exitCode === 2) return null;
    if (bounded && result.truncated) throw new FileTooLargeError(path, maxBytes);
    if (result.exitCode !== 0 || result.truncated) throw new InfraError('sandbox', `${this.where('readFile')} ${path}: exit ${result.exitCode}${result.truncated ? ' (file over the output limit)' : ''}: ${result.stderr.trim()}`, { kind: 'unavailable' });
    return result.stdout;
  }

  async writeFile(path: string, content: string): Promise<void> {
    this.assertOpen('writeFile');
    const rel = requireRelative(path, this.workdir, 'writeFile');
    const result = await this.fileOp('writeFile', path, writeScript(this.workdir, rel), { stdin: content, maxOutputBytes: this.fileBytes });
    if (result === 'gone') {
      // A full disk reads as one, as on every backend; an OOM-killed or overrun pod is the agent's too.
      if (this.evictedForDisk !== null) throw new SandboxFullError(`sandbox writeFile: ${path}: ${EVICTED_FOR_DISK}: ${this.evictedForDisk}`);
      throw new SandboxPathError(`sandbox writeFile: ${path}: ${this.brokenByAgent}`);
    }
    // The agent filled its disk: as on bwrap, the write fails as the agent's (a retry would find it as full).
    if (result.exitCode !== 0 && /No space left on device|Disk quota exceeded/.test(result.stderr)) {
      throw new SandboxFullError(`sandbox writeFile: ${path}: No space left on device (its ${Buffer.byteLength(content)} bytes do not fit in the sandbox's disk limit)`);
    }
    if (result.exitCode !== 0) throw new InfraError('sandbox', `${this.where('writeFile')} ${path}: exit ${result.exitCode}: ${result.stderr.trim()}`, { kind: 'unavailable' });
  }

  async listFiles(): Promise<FileEntry[]> {
    this.assertOpen('listFiles');
    const result = await this.fileOp('listFiles', '.', listScript(this.workdir), { maxOutputBytes: Math.max(this.ctx.limits.maxOutputBytes, LISTING_MAX_BYTES) });
    if (result === 'gone') return [];
    if (result.exitCode !== 0 || result.truncated) throw new InfraError('sandbox', `${this.where('listFiles')}: exit ${result.exitCode}${result.truncated ? ` (the listing is over ${LISTING_MAX_BYTES} bytes)` : ''}: ${result.stderr.trim()}`, { kind: 'unavailable' });
    const files: FileEntry[] = [];
    // Records end with a NUL; a name may hold newlines.
    for (const record of result.stdout.split('\0').filter(Boolean)) {
      const match = /^(\d+) ([0-9a-f]{64}) (.+)$/s.exec(record);
      if (!match) throw new InfraError('sandbox', `${this.where('listFiles')}: unexpected record ${JSON.stringify(record.slice(0, 300))}`, { kind: 'malformed_response' });
      files.push({ size: Number(match[1]), sha256: match[2] ?? '', path: match[3] ?? '' });
    }
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.releaseReaper();
    await this.ctx.api.deleteNamespacedPod({ name: this.pod, namespace: this.namespace, gracePeriodSeconds: 0 }).catch((error: unknown) => {
      if (statusOf(error) !== 404) throw apiError(this.where('delete'), error);
    });
  }
}

/** What a command of a pod evicted for its own disk use is told (its files went with the pod). */
const EVICTED_FOR_DISK = 'the pod was evicted for going over its disk limit, and its files went with it';

/** What a command of a pod OOM-killed for its own memory use is told, naming the limit. */
function outOfMemoryReason(memoryBytes: number): string {
  const mib = Number((memoryBytes / 1024 ** 2).toFixed(1));
  return `the sandbox's processes went over its memory limit of ${mib} MiB (${memoryBytes} bytes) and the container was OOM-killed with everything in it; its files went with it`;
}

/**
 * Whether sandboxes can be made here: the kubeconfig loads and the API lists pods in the
 * namespace. Returns the API server and namespace; throws InfraError from the API, or the
 * kubeconfig's own error.
 */
export async function probeK8sSandboxes(options: { kubeConfig?: KubeConfig; namespace?: string } = {}): Promise<{ server: string; namespace: string }> {
  const config = options.kubeConfig ?? (await defaultKubeConfig());
  const namespace = namespaceFor(config, options.namespace);
  const server = clusterServer(config);
  await (await coreApi(config))
    .listNamespacedPod({ namespace, labelSelector: SANDBOX_SELECTOR, limit: 1 })
    .catch((error: unknown) => {
      throw apiError(`the Kubernetes API at ${server}: listing pods in ${namespace}`, error);
    });
  return { server, namespace };
}

/** What a cluster must offer k8s sandboxes: the hint every command gives when the API cannot be used. */
export const K8S_CLUSTER_EXPECTED = 'a reachable cluster in the kubeconfig (KUBECONFIG, ~/.kube/config or in-cluster) that lets this user list, create, patch and delete pods and exec into them';

/**
 * What a run or server checks before it starts: the image and namespace from `env` and a cluster
 * that answers. InputError naming the variable, the kubeconfig, or `Kubernetes API`. With
 * `defaultImage: false` (every task brings its own image) the image variable may be unset.
 */
export async function checkK8sSandboxes(env: NodeJS.ProcessEnv, options: { defaultImage?: boolean } = {}): Promise<{ server: string; namespace: string }> {
  const namespace = options.defaultImage === false ? k8sNamespaceFromEnv(env) : k8sTargetFromEnv(env).namespace;
  try {
    return await probeK8sSandboxes(namespace !== undefined ? { namespace } : {});
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError('Kubernetes API', `k8s sandboxes cannot be made: ${errorMessage(error)}`, K8S_CLUSTER_EXPECTED);
  }
}

/** Starts a pod and waits until it runs; on any failure the pod is deleted again. */
export async function createK8sSandbox(options: K8sSandboxOptions): Promise<K8sSandbox> {
  const config = options.kubeConfig ?? (await defaultKubeConfig());
  const api = await coreApi(config, { ...DEFAULT_API_BOUNDS, ...(options.requestTimeoutMs !== undefined ? { timeoutMs: options.requestTimeoutMs } : {}) });
  const namespace = namespaceFor(config, options.namespace);
  const limits = resolveLimits(options.limits);
  const workdir = resolveWorkdir(options.workdir);
  const now = options.now ?? Date.now;
  const leaseTtlMs = options.leaseTtlMs ?? 60_000;
  const name = `gauntlet-sbx-${randomBytes(6).toString('hex')}`;
  const where = `k8s sandbox ${namespace}/${name}`;
  const uid = randomInt(SANDBOX_UIDS.min, SANDBOX_UIDS.max + 1);
  const manifest = podManifest({ name, image: options.image, workdir, limits, uid, leaseExpiresAt: now() + leaseTtlMs, maxLifetimeSeconds: options.maxLifetimeSeconds ?? 86_400 });
  await api.createNamespacedPod({ namespace, body: manifest }).catch(async (error: unknown) => {
    // No answer, or one that could not be read: the pod may have been made all the same, so it is
    // deleted (if that fails too, its lease runs out and any sweep takes it). A 4xx says nothing
    // was made; a 409 names a pod that is not ours.
    const status = statusOf(error);
    if (status === undefined || status >= 500) await api.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
    throw apiError(`${where}: create`, error);
  });
  const sandbox = new PodSandbox({ config, api, limits, leaseTtlMs, statusGraceMs: options.statusGraceMs ?? 10_000, cleanUpDeadlineMs: options.cleanUpDeadlineMs ?? 60_000, now }, namespace, name, workdir, options.heartbeatMs ?? Math.max(50, Math.floor(leaseTtlMs / 3)));
  try {
    await waitUntilRunning(api, { namespace, name, image: options.image, startTimeoutMs: options.startTimeoutMs ?? 120_000, pollMs: options.pollMs ?? 250 });
    await sandbox.limitProcesses(options.image);
    for (const [path, content] of Object.entries(options.files ?? {})) await sandbox.writeFile(path, content);
    const reapEveryMs = options.reapEveryMs ?? leaseTtlMs;
    if (reapEveryMs > 0) sandbox.holdReaper(holdReaper(config, namespace, { everyMs: reapEveryMs, graceMs: leaseTtlMs, ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}) }, now));
    sandbox.handOut();
    return sandbox;
  } catch (error) {
    await sandbox.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Reads the pod until it runs. A read the API fails in a way worth retrying (5xx, 429, no answer)
 * is read again until the start deadline; what the pod waits on (ImagePullBackOff and the like) is
 * in the message when it never runs.
 */
async function waitUntilRunning(api: CoreV1Api, pod: { namespace: string; name: string; image: string; startTimeoutMs: number; pollMs: number }): Promise<void> {
  const where = `k8s sandbox ${pod.namespace}/${pod.name}`;
  const deadline = Date.now() + pod.startTimeoutMs;
  let last = 'not read yet';
  for (;;) {
    let read: V1Pod | undefined;
    try {
      read = await api.readNamespacedPod({ name: pod.name, namespace: pod.namespace });
    } catch (error) {
      const failure = apiError(`${where}: read`, error);
      if (!failure.retryable) throw failure;
      last = `the last read failed: ${failure.message}`;
    }
    if (read) {
      const phase = read.status?.phase;
      if (phase === 'Running') return;
      if (phase === 'Failed' || phase === 'Succeeded') throw new InfraError('sandbox', `${where} ended before it ran a command (${phase}: ${clip(read.status?.message ?? read.status?.reason ?? 'no reason given')})`, { kind: 'unavailable' });
      const waiting = read.status?.containerStatuses?.find((c) => c.name === CONTAINER)?.state?.waiting;
      // The image reference itself is wrong: no wait or retry mends that.
      if (waiting?.reason === 'InvalidImageName') throw new InputError(`image ${pod.image}`, `Kubernetes refuses it: ${clip(waiting.message ?? 'InvalidImageName')}`, 'an image reference such as debian:bookworm-slim');
      last = `phase ${phase ?? 'unknown'}${waiting?.reason ? `, waiting: ${waiting.reason}${waiting.message ? `: ${clip(waiting.message)}` : ''}` : ''}`;
    }
    if (Date.now() > deadline) throw new InfraError('sandbox', `${where} was not running after ${pod.startTimeoutMs} ms (${last})`, { kind: 'timeout' });
    await new Promise((resolve) => setTimeout(resolve, pod.pollMs));
  }
}
