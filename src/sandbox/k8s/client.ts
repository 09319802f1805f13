// @kubernetes/client-node costs ~75 MiB and ~0.7 s in every isolate that loads it: each rollout
// thread is one, and so is every `gauntlet` command. It is loaded on the first k8s use instead.
import type * as KubernetesClient from '@kubernetes/client-node';

let loading: Promise<typeof KubernetesClient> | undefined;

/** The Kubernetes client library, loaded once per isolate on first use. */
export function k8sClient(): Promise<typeof KubernetesClient> {
  return (loading ??= import('@kubernetes/client-node'));
}
