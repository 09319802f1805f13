// Synthetic runs for tests and benchmarks: seeded Bernoulli outcomes per task and epoch, written
// as real Rollout records so everything downstream sees exactly what a store would hold.
import { createRng, rolloutIdFor, RunId, SCHEMA_VERSION, TaskId } from '../core/index.ts';
import type { Rollout } from '../core/index.ts';
import type { RunInput, TaskMeta } from './tasks.ts';

export function simulateTasks(options: { count: number; domains: readonly string[]; env?: string; prefix?: string }): TaskMeta[] {
  const difficulties = ['easy', 'medium', 'hard'];
  return Array.from({ length: options.count }, (_, i) => ({
    id: `${options.prefix ?? 'task'}-${String(i).padStart(4, '0')}`,
    env: options.env ?? 'sim',
    domain: options.domains[i % options.domains.length] as string,
    difficulty: difficulties[i % difficulties.length] as string,
  }));
}

export interface SimulateRunOptions {
  runId: string;
  model: string;
  tasks: readonly TaskMeta[];
  epochs: number;
  seed: number | string;
  /** Success probability of one attempt at task `index`. */
  probability: (task: TaskMeta, index: number) => number;
  /** Chance that an epoch's final attempt is an infra error (never scored). */
  infraErrorRate?: number;
}

/** A rollout with plausible defaults; `taskId` may be a plain string (checked here, as a store would). */
export function makeRollout(fields: Pick<Rollout, 'runId' | 'epoch' | 'model' | 'status' | 'passed'> & { taskId: string } & Partial<Omit<Rollout, 'taskId'>>): Rollout {
  const scored = fields.status === 'scored';
  const { runId, epoch } = fields;
  const taskId = TaskId.parse(fields.taskId);
  return {
    schemaVersion: SCHEMA_VERSION,
    id: rolloutIdFor(runId, taskId, epoch),
    env: 'sim',
    attempt: 1,
    seed: epoch,
    scaffold: 'interleaved',
    terminationReason: fields.status === 'scored' ? 'submitted' : fields.status,
    score: scored ? (fields.passed ? 1 : 0) : null,
    rewardTerms: [],
    verifier: null,
    error:
      fields.status === 'infra_error'
        ? { source: 'model', message: 'simulated endpoint failure' }
        : fields.status === 'error'
          ? { source: 'environment', message: 'simulated defect in a tool' }
          : null,
    finalAnswer: null,
    stats: { turns: 1, modelCalls: 1, toolCalls: 0, toolErrors: 0, promptTokens: 0, completionTokens: 0 },
    perturbations: [],
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:01.000Z',
    durationMs: 1000,
    ...fields,
    taskId,
  };
}

export function simulateRun(options: SimulateRunOptions): RunInput {
  const rng = createRng(options.seed);
  const runId = RunId.parse(options.runId);
  const rollouts: Rollout[] = [];
  options.tasks.forEach((task, index) => {
    const p = options.probability(task, index);
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const infra = options.infraErrorRate !== undefined && rng.next() < options.infraErrorRate;
      const passed = rng.next() < p;
      rollouts.push(
        makeRollout({ runId, taskId: task.id, epoch, model: options.model, env: task.env, status: infra ? 'infra_error' : 'scored', passed: infra ? null : passed }),
      );
    }
  });
  return { runId: options.runId, model: options.model, rollouts };
}
