// @kubernetes/client-node costs ~75 MiB and ~0.7 s in every isolate that loads it: each rollout
// thread is one, and so is every `gauntlet` command. It is loaded on the first k8s use instead, and
// so is `ws`, which exec speaks the API's WebSocket protocol through.
import type * as KubernetesClient from '@kubernetes/client-node';
import type * as WebSocketLibrary from 'ws';

let loading: Promise<typeof KubernetesClient> | undefined;
let loadingWs: Promise<typeof WebSocketLibrary> | undefined;

/** The Kubernetes client library, loaded once per isolate on first use. */
export function k8sClient(): Promise<typeof KubernetesClient> {
  return (loading ??= import('@kubernetes/client-node'));
}

/** The WebSocket library, loaded once per isolate on the first exec. */
export function webSocketLibrary(): Promise<typeof WebSocketLibrary> {
  return (loadingWs ??= import('ws'));
}
