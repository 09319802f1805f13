import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { InfraError, InputError } from '../../core/index.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { createSandbox, isProcessSandbox, sandboxAvailability, SandboxPathError } from '../index.ts';
import { startFakeKubeApi, type FakeKubeApi } from './fake-api.ts';
import { createK8sSandbox, K8S_IMAGE_VARIABLE, K8S_NAMESPACE_VARIABLE, k8sTargetFromEnv, LEASE_ANNOTATION, probeK8sSandboxes, reapK8sSandboxes } from './index.ts';
import { resolveLimits } from '../limits.ts';
import { podManifest, SANDBOX_UIDS } from './pod.ts';
import { podEndedReason } from './pod-status.ts';

function kubeConfigOf(fake: FakeKubeApi): KubeConfig {
  const config = new KubeConfig();
  config.loadFromString(fake.kubeconfig());
  return config;
}

const { bwrap } = await sandboxAvailability();

describe('k8s sandbox settings', () => {
  it('takes the image and namespace from the environment, naming the variable that is wrong', () => {
    assert.deepEqual(k8sTargetFromEnv({ [K8S_IMAGE_VARIABLE]: ' node:20-bookworm ', [K8S_NAMESPACE_VARIABLE]: 'rl-sandboxes' }), { image: 'node:20-bookworm', namespace: 'rl-sandboxes' });
    assert.deepEqual(k8sTargetFromEnv({ [K8S_IMAGE_VARIABLE]: 'busybox' }), { image: 'busybox' });
    assert.throws(() => k8sTargetFromEnv({}), (e: unknown) => e instanceof InputError && e.where === K8S_IMAGE_VARIABLE && /needs an image/.test(e.message));
    assert.throws(() => k8sTargetFromEnv({ [K8S_IMAGE_VARIABLE]: 'busy box' }), (e: unknown) => e instanceof InputError && e.where === K8S_IMAGE_VARIABLE);
    assert.throws(() => k8sTargetFromEnv({ [K8S_IMAGE_VARIABLE]: 'busybox', [K8S_NAMESPACE_VARIABLE]: 'Not_A_Namespace' }), (e: unknown) => e instanceof InputError && e.where === K8S_NAMESPACE_VARIABLE);
  });

  it('tells a pod that can still run commands from one that ended', () => {
    const running = { status: { phase: 'Running', containerStatuses: [{ name: 'sandbox', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] } };
    assert.equal(podEndedReason(running), null);
    const oom = { status: { phase: 'Failed', containerStatuses: [{ name: 'sandbox', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }] } };
    assert.equal(podEndedReason(oom), 'the pod ended (Failed: OOMKilled, exit 137)');
    assert.equal(podEndedReason({ status: { phase: 'Failed', reason: 'Evicted', message: 'low on ephemeral storage' } }), 'the pod ended (Failed: Evicted: low on ephemeral storage)');
    assert.equal(podEndedReason({ metadata: { deletionTimestamp: new Date() }, status: { phase: 'Running' } }), 'the pod is being deleted');
    const restarted = { status: { phase: 'Running', containerStatuses: [{ name: 'sandbox', image: 'x', imageID: '', ready: true, restartCount: 1, state: { running: {} }, lastState: { terminated: { reason: 'Error', exitCode: 1 } } }] } };
    assert.equal(podEndedReason(restarted), 'the container restarted 1 time(s) (last: Error, exit 1)');
  });
});

// The fake backs each pod with a local bwrap sandbox, so these need bubblewrap.
describe('k8s sandboxes against a loopback fake of the API', { skip: bwrap.available ? false : `bwrap unavailable here: ${bwrap.reason}` }, () => {
  let api: FakeKubeApi;
  let kubeConfig: KubeConfig;
  before(async () => {
    api = await startFakeKubeApi({ pendingReads: 2 });
    kubeConfig = kubeConfigOf(api);
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

  it('runs each pod as a uid of its own and every command under the process limit, so a fork bomb stops there', async () => {
    const boxes = await Promise.all([1, 2].map(() => createK8sSandbox({ kubeConfig, namespace: 'sandboxes', image: 'debian:bookworm-slim', limits: { maxProcesses: 12 }, pollMs: 5, reapEveryMs: 0 })));
    try {
      const core = kubeConfig.makeApiClient(CoreV1Api);
      const uids = await Promise.all(boxes.map(async (b) => (await core.readNamespacedPod({ name: b.pod, namespace: 'sandboxes' })).spec?.securityContext?.runAsUser));
      for (const uid of uids) assert.ok(uid !== undefined && uid >= SANDBOX_UIDS.min && uid <= SANDBOX_UIDS.max, `uid ${uid}`);
      assert.notEqual(uids[0], uids[1]);
      const box = boxes[0]!;
      // The fake's pods run the host's sh (dash: `ulimit -p`); bash and busybox use -u.
      assert.equal((await box.exec('ulimit -p 2>/dev/null || ulimit -u', { timeoutMs: 5000 })).stdout.trim(), '12');
      const bomb = await box.exec('i=0; while [ $i -lt 40 ]; do sleep 2 & i=$((i+1)); done; wait; echo all forked', { timeoutMs: 20_000 });
      // dash gives up at the first refused fork.
      assert.match(bomb.stderr, /cannot fork/i, 'forks past the limit are refused');
      assert.deepEqual({ stdout: bomb.stdout, failed: bomb.exitCode !== 0, timedOut: bomb.timedOut }, { stdout: '', failed: true, timedOut: false });
      assert.equal((await box.exec('echo still here', { timeoutMs: 5000 })).stdout, 'still here\n');
    } finally {
      await Promise.all(boxes.map((b) => b.close()));
    }
  });

  it('refuses an image whose sh cannot set the process limit, and deletes its pod', async () => {
    // The fake's pods are bwrap sandboxes whose hard limit is 256 processes: 100,000 cannot be set there.
    const made = createK8sSandbox({ kubeConfig, namespace: 'sandboxes', image: 'debian:bookworm-slim', limits: { maxProcesses: 100_000 }, pollMs: 5, reapEveryMs: 0 });
    await assert.rejects(made, (e: unknown) => e instanceof InputError && e.where === 'image debian:bookworm-slim' && /cannot limit its processes to 100000 \(neither `ulimit -u` nor `ulimit -p` works; exit 1\)/.test(e.message));
    await waitFor(() => api.pods().length === 0, 'the pod deleted');
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
      assert.equal((await abandoned.exec('true', { timeoutMs: 1000 })).sandboxFailure, 'the pod ended while the command ran: the pod was deleted');
    } finally {
      await kept.close();
      await abandoned.close();
    }
    assert.deepEqual(api.pods(), []);
  });

  it('reports a pod that ends under a command as the sandbox failing, and a command killed in a live pod as its own outcome', async () => {
    const box = await createK8sSandbox({ kubeConfig, namespace: 'sandboxes', image: 'busybox', pollMs: 5, reapEveryMs: 0 });
    try {
      const own = await box.exec('kill -9 $$', { timeoutMs: 10_000 });
      assert.deepEqual({ exitCode: own.exitCode, failure: own.sandboxFailure }, { exitCode: 137, failure: undefined });
      const running = box.exec('sleep 30', { timeoutMs: 60_000 });
      await api.execStarted(box.pod, 'sleep 30');
      // Killed by the cluster, not by its own memory limit (agent.test.ts has that).
      await api.endPod(box.pod, 'Error');
      const killed = await running;
      assert.equal(killed.exitCode, 137);
      assert.equal(killed.sandboxFailure, 'the pod ended while the command ran: the pod ended (Failed: Error, exit 137)');
      const next = await box.exec('true', { timeoutMs: 10_000 });
      assert.match(next.sandboxFailure ?? '', /^the pod had ended before the command: .*Error/);
    } finally {
      await box.close();
    }
  });

  it('finds an ended pod when exec into it is refused', async () => {
    const box = await createK8sSandbox({ kubeConfig, namespace: 'sandboxes', image: 'busybox', pollMs: 5, reapEveryMs: 0 });
    try {
      await api.endPod(box.pod, 'Evicted');
      const result = await box.exec('true', { timeoutMs: 10_000 });
      assert.equal(result.sandboxFailure, 'the pod ended while the command ran: the pod ended (Failed: Evicted, exit 137)');
    } finally {
      await box.close();
    }
  });

  it('sweeps expired pods in the namespace while this process holds sandboxes there', async () => {
    // Pods whose lease ran out at the epoch, as if their process had died long ago.
    const pods = kubeConfig.makeApiClient(CoreV1Api);
    const abandoned = async () => {
      const name = `gauntlet-sbx-abandoned-${api.pods().length}-${Date.now()}`;
      const body = podManifest({ name, image: 'busybox', workdir: '/work', limits: resolveLimits({}), uid: 100_000, leaseExpiresAt: 0, maxLifetimeSeconds: 60 });
      await pods.createNamespacedPod({ namespace: 'sandboxes', body });
      return { pod: name };
    };
    const first = await abandoned();
    const holder = await createK8sSandbox({ kubeConfig, namespace: 'sandboxes', image: 'busybox', pollMs: 5, reapEveryMs: 20 });
    try {
      await waitFor(() => !api.pods().includes(first.pod), 'the first sweep to delete the expired pod');
      const second = await abandoned();
      await waitFor(() => !api.pods().includes(second.pod), 'a later sweep to delete a pod that expired since');
      assert.deepEqual(api.pods(), [holder.pod]);
      assert.equal((await holder.exec('echo alive', { timeoutMs: 10_000 })).stdout, 'alive\n');
    } finally {
      await holder.close();
    }
    assert.deepEqual(api.pods(), []);
  });

  it('is a createSandbox choice, a process sandbox, and probed before a run', async () => {
    const box = await createSandbox({ backend: 'k8s', k8s: { image: 'busybox', kubeConfig }, files: { 'a.txt': 'x\n' }, workdir: '/app' });
    try {
      assert.equal(box.backend, 'k8s');
      assert.ok(isProcessSandbox(box));
      assert.equal(box.workdir, '/app');
      // The namespace comes from the kubeconfig's context when none is given.
      assert.deepEqual(api.pods().length, 1);
      assert.equal((await box.exec('cat a.txt; pwd', { timeoutMs: 10_000 })).stdout, 'x\n/app\n');
    } finally {
      await box.close();
    }
    assert.deepEqual(await probeK8sSandboxes({ kubeConfig }), { server: api.url, namespace: 'sandboxes' });
  });

  it('maps an unreachable API server to InfraError from the sandbox', async () => {
    const gone = await startFakeKubeApi();
    const config = kubeConfigOf(gone);
    await gone.close();
    await assert.rejects(createK8sSandbox({ kubeConfig: config, image: 'busybox' }), (e: unknown) => e instanceof InfraError && e.source === 'sandbox' && e.kind === 'connection');
  });
});
