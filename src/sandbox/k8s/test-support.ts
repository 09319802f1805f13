// The fake cluster the k8s tests share: one fake API for a describe block, a client for it, and a
// clean slate after each test (hooks reset, every pod deleted).
import { after, afterEach, before } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startFakeKubeApi, type FakeKubeApi } from './fake-api.ts';
import { createK8sSandbox, type K8sSandbox, type K8sSandboxOptions } from './index.ts';

export interface FakeCluster {
  readonly api: FakeKubeApi;
  readonly kubeConfig: KubeConfig;
  /** A plain client of the fake, for what the tests do behind the sandbox's back. */
  readonly core: CoreV1Api;
  /** A sandbox in the fake (busybox, polled every 5 ms, no sweeps unless asked). */
  open(options?: Partial<K8sSandboxOptions>): Promise<K8sSandbox>;
}

/** Registers the hooks in the calling `describe`; the fields are set once its `before` has run. */
export function fakeCluster(): FakeCluster {
  let state: { api: FakeKubeApi; kubeConfig: KubeConfig; core: CoreV1Api } | undefined;
  const get = () => {
    if (!state) throw new Error('fakeCluster: used before its before() hook ran');
    return state;
  };
  before(async () => {
    const api = await startFakeKubeApi();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(api.kubeconfig());
    state = { api, kubeConfig, core: kubeConfig.makeApiClient(CoreV1Api) };
  });
  afterEach(async () => {
    const { api, core } = get();
    api.intercept = undefined;
    api.execHook = undefined;
    api.upgradeHook = undefined;
    await Promise.all(api.pods().map((name) => core.deleteNamespacedPod({ name, namespace: 'sandboxes' }).catch(() => undefined)));
  });
  after(() => state?.api.close());
  return {
    get api() {
      return get().api;
    },
    get kubeConfig() {
      return get().kubeConfig;
    },
    get core() {
      return get().core;
    },
    open: (options = {}) => createK8sSandbox({ kubeConfig: get().kubeConfig, image: 'busybox', pollMs: 5, reapEveryMs: 0, ...options }),
  };
}
