// Chaos scenarios that run inside this process through `executeRun`: a model endpoint that fails
// in each way the issue names, a sandbox killed from outside mid-command, and a k8s pod that ends
// under a command (against a loopback fake of the Kubernetes API).
import { z } from 'zod';
import { InfraError, RunConfig, Task, type Sandbox } from '../../src/core/index.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineCheck, defineEnvironment, defineTool } from '../../src/envs/index.ts';
import { ranInSandbox } from '../../src/envs/sandbox-failure.ts';
import { K8S_IMAGE_VARIABLE, K8S_NAMESPACE_VARIABLE, type K8sSandbox } from '../../src/sandbox/index.ts';
import { startFakeKubeApi } from '../../src/sandbox/k8s/fake-api.ts';
import { executeRun, selectTasks, type EnvironmentCatalog } from '../../src/runner/index.ts';
import { openStore } from '../../src/store/index.ts';
import { counterCatalog } from '../support/counter-env.ts';
import { startFaultModel, type ModelFault } from './fault-model.ts';
import { descendants, ledger, processesWith, rolloutKeys, settleOrphans, type ChaosRow } from './ledger.ts';

export interface ModelFaultScenario {
  fault: ModelFault;
  pattern: 'transient' | 'permanent';
  epochs: number;
}

/** A counter run against a model endpoint that breaks as `scenario` says. */
export async function modelFaultScenario(scenario: ModelFaultScenario): Promise<ChaosRow> {
  const name = `model ${scenario.fault} (${scenario.pattern})`;
  const before = new Set(descendants());
  const server = await startFaultModel(scenario);
  const store = openStore(':memory:');
  try {
    // A short request timeout makes a hang an infrastructure failure well before the deadline.
    const config = RunConfig.parse({ envs: ['counter'], model: `openai:${server.url}#chaos`, epochs: scenario.epochs, concurrency: 3, seed: 11, requestTimeoutMs: 300, deadlineMs: 20_000, maxAttempts: 3 });
    const tasks = selectTasks(config, counterCatalog);
    const summary = await executeRun({ store, run: { resolved: { config, tasks } }, catalog: counterCatalog, modelEnvironment: { env: {} } });
    const row = ledger({ scenario: name, store, runId: summary.runId, expectedKeys: rolloutKeys(tasks.map((t) => t.id), scenario.epochs), permanentFault: scenario.pattern === 'permanent', orphans: 0 });
    if (server.stats.faults === 0) row.notes.push('the fault never fired');
    if (summary.errors > 0) row.notes.push(`${summary.errors} rollouts ended as defects: ${summary.errorRollouts.map((e) => e.message).join('; ')}`);
    await server.close();
    row.orphans = await settleOrphans(before);
    return row;
  } finally {
    await server.close();
    store.close();
  }
}

const BOX_TASKS = ['a', 'b', 'c'].map((id) =>
  Task.parse({
    id: `boxed/${id}`,
    env: 'boxed',
    instruction: `Increment counter ${id} twice.`,
    verifier: { checks: [{ check: 'count_is', id, count: 2 }] },
    golden: { steps: [{ tool: 'increment', arguments: { id } }, { tool: 'increment', arguments: { id } }], answer: 'done' },
    limits: { maxTurns: 10, deadlineMs: 30_000 },
    tags: { domain: 'chaos', difficulty: 'easy' },
  }),
);

/**
 * Counters kept as lines of files in a bwrap sandbox. The first command of every other sandbox is
 * killed from outside (SIGKILL to bwrap) while it runs: the tool reports that as what it is, an
 * infrastructure failure, and the runner must retry the rollout in a fresh sandbox.
 */
function boxedCatalog(crashWhenRunning: (sandbox: Sandbox) => Promise<void> = killSandboxWhenRunning): EnvironmentCatalog {
  const order = new WeakMap<Sandbox, number>();
  let sandboxes = 0;
  const env = defineEnvironment({
    name: 'boxed',
    description: 'counters as files in a sandbox that is killed mid-command (chaos)',
    schema: 'CREATE TABLE unused (id TEXT)',
    startTime: '2026-01-05T09:00:00Z',
    sandbox: true,
    requiresProcessSandbox: true,
    seed: () => {},
    tools: {
      increment: defineTool({
        description: 'Add one to a counter.',
        input: z.object({ id: z.string().regex(/^[a-z]$/) }),
        run: async ({ id }, { sandbox, signal }) => {
          if (!sandbox) throw new Error('boxed: no sandbox');
          if (!order.has(sandbox)) order.set(sandbox, sandboxes++);
          const crashing = order.get(sandbox)! % 2 === 0 && (await sandbox.readFile('.crashed')) === null;
          const pending = sandbox.exec(crashing ? 'touch .running .crashed; sleep 30' : `echo x >> count_${id}`, { timeoutMs: 60_000, signal });
          if (crashing) await crashWhenRunning(sandbox);
          const result = ranInSandbox(await pending, 'increment');
          if (result.exitCode !== 0) {
            throw new InfraError('sandbox', `increment: the sandbox command ended with exit ${result.exitCode}: ${result.stderr.trim().slice(0, 200)}`, { retryable: true });
          }
          return 'ok';
        },
      }),
    },
    checks: {
      count_is: defineCheck({
        kind: 'outcome',
        description: 'the counter file has `count` lines',
        params: z.object({ id: z.string(), count: z.number().int() }),
        run: async ({ id, count }, { sandbox }) => {
          const text = (await sandbox?.readFile(`count_${id}`)) ?? '';
          const lines = text.split('\n').filter(Boolean).length;
          return { passed: lines === count, detail: `${lines} lines` };
        },
      }),
    },
    tasks: () => BOX_TASKS,
    destructive: () => [],
  });
  return { names: () => ['boxed'], get: () => env };
}

/** Waits for the command to be running (its marker file exists). */
async function commandRunning(sandbox: Sandbox): Promise<void> {
  const give = Date.now() + 10_000;
  while ((await sandbox.readFile('.running')) === null) {
    if (Date.now() > give) throw new Error('chaos: the command to crash never started');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Once the command runs, SIGKILLs this process's bwrap. */
async function killSandboxWhenRunning(sandbox: Sandbox): Promise<void> {
  await commandRunning(sandbox);
  const mine = new Set(descendants());
  for (const pid of processesWith('bwrap')) if (mine.has(pid)) process.kill(pid, 'SIGKILL');
}

/** Plays the boxed counters on `sandbox`, one rollout at a time, up to three attempts each; defects go into the row's notes. */
async function boxedRun(options: { scenario: string; sandbox: 'bwrap' | 'k8s'; catalog: EnvironmentCatalog; epochs: number; store: ReturnType<typeof openStore> }) {
  const { catalog, store } = options;
  const config = RunConfig.parse({ envs: ['boxed'], model: 'oracle', epochs: options.epochs, concurrency: 1, seed: 4, sandbox: options.sandbox, maxAttempts: 3 });
  const tasks = selectTasks(config, catalog);
  const summary = await executeRun({ store, run: { resolved: { config, tasks } }, catalog, modelEnvironment: { env: {} } });
  const row = ledger({ scenario: options.scenario, store, runId: summary.runId, expectedKeys: rolloutKeys(tasks.map((t) => t.id), options.epochs), orphans: 0 });
  if (summary.errors > 0) row.notes.push(`${summary.errors} defects: ${summary.errorRollouts.map((e) => e.message).join('; ')}`);
  return { row, runId: summary.runId };
}

/** Rollouts whose sandbox is killed mid-command on their first attempt. Concurrency 1: one sandbox at a time. */
export async function sandboxCrashScenario(options: { epochs: number }): Promise<ChaosRow> {
  const before = new Set(descendants());
  const store = openStore(':memory:');
  try {
    const { row, runId } = await boxedRun({ scenario: 'sandbox killed mid-command', sandbox: 'bwrap', catalog: boxedCatalog(), epochs: options.epochs, store });
    const retried = store.rollouts(runId).filter((r) => r.attempt > 1).length;
    if (retried === 0) row.notes.push('no rollout was retried: the crash never happened');
    row.orphans = await settleOrphans(before);
    return row;
  } finally {
    store.close();
  }
}

/**
 * The same counters on k8s sandboxes, against a loopback fake of the API whose pods are local bwrap
 * sandboxes: every other pod is ended (its container killed) while its first command runs. The
 * pod's end must read as the sandbox failing, the rollout retried in a new pod, and every pod deleted.
 */
export async function podEndScenario(options: { epochs: number }): Promise<ChaosRow> {
  const before = new Set(descendants());
  const api = await startFakeKubeApi({ namespaces: ['sandboxes'] });
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-chaos-k8s-'));
  const saved = { KUBECONFIG: process.env.KUBECONFIG, [K8S_IMAGE_VARIABLE]: process.env[K8S_IMAGE_VARIABLE], [K8S_NAMESPACE_VARIABLE]: process.env[K8S_NAMESPACE_VARIABLE] };
  writeFileSync(join(dir, 'config'), api.kubeconfig());
  Object.assign(process.env, { KUBECONFIG: join(dir, 'config'), [K8S_IMAGE_VARIABLE]: 'busybox', [K8S_NAMESPACE_VARIABLE]: 'sandboxes' });
  let ended = 0;
  const catalog = boxedCatalog(async (sandbox) => {
    // The fake runs a pod's commands one at a time, so the marker file cannot be read meanwhile.
    const { pod } = sandbox as K8sSandbox;
    await api.execStarted(pod, 'sleep 30');
    await api.endPod(pod, 'Error');
    ended++;
  });
  const store = openStore(':memory:');
  try {
    const { row } = await boxedRun({ scenario: 'k8s pod ended mid-command', sandbox: 'k8s', catalog, epochs: options.epochs, store });
    if (ended === 0) row.notes.push('no pod was ended: the fault never happened');
    // Pods left in the cluster are leaks as much as processes are. Episodes close their sandbox
    // without holding up the run, so the last pods' deletions may still be on their way: wait for
    // the fake to hold none, for at most 10 s (a bound, not a pause).
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([api.allDeleted(), new Promise((resolve) => (bound = setTimeout(resolve, 10_000)))]);
    clearTimeout(bound);
    row.orphans = api.pods().length;
    await api.close();
    row.orphans += await settleOrphans(before);
    return row;
  } finally {
    store.close();
    await api.close();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
