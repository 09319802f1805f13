// Kubernetes mode: one pod per sandbox through @kubernetes/client-node, reaped by lease annotation.
export { createK8sSandbox, reapK8sSandboxes, type K8sSandbox, type K8sSandboxOptions } from './sandbox.ts';
export { LEASE_ANNOTATION, SANDBOX_SELECTOR } from './pod.ts';
