// Where the k8s backend takes its cluster, namespace and image from when `createSandbox` is given
// no options for it: the usual kubeconfig (KUBECONFIG, ~/.kube/config, or in-cluster) and two
// variables, so a run's stored config names the backend and never a cluster or its credentials.
import type { KubeConfig } from '@kubernetes/client-node';
import { errorMessage, InputError } from '../../core/index.ts';
import { k8sClient } from './client.ts';

export const K8S_IMAGE_VARIABLE = 'GAUNTLET_K8S_IMAGE';
export const K8S_NAMESPACE_VARIABLE = 'GAUNTLET_K8S_NAMESPACE';

/** What a k8s sandbox needs besides its task's files and limits. */
export interface K8sTarget {
  image: string;
  /** Default: the kubeconfig context's namespace, else `default`. */
  namespace?: string;
  /** Default: the usual kubeconfig. */
  kubeConfig?: KubeConfig;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function checkNamespace(namespace: string, where: string): string {
  if (!NAMESPACE.test(namespace)) throw new InputError(where, `${JSON.stringify(namespace)} is not a Kubernetes namespace name`, 'lowercase letters, digits and "-", at most 63 characters, such as gauntlet-sandboxes');
  return namespace;
}

/**
 * The image and namespace from the environment variables; InputError when the image is missing or
 * either is malformed. A task's own image (`taskImage`) takes the variable's place.
 */
export function k8sTargetFromEnv(env: NodeJS.ProcessEnv, taskImage?: string): K8sTarget {
  const image = taskImage ?? env[K8S_IMAGE_VARIABLE]?.trim();
  if (image === undefined || image === '') {
    throw new InputError(K8S_IMAGE_VARIABLE, 'is not set, and the k8s sandbox backend needs an image for its pods', 'an image with sh, coreutils and find, plus whatever the tasks run (such as node:20-bookworm for coding)');
  }
  if (/\s/.test(image)) throw new InputError(taskImage === undefined ? K8S_IMAGE_VARIABLE : 'image', `${JSON.stringify(image)} contains whitespace`, 'an image reference such as debian:bookworm-slim');
  const namespace = k8sNamespaceFromEnv(env);
  return { image, ...(namespace !== undefined ? { namespace } : {}) };
}

/** The namespace asked for in the environment, if any; InputError when it is malformed. */
export function k8sNamespaceFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const namespace = env[K8S_NAMESPACE_VARIABLE]?.trim();
  return namespace ? checkNamespace(namespace, K8S_NAMESPACE_VARIABLE) : undefined;
}

/** The usual kubeconfig, as kubectl finds it; InputError naming the file when it cannot be read. */
export async function defaultKubeConfig(): Promise<KubeConfig> {
  const { KubeConfig } = await k8sClient();
  const config = new KubeConfig();
  try {
    config.loadFromDefault();
  } catch (error) {
    const where = process.env.KUBECONFIG ? 'KUBECONFIG' : 'kubeconfig (~/.kube/config)';
    throw new InputError(where, `could not be loaded: ${errorMessage(error)}`, 'a readable kubeconfig file (KUBECONFIG, ~/.kube/config) or an in-cluster service account');
  }
  return config;
}

/**
 * The namespace a sandbox goes to: the one asked for, else the kubeconfig context's, else
 * `default`. InputError when it is no namespace name: it goes into the API's URLs.
 */
export function namespaceFor(config: KubeConfig, asked: string | undefined): string {
  if (asked !== undefined) return checkNamespace(asked, 'namespace');
  const context = config.getCurrentContext();
  const fromContext = config.getContextObject(context)?.namespace;
  return fromContext ? checkNamespace(fromContext, `kubeconfig context ${JSON.stringify(context)}: namespace`) : 'default';
}

/** The API server a kubeconfig talks to, for messages and for telling clusters apart. */
export function clusterServer(config: KubeConfig): string {
  return config.getCurrentCluster()?.server ?? 'no cluster in the kubeconfig';
}
