// Stores filled by real runs of a built-in environment (the oracle and random policies) plus
// detector findings written as the detectors would store them, for the review and API tests.
import { type DetectionFlag, type DetectionReport, type Rollout, type RunId, type Store } from '../core/index.ts';
import { executeRun, resolveRun } from '../runner/index.ts';
import { openStore } from '../store/index.ts';

export const MAIL_TASKS = ['mail/update-moved-contact', 'mail/flight-confirmation-code'];

export interface ReviewFixture {
  store: Store;
  /** The random policy at training step 100 (every rollout fails), then the oracle at step 200 (every one passes): a reward jump. */
  randomRun: RunId;
  oracleRun: RunId;
}

async function realRun(store: Store, options: { model: string; policyVersion: string; seed: number }): Promise<RunId> {
  const resolved = await resolveRun({ envs: ['mail'], taskIds: MAIL_TASKS, model: options.model, epochs: 4, groupSize: 2, concurrency: 4, seed: options.seed, sandbox: 'virtual', policyVersion: options.policyVersion });
  const summary = await executeRun({ store, run: { resolved } });
  if (summary.rollouts !== MAIL_TASKS.length * 4) throw new Error(`fixture run of ${options.model} made ${summary.rollouts} rollouts`);
  return summary.runId;
}

/** Two real runs in a new store (in memory unless `path` is given). */
export async function reviewFixture(options: { path?: string } = {}): Promise<ReviewFixture> {
  const store = openStore(options.path ?? ':memory:');
  const randomRun = await realRun(store, { model: 'random', policyVersion: 'step-100', seed: 11 });
  const oracleRun = await realRun(store, { model: 'oracle', policyVersion: 'step-200', seed: 11 });
  return { store, randomRun, oracleRun };
}

export function flag(category: DetectionFlag['category'], options: { detector?: string; callIndex?: number; severity?: DetectionFlag['severity'] } = {}): DetectionFlag {
  return {
    category,
    detector: options.detector ?? `rules/${category}`,
    severity: options.severity ?? 'high',
    evidence: { callIndex: options.callIndex ?? 0, excerpt: 'rm -rf tests/' },
    reason: 'synthetic finding for a test',
  };
}

/** Stores findings for the rollout's final attempt, as `gauntlet detect` would. */
export function saveFindings(store: Store, rollout: Rollout, flags: DetectionFlag[], options: { monitor?: boolean; review?: DetectionReport['review'] } = {}): void {
  const detectors = [...new Set(['rules/test_tampering', 'rules/dangerous_command', ...flags.map((f) => f.detector)])].sort();
  store.saveDetections(rollout.id, rollout.attempt, {
    createdAt: '2025-01-02T00:00:00.000Z',
    detectors,
    flags,
    monitor: options.monitor ? { status: 'ok', spec: 'scripted:monitor', verdict: flags.length > 0 ? 'flagged' : 'clean' } : null,
    review: options.review ?? [],
    unparsed: [],
  });
}

