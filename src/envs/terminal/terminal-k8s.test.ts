// The terminal and coding environments, unchanged, on the `k8s` sandbox backend against a loopback
// fake of the Kubernetes API (each fake pod is a local bwrap sandbox, so commands really run), set
// up only through the kubeconfig and the backend's variables, as a user would: golden solutions
// pass and idle and destructive play fail; a pod that ends under the model's command ends the
// rollout as a sandbox infra_error, never a score; a run asking for k8s is checked before it starts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { InfraError, InputError, RunConfig } from '../../core/index.ts';
import { executeRun, resolveRun, selectTasks } from '../../runner/index.ts';
import { checkK8sSandboxes, K8S_IMAGE_VARIABLE, K8S_NAMESPACE_VARIABLE, sandboxAvailability } from '../../sandbox/index.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../../sandbox/k8s/fake-api.ts';
import { startOpenEnvServer } from '../../server/openenv/server.ts';
import { openStore } from '../../store/index.ts';
import { assistant, functionModel, reply } from '../../../test/support/models.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { coding } from '../coding/index.ts';
import { checkTaskDirectly } from '../direct-check.ts';
import { instantiate } from '../instance.ts';
import { harbor } from '../interop/harbor-env.ts';
import { importTaskFolder } from '../interop/harbor.ts';
import { writeTasksYaml } from '../interop/tasks-yaml.ts';
import { terminal, terminalTasks } from './index.ts';

const { bwrap } = await sandboxAvailability();
const VARIABLES = ['KUBECONFIG', K8S_IMAGE_VARIABLE, K8S_NAMESPACE_VARIABLE] as const;
const MARKER = 'gauntlet-k8s-pod-death-marker';

const command = (text: string) =>
  functionModel('test:command', (i) =>
    i === 0
      ? reply(assistant({ toolCalls: [{ id: 'c0', name: 'run_command', arguments: { command: text }, argumentsText: JSON.stringify({ command: text }) }] }))
      : reply(assistant({ toolCalls: [{ id: 'c1', name: 'submit', arguments: {}, argumentsText: '{}' }] })),
  );

describe('environments on k8s sandboxes', { skip: bwrap.available ? false : `the fake's pods need bwrap: ${bwrap.reason}` }, () => {
  let api: FakeKubeApi;
  let dir: string;
  const saved = new Map<string, string | undefined>();
  before(async () => {
    api = await startFakeKubeApi({ namespaces: ['sandboxes'] });
    dir = mkdtempSync(join(tmpdir(), 'gauntlet-k8s-'));
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, api.kubeconfig());
    for (const name of VARIABLES) saved.set(name, process.env[name]);
    process.env.KUBECONFIG = kubeconfig;
    process.env[K8S_IMAGE_VARIABLE] = 'node:20-bookworm';
    delete process.env[K8S_NAMESPACE_VARIABLE];
  });
  after(async () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plays a terminal task: golden passes, idle and destructive fail, every pod deleted after', async () => {
    const task = terminalTasks().find((t) => t.id === 'terminal/count-error-lines');
    assert.ok(task);
    const result = await checkTaskDirectly(terminal, task, { sandbox: 'k8s' });
    assert.deepEqual(result.problems, [], result.problems.join('\n'));
    assert.ok(api.requests.filter((r) => r === 'POST /api/v1/namespaces/sandboxes/pods').length >= 3, 'each play started a pod in the context namespace');
    assert.deepEqual(api.pods(), []);
  });

  it('plays a coding task, which needs a process sandbox, with its hidden tests run in the pod', async () => {
    const task = coding.tasks().find((t) => t.id === 'coding/inventory-pagination');
    assert.ok(task);
    const result = await checkTaskDirectly(coding, task, { sandbox: 'k8s' });
    assert.deepEqual(result.problems, [], result.problems.join('\n'));
    assert.deepEqual(api.pods(), []);
  });

  it("runs an imported task in a pod of its Dockerfile's base image, with no default image needed", async () => {
    const { task } = importTaskFolder(fileURLToPath(new URL('../../../test/fixtures/harbor/tb2-word-count', import.meta.url)));
    const before = api.images.length;
    const result = await checkTaskDirectly(harbor, task, { sandbox: 'k8s' });
    assert.deepEqual(result.problems, [], result.problems.join('\n'));
    const images = api.images.slice(before);
    assert.ok(images.length >= 3);
    assert.deepEqual(new Set(images), new Set(['python:3.13-slim-bookworm']), 'every play ran in the base image, not GAUNTLET_K8S_IMAGE');
    assert.deepEqual(api.pods(), []);
    // The cluster is still checked before a run; the default image only where a task lacks one.
    const { [K8S_IMAGE_VARIABLE]: _image, ...withoutImage } = process.env;
    assert.equal((await checkK8sSandboxes(withoutImage, { defaultImage: false })).namespace, 'sandboxes');
    await assert.rejects(checkK8sSandboxes(withoutImage), (e: unknown) => e instanceof InputError && e.where === K8S_IMAGE_VARIABLE);
  });

  it('runs a task imported with only a prebuilt image in pods of that image, and refuses it on other sandboxes', async () => {
    const folder = join(dir, 'prebuilt');
    const files: Record<string, string> = {
      'task.toml': 'schema_version = "1.1"\n[task]\nname = "org/prebuilt"\n[environment]\ndocker_image = "registry.example/org/tool:1"\n',
      'instruction.md': 'Write 42 to answer.txt.',
      'solution/solve.sh': 'echo 42 > /app/answer.txt\n',
      'tests/test.sh': 'grep -qx 42 /app/answer.txt && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(folder, path)), { recursive: true });
      writeFileSync(join(folder, path), text);
    }
    const { task } = importTaskFolder(folder, { prebuiltImages: true });
    const before = api.images.length;
    const result = await checkTaskDirectly(harbor, task, { sandbox: 'k8s' });
    assert.deepEqual(result.problems, [], result.problems.join('\n'));
    assert.deepEqual(new Set(api.images.slice(before)), new Set(['registry.example/org/tool:1']));
    // Anywhere else it would run on this machine's system, not the image's: refused, never scored.
    const env = instantiate(harbor, { sandbox: 'bwrap' });
    await assert.rejects(env.reset(task, { seed: 1 }), (e: unknown) => e instanceof InfraError && e.source === 'sandbox' && !e.retryable && /runs only in its image registry\.example\/org\/tool:1/.test(e.message));
    const tasksFile = join(dir, 'prebuilt.yaml');
    writeTasksYaml([task], tasksFile);
    const request = { envs: ['harbor'], taskFiles: [tasksFile], model: 'oracle', epochs: 1, concurrency: 1, seed: 1 };
    await assert.rejects(resolveRun({ ...request, sandbox: 'virtual' }), (e: unknown) => e instanceof InputError && e.where === 'sandbox' && /org\/prebuilt runs only in a prebuilt image/.test(e.message) && /--sandbox k8s/.test(e.message));
    const { [K8S_IMAGE_VARIABLE]: _image, ...withoutImage } = process.env;
    assert.equal((await resolveRun({ ...request, sandbox: 'k8s' }, { env: withoutImage })).config.sandbox, 'k8s');
  });

  it('ends the rollout as a retryable sandbox infra_error when the pod ends under the command', async () => {
    const store = openStore(':memory:');
    try {
      const config = RunConfig.parse({ envs: ['terminal'], model: 'test', epochs: 1, concurrency: 1, seed: 1, sandbox: 'k8s', maxAttempts: 1 });
      const tasks = selectTasks(config).slice(0, 1);
      // A slow delete: the run must still not return (and a command not exit) before the pod is gone.
      api.deleteDelayMs = 300;
      const running = executeRun({ store, model: command(`exec -a ${MARKER} sleep 30`), sleep: async () => {}, run: { resolved: { config, tasks } } });
      await waitFor(() => api.pods().length === 1, 'the episode to start its pod');
      const [pod] = api.pods();
      assert.ok(pod);
      await api.execStarted(pod, MARKER);
      await api.endPod(pod, 'Error');
      const summary = await running;
      const [rollout] = store.rollouts(summary.runId);
      assert.equal(rollout?.status, 'infra_error');
      assert.equal(rollout?.error?.source, 'sandbox');
      assert.match(rollout?.error?.message ?? '', /run_command: the pod ended while the command ran: the pod ended \(Failed: Error, exit 137\)/);
      assert.deepEqual(api.pods(), [], 'the episode deleted its pod before the run returned');
    } finally {
      api.deleteDelayMs = 0;
      store.close();
    }
  });

  it('fails an episode whose sandbox is set up wrongly for good, not as a retryable blip', async () => {
    const image = process.env[K8S_IMAGE_VARIABLE];
    delete process.env[K8S_IMAGE_VARIABLE];
    try {
      const env = instantiate(terminal, { sandbox: 'k8s' });
      const task = terminalTasks()[0];
      assert.ok(task);
      await assert.rejects(env.reset(task, { seed: 1 }), (e: unknown) => e instanceof InfraError && e.source === 'sandbox' && !e.retryable && /could not start a sandbox: GAUNTLET_K8S_IMAGE: is not set/.test(e.message));
    } finally {
      process.env[K8S_IMAGE_VARIABLE] = image;
    }
  });

  it('checks the cluster and the image before a run starts', async () => {
    const request = { envs: ['terminal'], taskIds: ['terminal/count-error-lines'], model: 'oracle', epochs: 1, concurrency: 1, seed: 1, sandbox: 'k8s' as const };
    const resolved = await resolveRun({ ...request, reward: { terms: { turns: { weight: -0.01 } } } });
    assert.equal(resolved.config.sandbox, 'k8s');
    // Stored complete, as with a local sandbox: the run rebuilds its reward from the record alone.
    assert.deepEqual(resolved.config.reward, { version: 1, terms: { turns: { weight: -0.01 } } });
    const { [K8S_IMAGE_VARIABLE]: _image, ...withoutImage } = process.env;
    await assert.rejects(resolveRun(request, { env: withoutImage }), (e: unknown) => e instanceof InputError && e.where === `sandbox k8s: ${K8S_IMAGE_VARIABLE}`);
    await assert.rejects(resolveRun(request, { env: { ...process.env, [K8S_NAMESPACE_VARIABLE]: 'gone' } }), (e: unknown) => e instanceof InputError && e.where === 'sandbox k8s: Kubernetes API' && /cannot be made: .*403/s.test(e.message));
  });

  it('checks the cluster and the image before an OpenEnv server listens', async () => {
    const image = process.env[K8S_IMAGE_VARIABLE];
    delete process.env[K8S_IMAGE_VARIABLE];
    try {
      await assert.rejects(startOpenEnvServer({ env: 'terminal', port: 0, sandbox: 'k8s' }), (e: unknown) => e instanceof InputError && e.where === `--sandbox k8s: ${K8S_IMAGE_VARIABLE}`);
    } finally {
      process.env[K8S_IMAGE_VARIABLE] = image;
    }
    const server = await startOpenEnvServer({ env: 'terminal', port: 0, sandbox: 'k8s' });
    await server.close();
  });
});
