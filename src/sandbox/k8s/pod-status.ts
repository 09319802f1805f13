// Reading a sandbox pod's status as the API shows it: whether it can still run commands, and when
// it cannot, whether the agent's own commands ended it (its disk or memory limit) or the cluster did.
import type { V1ContainerStateTerminated, V1Pod } from '@kubernetes/client-node';
import { CONTAINER } from './pod.ts';

/** At most this much of a message the API wrote goes into ours. */
export const clip = (text: string) => (text.length > 500 ? `${text.slice(0, 500)}…` : text);

/** Why a pod as the API shows it can run no more commands, or null while it can. */
export function podEndedReason(pod: V1Pod): string | null {
  if (pod.metadata?.deletionTimestamp) return 'the pod is being deleted';
  const phase = pod.status?.phase;
  const container = pod.status?.containerStatuses?.find((c) => c.name === CONTAINER);
  const terminated = container?.state?.terminated;
  const describe = (t: V1ContainerStateTerminated) => `${clip(t.reason ?? 'terminated')}, exit ${t.exitCode}${t.message ? `: ${clip(t.message)}` : ''}`;
  // The pod's own reason (Evicted) says more than its container's; its message says why.
  const { reason, message } = pod.status ?? {};
  const why = reason ? `${clip(reason)}${message ? `: ${clip(message.trim())}` : ''}` : terminated ? describe(terminated) : message !== undefined ? clip(message) : undefined;
  if (phase === 'Failed' || phase === 'Succeeded') return `the pod ended (${phase}${why ? `: ${why}` : ''})`;
  if (terminated) return `the container stopped (${describe(terminated)})`;
  // Files outside the work dir and processes are gone after a restart, even if it runs again.
  if (container && container.restartCount > 0) {
    const last = container.lastState?.terminated;
    return `the container restarted ${container.restartCount} time(s)${last ? ` (last: ${describe(last)})` : ''}`;
  }
  return null;
}

/**
 * The kubelet's message when it evicted the pod for going over its own ephemeral-storage limits
 * (the work dir's sizeLimit, the container's limit, the pod's total), else null. An eviction for
 * the node running low on disk is not this: other pods may have filled it.
 */
export function diskLimitEviction(pod: V1Pod): string | null {
  if (pod.status?.reason !== 'Evicted') return null;
  const message = pod.status.message ?? '';
  return /Usage of EmptyDir volume .* exceeds the limit|exceeded its local ephemeral storage limit|ephemeral local storage usage exceeds the total limit/i.test(message) ? clip(message.trim()) : null;
}

/**
 * Whether the sandbox's container was OOM-killed by the memory limit the sandbox set on it: the
 * kubelet reports it terminated `OOMKilled` (with cgroup v2 the kernel kills the whole container),
 * on a pod the cluster neither evicted, deleted nor otherwise ended.
 *
 * A kill by the node's own OOM killer reads the same (`OOMKilled` counts kills of any origin), so
 * this also asks that the pod be Guaranteed QoS, as podManifest makes it (requests == limits): the
 * kernel then takes its processes last (oom_score_adj -997) and the kubelet evicts other pods for
 * memory pressure before that (an eviction says `Evicted`, and stays the cluster's). A pod the
 * cluster changed to another class (a mutating webhook, a LimitRange) would be taken much earlier,
 * so there an `OOMKilled` stays the cluster's: unknown never scores. What remains is a node so
 * short of memory that its killer reaches Guaranteed pods; that reads as the agent's.
 */
export function memoryLimitKill(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp || pod.status?.reason || pod.status?.qosClass !== 'Guaranteed') return false;
  const container = pod.status.containerStatuses?.find((c) => c.name === CONTAINER);
  if (container?.state?.terminated) return container.state.terminated.reason === 'OOMKilled';
  // restartPolicy is Never, but a restart the cluster forced still lost what the OOM kill did.
  return container?.restartCount === 1 && container.lastState?.terminated?.reason === 'OOMKilled';
}
