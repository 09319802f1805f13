// Reaping: deleting the pods of Gauntlet processes that died, found by their lease annotation. Any
// process may run it (the ones holding sandboxes in a namespace do, in the background); so it
// trusts nothing about the API's answer that it can check itself, and deletes a pod only if the
// pod is still as it was when its lease was read.
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { errorMessage, InfraError } from '../../core/index.ts';
import { apiError, coreApi, DEFAULT_API_BOUNDS, statusOf } from './api.ts';
import { clusterServer, defaultKubeConfig, namespaceFor } from './config.ts';
import { LEASE_ANNOTATION, MANAGED_BY_LABEL, SANDBOX_LABEL, SANDBOX_SELECTOR } from './pod.ts';

/** Pods asked for per list request, so that no one answer is large. */
const PAGE = 100;
/** More pages than any namespace holds: a `continue` token that never ends is the API looping. */
const MAX_PAGES = 10_000;

/** When anyone may delete `pod` (epoch ms): its lease, but never after the pod's own deadline has ended it. */
export function leaseEnd(pod: V1Pod): number {
  const written = Number(pod.metadata?.annotations?.[LEASE_ANNOTATION]);
  // A pod of ours without a readable lease cannot be renewed by anyone: it is a leftover.
  const lease = Number.isFinite(written) ? written : -Infinity;
  // Past activeDeadlineSeconds the kubelet has killed the pod, whatever its lease says: a lease in
  // the far future must not keep a dead pod forever.
  const created = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : NaN;
  const deadline = pod.spec?.activeDeadlineSeconds;
  const ends = Number.isFinite(created) && typeof deadline === 'number' && deadline > 0 ? created + deadline * 1000 : Infinity;
  return Math.min(lease, ends);
}

/** Whether a listed pod is one of ours in `namespace`: the API's label filter is not taken on trust. */
function isSandboxPod(pod: V1Pod, namespace: string): boolean {
  const labels = pod.metadata?.labels ?? {};
  return labels[MANAGED_BY_LABEL] === 'gauntlet' && labels[SANDBOX_LABEL] === 'true' && (pod.metadata?.namespace === undefined || pod.metadata.namespace === namespace);
}

async function listSandboxPods(api: CoreV1Api, namespace: string): Promise<V1Pod[]> {
  const pods: V1Pod[] = [];
  const seen = new Set<string>();
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await api.listNamespacedPod({ namespace, labelSelector: SANDBOX_SELECTOR, limit: PAGE, ...(token ? { _continue: token } : {}) }).catch((error: unknown) => {
      throw apiError(`k8s sandboxes in ${namespace}: list`, error);
    });
    pods.push(...(Array.isArray(list.items) ? list.items : []));
    token = list.metadata?._continue || undefined;
    if (token === undefined) return pods;
    if (seen.has(token)) break;
    seen.add(token);
  }
  throw new InfraError('sandbox', `k8s sandboxes in ${namespace}: list: the API's pages do not end (a continue token came back twice, or over ${MAX_PAGES} pages)`, { kind: 'malformed_response' });
}

/**
 * Deletes Gauntlet sandbox pods whose lease ran out more than `graceMs` ago (default 0); returns
 * their names. A pod renewed between the list and its delete is kept.
 */
export async function reapK8sSandboxes(options: { kubeConfig?: KubeConfig; namespace?: string; now?: () => number; graceMs?: number; requestTimeoutMs?: number } = {}): Promise<string[]> {
  const config = options.kubeConfig ?? (await defaultKubeConfig());
  const api = await coreApi(config, { ...DEFAULT_API_BOUNDS, ...(options.requestTimeoutMs !== undefined ? { timeoutMs: options.requestTimeoutMs } : {}) });
  const namespace = namespaceFor(config, options.namespace);
  const now = (options.now ?? Date.now)() - (options.graceMs ?? 0);
  const expired = (await listSandboxPods(api, namespace)).filter((pod) => isSandboxPod(pod, namespace) && pod.metadata?.name && leaseEnd(pod) <= now);
  const deleted = await Promise.all(
    expired.map(async (pod) => {
      const name = pod.metadata?.name ?? '';
      // Deleted only as listed: a renewal since then changed its resourceVersion (409, kept).
      const { resourceVersion, uid } = pod.metadata ?? {};
      const preconditions = { ...(resourceVersion ? { resourceVersion } : {}), ...(uid ? { uid } : {}) };
      try {
        await api.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0, body: { preconditions } });
        return name;
      } catch (error) {
        const status = statusOf(error);
        if (status === 404 || status === 409) return null;
        throw apiError(`k8s sandbox ${namespace}/${name}: delete`, error);
      }
    }),
  );
  return deleted.filter((name): name is string => name !== null);
}

/** One background sweep per cluster and namespace, shared by every sandbox this process holds there. */
const reapers = new Map<string, { holders: number; timer: NodeJS.Timeout }>();

/** Keeps a sweep of `namespace` going until the returned release has been called once per hold. */
export function holdReaper(config: KubeConfig, namespace: string, timing: { everyMs: number; graceMs: number; requestTimeoutMs?: number }, now: () => number): () => void {
  const key = `${clusterServer(config)}\n${namespace}`;
  let reaper = reapers.get(key);
  if (!reaper) {
    let warned = false;
    const sweep = () =>
      // The lease TTL is granted again as slack: leases are written by other machines' clocks.
      void reapK8sSandboxes({ kubeConfig: config, namespace, now, graceMs: timing.graceMs, ...(timing.requestTimeoutMs !== undefined ? { requestTimeoutMs: timing.requestTimeoutMs } : {}) }).catch((error: unknown) => {
        if (warned) return;
        warned = true;
        process.stderr.write(`gauntlet: could not look for expired k8s sandboxes in ${namespace}: ${errorMessage(error)} (will keep trying)\n`);
      });
    const timer = setInterval(sweep, timing.everyMs);
    timer.unref();
    reaper = { holders: 0, timer };
    reapers.set(key, reaper);
    sweep();
  }
  reaper.holders++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const held = reapers.get(key);
    if (held && --held.holders === 0) {
      clearInterval(held.timer);
      reapers.delete(key);
    }
  };
}
