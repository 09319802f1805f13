// The reaper against a broken or hostile API: it must delete only dead pods of ours, whatever the
// API lists, whatever a lease says, and never a pod renewed while it looked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InfraError } from '../../core/index.ts';
import { sandboxAvailability } from '../index.ts';
import { resolveLimits } from '../limits.ts';
import { LEASE_ANNOTATION, reapK8sSandboxes } from './index.ts';
import { podManifest } from './pod.ts';
import { fakeCluster } from './test-support.ts';

const { bwrap } = await sandboxAvailability();

describe('the k8s reaper against a hostile API', { skip: bwrap.available ? false : `the fake's pods need bwrap: ${bwrap.reason}` }, () => {
  const cluster = fakeCluster();
  const { open } = cluster;

  const plant = async (name: string, lease: string, maxLifetimeSeconds = 86_400) => {
    const body = podManifest({ name, image: 'busybox', workdir: '/work', limits: resolveLimits({}), uid: 100_000, leaseExpiresAt: 0, maxLifetimeSeconds });
    body.metadata!.annotations![LEASE_ANNOTATION] = lease;
    await cluster.core.createNamespacedPod({ namespace: 'sandboxes', body });
  };

  it('checks what the API lists itself: a pod without our labels, or in another namespace, is not ours', async () => {
    const live = await open();
    try {
      await cluster.core.createNamespacedPod({ namespace: 'sandboxes', body: { metadata: { name: 'someone-elses-web' }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } });
      const raw = async (name: string) => (await fetch(`${cluster.api.url}/api/v1/namespaces/sandboxes/pods/${name}`)).json() as Promise<{ metadata: Record<string, unknown> }>;
      const foreign = await raw('someone-elses-web');
      const elsewhere = await raw(live.pod);
      // A proxy that drops the label selector, and lists a pod of another namespace under a live pod's name.
      const items = [foreign, { ...elsewhere, metadata: { ...elsewhere.metadata, namespace: 'other', annotations: { [LEASE_ANNOTATION]: '0' } } }];
      cluster.api.intercept = (request) => (request.method === 'GET' && request.path === '/api/v1/namespaces/sandboxes/pods' ? Response.json({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items }) : undefined);
      assert.deepEqual(await reapK8sSandboxes({ kubeConfig: cluster.kubeConfig, namespace: 'sandboxes' }), []);
      assert.deepEqual(cluster.api.pods().sort(), [live.pod, 'someone-elses-web'].sort());
    } finally {
      cluster.api.intercept = undefined;
      await live.close();
    }
  });

  it('keeps a pod whose lease was renewed between the list and the delete', async () => {
    let now = 1_000_000;
    const box = await open({ leaseTtlMs: 10_000, heartbeatMs: 3_600_000, now: () => now });
    try {
      let renewed = false;
      cluster.api.intercept = async (request) => {
        if (request.method === 'DELETE' && !renewed) {
          renewed = true;
          now += 20_000;
          await box.renew();
        }
        return undefined;
      };
      assert.deepEqual(await reapK8sSandboxes({ kubeConfig: cluster.kubeConfig, namespace: 'sandboxes', now: () => 1_020_000 }), []);
      assert.ok(renewed, 'the delete was attempted');
      assert.deepEqual(cluster.api.pods(), [box.pod]);
      assert.equal((await box.exec('echo alive', { timeoutMs: 10_000 })).stdout, 'alive\n');
    } finally {
      cluster.api.intercept = undefined;
      await box.close();
    }
  });

  it('reads hostile lease values as a leftover or a lease, and never keeps a pod past its own deadline', async () => {
    const start = Date.now();
    await plant('lease-negative', '-5');
    await plant('lease-words', 'tomorrow');
    await plant('lease-empty', '');
    await plant('lease-overflow', '1e400');
    await plant('lease-live', String(start + 3_600_000));
    await plant('lease-far-future', '99999999999999999999', 60);
    assert.deepEqual((await reapK8sSandboxes({ kubeConfig: cluster.kubeConfig, namespace: 'sandboxes', now: () => start })).sort(), ['lease-empty', 'lease-negative', 'lease-overflow', 'lease-words']);
    assert.deepEqual(cluster.api.pods().sort(), ['lease-far-future', 'lease-live']);
    // Past its activeDeadlineSeconds the kubelet has ended the pod, whatever its lease says.
    assert.deepEqual(await reapK8sSandboxes({ kubeConfig: cluster.kubeConfig, namespace: 'sandboxes', now: () => Date.now() + 61_000 }), ['lease-far-future']);
    assert.deepEqual(cluster.api.pods(), ['lease-live']);
  });

  it('stops on a list whose pages never end', async () => {
    cluster.api.intercept = (request) => (request.method === 'GET' && request.path === '/api/v1/namespaces/sandboxes/pods' ? Response.json({ kind: 'PodList', apiVersion: 'v1', metadata: { continue: 'again' }, items: [] }) : undefined);
    await assert.rejects(reapK8sSandboxes({ kubeConfig: cluster.kubeConfig, namespace: 'sandboxes' }), (e: unknown) => e instanceof InfraError && e.kind === 'malformed_response' && /pages do not end/.test(e.message));
  });
});
