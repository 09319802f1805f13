import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { InfraError } from '../../core/index.ts';
import { sandboxAvailability, SandboxPathError } from '../index.ts';
import { startFakeKubeApi, type FakeKubeApi } from './fake-api.ts';
import { createK8sSandbox, LEASE_ANNOTATION, reapK8sSandboxes } from './index.ts';

function kubeConfigFor(url: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'tester', token: 'fake-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'tester', namespace: 'sandboxes' }],
    currentContext: 'fake',
  });
  return config;
}

const { bwrap } = await sandboxAvailability();

// The fake backs each pod with a local bwrap sandbox, so these need bubblewrap.
describe('k8s sandboxes against a loopback fake of the API', { skip: bwrap.available ? false : `bwrap unavailable here: ${bwrap.reason}` }, () => {
  let api: FakeKubeApi;
  let kubeConfig: KubeConfig;
  before(async () => {
    api = await startFakeKubeApi({ pendingReads: 2 });
    kubeConfig = kubeConfigFor(api.url);
  });
  after(() => api.close());

  it('starts one pod per sandbox, waits until it runs, and runs commands and files through exec', async () => {
    const box = await createK8sSandbox({ kubeConfig, namespace: 'sandboxes', image: 'debian:bookworm-slim', files: { 'src/a.txt': 'héllo\n' }, limits: { memoryBytes: 512 * 1024 ** 2, cpus: 0.5 }, pollMs: 5 });
    try {
      assert.deepEqual(api.pods(), [box.pod]);
      assert.equal(api.requests.filter((r) => r === `GET /api/v1/namespaces/sandboxes/pods/${box.pod}`).length, 3, 'read until Running');
      const run = await box.exec('cat src/a.txt; cat; echo "$GREETING"; exit 3', { timeoutMs: 10_000, stdin: 'from stdin\n', env: { GREETING: 'hi' } });
      assert.deepEqual({ exitCode: run.exitCode, stdout: run.stdout, timedOut: run.timedOut }, { exitCode: 3, stdout: 'héllo\nfrom stdin\nhi\n', timedOut: false });
      await box.writeFile('out/b.txt', "it's written");
      assert.equal(await box.readFile('/work/out/b.txt'), "it's written");
      assert.equal(await box.readFile('missing.txt'), null);
      assert.deepEqual((await box.listFiles()).map((f) => [f.path, f.size]), [['out/b.txt', 12], ['src/a.txt', Buffer.byteLength('héllo\n')]]);
      await assert.rejects(box.readFile('../etc/passwd'), SandboxPathError);
      assert.equal((await box.exec('ln -s /etc escape', { timeoutMs: 5000 })).exitCode, 0);
      await assert.rejects(box.readFile('escape/passwd'), SandboxPathError);
      const slow = await box.exec('sleep 5', { timeoutMs: 300 });
      assert.deepEqual({ timedOut: slow.timedOut, exitCode: slow.exitCode }, { timedOut: true, exitCode: 124 });
      assert.ok(api.requests.some((r) => r === `EXEC /api/v1/namespaces/sandboxes/pods/${box.pod}/exec`));
    } finally {
      await box.close();
    }
    assert.deepEqual(api.pods(), []);
  });

  it('renews the lease annotation while open, and reaping deletes only pods whose lease ran out', async () => {
    let now = 1_000_000;
    const kept = await createK8sSandbox({ kubeConfig, namespace: 'sandboxes', image: 'busybox', leaseTtlMs: 10_000, heartbeatMs: 3_600_000, now: () => now, pollMs: 5 });
    const abandoned = await createK8sSandbox({ kubeConfig, namespace: 'sandboxes', image: 'busybox', leaseTtlMs: 10_000, heartbeatMs: 3_600_000, now: () => now, pollMs: 5 });
    try {
      assert.equal(api.annotations(kept.pod)?.[LEASE_ANNOTATION], '1010000');
      now += 9_000;
      // Only `kept` renews; `abandoned` stands for a client that was killed.
      await kept.renew();
      assert.equal(api.annotations(kept.pod)?.[LEASE_ANNOTATION], '1019000');
      now += 1_001;
      assert.deepEqual(await reapK8sSandboxes({ kubeConfig, namespace: 'sandboxes', now: () => now }), [abandoned.pod]);
      assert.deepEqual(api.pods(), [kept.pod]);
      await assert.rejects(abandoned.exec('true', { timeoutMs: 1000 }), (e: unknown) => e instanceof InfraError && e.source === 'sandbox');
    } finally {
      await kept.close();
      await abandoned.close();
    }
    assert.deepEqual(api.pods(), []);
  });

  it('maps an unreachable API server to InfraError from the sandbox', async () => {
    const gone = await startFakeKubeApi();
    const config = kubeConfigFor(gone.url);
    await gone.close();
    await assert.rejects(createK8sSandbox({ kubeConfig: config, image: 'busybox' }), (e: unknown) => e instanceof InfraError && e.source === 'sandbox' && e.kind === 'connection');
  });
});
