// Every chaos scenario, in two sizes: `full` for `npm run chaos`; `ci` for the test suite, with
// small runs and without the process-killing queue and resume scenarios, whose exact cases
// test/queue-recovery.test.ts and test/kill-resume.test.ts already run in CI.
import { modelFaultScenario, podEndScenario, sandboxCrashScenario } from './in-process.ts';
import type { ChaosRow } from './ledger.ts';
import { mainKillScenario, redisRestartScenario, withOrphanCount, workerKillScenario } from './out-of-process.ts';
import type { ModelFault } from './fault-model.ts';

export interface Scenario {
  name: string;
  /** Runs with other scenarios of its group at once; `false` for those that need the machine to themselves. */
  parallel: boolean;
  run(): Promise<ChaosRow>;
}

const MODEL_FAULTS: ModelFault[] = ['http_500', 'http_429', 'hang', 'truncated_stream', 'invalid_json'];

export function scenarios(size: 'full' | 'ci'): Scenario[] {
  const epochs = size === 'full' ? 4 : 1;
  const model = MODEL_FAULTS.map(
    (fault): Scenario => ({ name: `model ${fault} (transient)`, parallel: true, run: () => modelFaultScenario({ fault, pattern: 'transient', epochs }) }),
  );
  const permanent: Scenario[] = (size === 'full' ? (['http_500', 'hang', 'invalid_json'] as const) : (['http_500'] as const)).map((fault) => ({
    name: `model ${fault} (permanent)`,
    parallel: true,
    run: () => modelFaultScenario({ fault, pattern: 'permanent', epochs: 1 }),
  }));
  // Process-killing scenarios count every descendant left behind, so they run one at a time.
  const processes: Scenario[] = [
    { name: 'sandbox killed mid-command', parallel: false, run: () => withOrphanCount(() => sandboxCrashScenario({ epochs: size === 'full' ? 3 : 1 })) },
    { name: 'k8s pod ended mid-command', parallel: false, run: () => withOrphanCount(() => podEndScenario({ epochs: size === 'full' ? 3 : 1 })) },
    { name: 'queue worker SIGKILL mid-rollout', parallel: false, run: () => withOrphanCount(() => workerKillScenario({ epochs: size === 'full' ? 6 : 2 })) },
    { name: 'queue worker stopped mid-rollout', parallel: false, run: () => withOrphanCount(() => workerKillScenario({ epochs: size === 'full' ? 6 : 2, stop: 'hand-back' })) },
    { name: 'Redis restarted, data lost', parallel: false, run: () => withOrphanCount(() => redisRestartScenario({ tasks: size === 'full' ? 8 : 4 })) },
    { name: 'main process SIGKILL, resumed', parallel: false, run: () => withOrphanCount(() => mainKillScenario({ epochs: size === 'full' ? 6 : 3 })) },
  ];
  return size === 'full' ? [...model, ...permanent, ...processes] : [...model, ...permanent, processes[0]!, processes[1]!];
}

/** Runs the scenarios (parallel ones together, the rest one by one) and returns their rows in order. */
export async function runScenarios(list: readonly Scenario[]): Promise<ChaosRow[]> {
  const rows = new Map<Scenario, ChaosRow>();
  const run = async (s: Scenario) => rows.set(s, { ...(await s.run()), scenario: s.name });
  await Promise.all(list.filter((s) => s.parallel).map(run));
  for (const s of list.filter((x) => !x.parallel)) await run(s);
  return list.map((s) => rows.get(s)!);
}
