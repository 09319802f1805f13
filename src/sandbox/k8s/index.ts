// Kubernetes mode: one pod per sandbox through @kubernetes/client-node, reaped by lease annotation.
export { checkK8sSandboxes, createK8sSandbox, K8S_CLUSTER_EXPECTED, probeK8sSandboxes, type K8sSandbox, type K8sSandboxOptions } from './sandbox.ts';
export { reapK8sSandboxes } from './reap.ts';
export { LEASE_ANNOTATION, SANDBOX_SELECTOR } from './pod.ts';
export { checkNamespace, K8S_IMAGE_VARIABLE, K8S_NAMESPACE_VARIABLE, k8sTargetFromEnv, type K8sTarget } from './config.ts';
