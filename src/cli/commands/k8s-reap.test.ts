import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { createK8sSandbox, DEFAULT_LIMITS, sandboxAvailability } from '../../sandbox/index.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../../sandbox/k8s/fake-api.ts';
import { podManifest } from '../../sandbox/k8s/pod.ts';
import type { CliIo } from '../io.ts';
import { registerK8sReapCommand } from './k8s-reap.ts';

const { bwrap } = await sandboxAvailability();

function setup(env: Record<string, string> = {}) {
  const out: string[] = [];
  const io: CliIo = { stdout: (text) => void out.push(text), stderr: () => undefined, interactive: false, env };
  const program = new Command('gauntlet').exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  registerK8sReapCommand(program, io);
  for (const command of program.commands) command.exitOverride();
  return { out, run: (...args: string[]) => program.parseAsync(['node', 'gauntlet', 'k8s-reap', ...args]) };
}

describe('gauntlet k8s-reap', { skip: bwrap.available ? false : `the fake's pods need bwrap: ${bwrap.reason}` }, () => {
  let api: FakeKubeApi;
  let dir: string;
  let previous: string | undefined;
  before(async () => {
    api = await startFakeKubeApi();
    dir = mkdtempSync(join(tmpdir(), 'gauntlet-k8s-reap-'));
    writeFileSync(join(dir, 'config'), api.kubeconfig());
    previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = join(dir, 'config');
  });
  after(async () => {
    if (previous === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = previous;
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes only pods whose lease ran out past the grace, in the context namespace, and says which', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(api.kubeconfig());
    const expired = `gauntlet-sbx-expired-${Date.now()}`;
    await kubeConfig.makeApiClient(CoreV1Api).createNamespacedPod({
      namespace: 'sandboxes',
      body: podManifest({ name: expired, image: 'busybox', workdir: '/work', limits: DEFAULT_LIMITS, uid: 100_000, leaseExpiresAt: Date.now() - 120_000, maxLifetimeSeconds: 60 }),
    });
    const live = await createK8sSandbox({ kubeConfig, image: 'busybox', pollMs: 5, reapEveryMs: 0 });
    try {
      const { out, run } = setup();
      // Expired two minutes ago: within a five-minute grace it stays.
      await run('--json', '--grace', '300');
      assert.deepEqual(JSON.parse(out.join('')), { server: api.url, namespace: 'sandboxes', deleted: [] });
      const second = setup();
      await second.run();
      assert.equal(second.out.join(''), `deleted 1 expired sandbox pod: ${expired} in sandboxes (${api.url})\n`);
      assert.deepEqual(api.pods(), [live.pod]);
    } finally {
      await live.close();
    }
  });

  it('names a bad namespace flag or variable, and an API that refuses', async () => {
    await assert.rejects(setup().run('--namespace', 'Bad_Name'), (e: unknown) => e instanceof InputError && e.where === '--namespace');
    // An empty flag is a bad name, not the kubeconfig's namespace by default.
    await assert.rejects(setup().run('--namespace', ''), (e: unknown) => e instanceof InputError && e.where === '--namespace');
    await assert.rejects(setup({ GAUNTLET_K8S_NAMESPACE: 'also bad' }).run(), (e: unknown) => e instanceof InputError && e.where === 'GAUNTLET_K8S_NAMESPACE');
    const refusing = await startFakeKubeApi({ namespaces: ['sandboxes'] });
    writeFileSync(join(dir, 'refusing'), refusing.kubeconfig('elsewhere'));
    process.env.KUBECONFIG = join(dir, 'refusing');
    try {
      await assert.rejects(setup().run(), /the Kubernetes API at http:\/\/127\.0\.0\.1:\d+: listing pods in elsewhere: .*403/s);
    } finally {
      process.env.KUBECONFIG = join(dir, 'config');
      await refusing.close();
    }
  });
});

describe('gauntlet k8s-reap with no kubeconfig', () => {
  const saved = { HOME: process.env.HOME, KUBECONFIG: process.env.KUBECONFIG, KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST };
  before(() => {
    // No KUBECONFIG, no ~/.kube/config, not in a cluster: the client falls back to http://localhost:8080.
    process.env.HOME = mkdtempSync(join(tmpdir(), 'gauntlet-k8s-home-'));
    delete process.env.KUBECONFIG;
    delete process.env.KUBERNETES_SERVICE_HOST;
  });
  after(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('gives the hint `run --sandbox k8s` gives with the client\'s own complaint', async () => {
    await assert.rejects(setup().run(), (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      assert.match(message, /^k8s sandbox pods cannot be swept: the Kubernetes API at http:\/\/localhost:8080: listing pods in default: /);
      assert.ok(message.endsWith('(expected a reachable cluster in the kubeconfig (KUBECONFIG, ~/.kube/config or in-cluster) that lets this user list, create, patch and delete pods and exec into them)'), message);
      return true;
    });
  });
});
