// The Kubernetes mode: one pod per sandbox, started through the API, commands and files through
// the exec API, limits as the pod's resources. The pod carries a lease annotation that the client
// renews; any Gauntlet process deletes pods whose lease ran out (reapK8sSandboxes).
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { errorMessage, InfraError, type ExecOptions, type ExecResult, type FileEntry, type Sandbox } from '../../core/index.ts';
import { effectiveTimeout, resolveLimits, type ResolvedLimits, type SandboxLimits } from '../limits.ts';
import { requireRelative, resolveWorkdir, SandboxPathError } from '../paths.ts';
import { runInPod } from './exec.ts';
import { commandScript, KILLED_STATUS, LEASE_ANNOTATION, listScript, podManifest, readScript, SANDBOX_SELECTOR, writeScript } from './pod.ts';

export interface K8sSandboxOptions {
  /** Default: the usual kubeconfig (KUBECONFIG, ~/.kube/config, or in-cluster). */
  kubeConfig?: KubeConfig;
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
  /** Hard limit on the pod's life (activeDeadlineSeconds). Default 24 h. */
  maxLifetimeSeconds?: number;
  now?: () => number;
}

/** The Sandbox contract on a pod. `backend` is 'k8s', outside core's Sandbox['backend'] until core lists it. */
export type K8sSandbox = Omit<Sandbox, 'backend'> & {
  readonly backend: 'k8s';
  readonly pod: string;
  readonly namespace: string;
  /** Renews the lease now (the heartbeat does it on its own). */
  renew(): Promise<void>;
};

const statusOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
};

function apiError(where: string, error: unknown): InfraError {
  const status = statusOf(error);
  return new InfraError('sandbox', `${where}: ${errorMessage(error)}`, { kind: status === undefined ? 'connection' : 'http', retryable: status === undefined || status >= 500 || status === 429, ...(status !== undefined ? { detail: { status } } : {}) });
}

class PodSandbox implements K8sSandbox {
  readonly specificationVersion = 'v1' as const;
  readonly backend = 'k8s' as const;
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly ctx: { config: KubeConfig; api: CoreV1Api; limits: ResolvedLimits; leaseTtlMs: number; now: () => number },
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

  async renew(): Promise<void> {
    const body = { metadata: { annotations: { [LEASE_ANNOTATION]: String(this.ctx.now() + this.ctx.leaseTtlMs) } } };
    await this.ctx.api.patchNamespacedPod({ name: this.pod, namespace: this.namespace, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)).catch((error: unknown) => {
      throw apiError(this.where('lease renewal'), error);
    });
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new Error(`sandbox ${operation}: the sandbox is closed`);
  }

  private run(argv: string[], options: { deadlineMs: number; stdin?: string; signal?: AbortSignal }) {
    return runInPod(this.ctx.config, { namespace: this.namespace, pod: this.pod, argv, maxOutputBytes: this.ctx.limits.maxOutputBytes, ...options });
  }

  async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    this.assertOpen('exec');
    const started = Date.now();
    if (options.signal?.aborted) return { exitCode: 130, stdout: '', stderr: 'sandbox: the command was aborted\n', timedOut: false, truncated: false, durationMs: 0 };
    for (const name of Object.keys(options.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`sandbox exec: ${JSON.stringify(name)} is not a valid environment variable name`);
    }
    const timeoutMs = effectiveTimeout(options.timeoutMs, this.ctx.limits);
    const cwd = options.cwd === undefined ? this.workdir : options.cwd.startsWith('/') ? options.cwd : `${this.workdir}/${options.cwd}`;
    const script = commandScript({ command, cwd, env: options.env ?? {}, seconds: Math.max(0.001, timeoutMs / 1000) });
    // The pod's `timeout` ends the command; the client waits a little longer for the status to arrive.
    const result = await this.run(['sh', '-c', script], { deadlineMs: timeoutMs + 10_000, ...(options.stdin !== undefined ? { stdin: options.stdin } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    const durationMs = Date.now() - started;
    const timedOut = result.cut === 'deadline' || (result.exitCode === KILLED_STATUS && durationMs >= timeoutMs);
    const exitCode = timedOut ? 124 : result.cut === 'aborted' ? 130 : result.exitCode;
    return { exitCode, stdout: result.stdout, stderr: result.stderr, timedOut, truncated: result.truncated, durationMs };
  }

  private async fileOp(operation: string, script: string, stdin?: string) {
    const result = await this.run(['sh', '-c', script], { deadlineMs: 60_000, ...(stdin !== undefined ? { stdin } : {}) });
    if (result.exitCode === 3) throw new SandboxPathError(`sandbox ${operation}: ${result.stderr.trim()}`);
    return result;
  }

  async readFile(path: string): Promise<string | null> {
    this.assertOpen('readFile');
    const rel = requireRelative(path, this.workdir, 'readFile');
    const result = await this.fileOp('readFile', readScript(this.workdir, rel));
    if (result.exitCode === 2) return null;
    if (result.exitCode !== 0 || result.truncated) throw new InfraError('sandbox', `${this.where('readFile')} ${path}: exit ${result.exitCode}${result.truncated ? ' (file over the output limit)' : ''}: ${result.stderr.trim()}`, { kind: 'unavailable' });
    return result.stdout;
  }

  async writeFile(path: string, content: string): Promise<void> {
    this.assertOpen('writeFile');
    const rel = requireRelative(path, this.workdir, 'writeFile');
    const result = await this.fileOp('writeFile', writeScript(this.workdir, rel), content);
    if (result.exitCode !== 0) throw new InfraError('sandbox', `${this.where('writeFile')} ${path}: exit ${result.exitCode}: ${result.stderr.trim()}`, { kind: 'unavailable' });
  }

  async listFiles(): Promise<FileEntry[]> {
    this.assertOpen('listFiles');
    const result = await this.run(['sh', '-c', listScript(this.workdir)], { deadlineMs: 60_000 });
    if (result.exitCode !== 0 || result.truncated) throw new InfraError('sandbox', `${this.where('listFiles')}: exit ${result.exitCode}: ${result.stderr.trim()}`, { kind: 'unavailable' });
    const files: FileEntry[] = [];
    for (const line of result.stdout.split('\n').filter(Boolean)) {
      const match = /^(\d+) ([0-9a-f]{64}) (.+)$/.exec(line);
      if (!match) throw new InfraError('sandbox', `${this.where('listFiles')}: unexpected line ${JSON.stringify(line)}`, { kind: 'malformed_response' });
      files.push({ size: Number(match[1]), sha256: match[2] ?? '', path: match[3] ?? '' });
    }
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    await this.ctx.api.deleteNamespacedPod({ name: this.pod, namespace: this.namespace, gracePeriodSeconds: 0 }).catch((error: unknown) => {
      if (statusOf(error) !== 404) throw apiError(this.where('delete'), error);
    });
  }
}

function defaultConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromDefault();
  return config;
}

/** Deletes Gauntlet sandbox pods whose lease has run out; returns their names. */
export async function reapK8sSandboxes(options: { kubeConfig?: KubeConfig; namespace?: string; now?: () => number }): Promise<string[]> {
  const api = (options.kubeConfig ?? defaultConfig()).makeApiClient(CoreV1Api);
  const namespace = options.namespace ?? 'default';
  const now = (options.now ?? Date.now)();
  const list = await api.listNamespacedPod({ namespace, labelSelector: SANDBOX_SELECTOR }).catch((error: unknown) => {
    throw apiError(`k8s sandboxes in ${namespace}: list`, error);
  });
  const expired = list.items.filter((pod) => {
    const expires = Number(pod.metadata?.annotations?.[LEASE_ANNOTATION]);
    // A pod of ours without a readable lease cannot be renewed by anyone: it is a leftover.
    return !Number.isFinite(expires) || expires <= now;
  });
  const names = expired.map((pod) => pod.metadata?.name).filter((name): name is string => name !== undefined);
  await Promise.all(
    names.map((name) =>
      api.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch((error: unknown) => {
        if (statusOf(error) !== 404) throw apiError(`k8s sandbox ${namespace}/${name}: delete`, error);
      }),
    ),
  );
  return names;
}

/** Starts a pod and waits until it runs; on any failure the pod is deleted again. */
export async function createK8sSandbox(options: K8sSandboxOptions): Promise<K8sSandbox> {
  const config = options.kubeConfig ?? defaultConfig();
  const api = config.makeApiClient(CoreV1Api);
  const namespace = options.namespace ?? 'default';
  const limits = resolveLimits(options.limits);
  const workdir = resolveWorkdir(options.workdir);
  const now = options.now ?? Date.now;
  const leaseTtlMs = options.leaseTtlMs ?? 60_000;
  const name = `gauntlet-sbx-${randomBytes(6).toString('hex')}`;
  const manifest = podManifest({ name, image: options.image, workdir, limits, leaseExpiresAt: now() + leaseTtlMs, maxLifetimeSeconds: options.maxLifetimeSeconds ?? 86_400 });
  await api.createNamespacedPod({ namespace, body: manifest }).catch((error: unknown) => {
    throw apiError(`k8s sandbox ${namespace}/${name}: create`, error);
  });
  const sandbox = new PodSandbox({ config, api, limits, leaseTtlMs, now }, namespace, name, workdir, options.heartbeatMs ?? Math.max(50, Math.floor(leaseTtlMs / 3)));
  try {
    const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
    for (;;) {
      const pod = await api.readNamespacedPod({ name, namespace }).catch((error: unknown) => {
        throw apiError(`k8s sandbox ${namespace}/${name}: read`, error);
      });
      const phase = pod.status?.phase;
      if (phase === 'Running') break;
      if (phase === 'Failed' || phase === 'Succeeded') throw new InfraError('sandbox', `k8s sandbox ${namespace}/${name} ended before it ran a command (${phase}: ${pod.status?.message ?? pod.status?.reason ?? 'no reason given'})`, { kind: 'unavailable' });
      if (Date.now() > deadline) throw new InfraError('sandbox', `k8s sandbox ${namespace}/${name} was not running after ${options.startTimeoutMs ?? 120_000} ms (phase ${phase ?? 'unknown'})`, { kind: 'timeout' });
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
    }
    for (const [path, content] of Object.entries(options.files ?? {})) await sandbox.writeFile(path, content);
    return sandbox;
  } catch (error) {
    await sandbox.close().catch(() => undefined);
    throw error;
  }
}
