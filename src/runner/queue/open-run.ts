// Opening a run for the queue exactly as `executeRun` opens one for itself: a new run is created
// with its tasks, a stored one is reopened with its stored config and tasks; either way this
// process holds the run's lease until it is done.
import { GAUNTLET_VERSION, InputError, newRunId, rolloutIdFor, SCHEMA_VERSION, type Run, type RunLease, type Store, type Task } from '../../core/index.ts';
import { tasksOfRun, type EnvironmentCatalog, type ResolvedRun } from '../resolve.ts';
import { environmentFiles } from '../../envs/index.ts';
import type { RunNotes } from '../run.ts';

export interface OpenedRun {
  run: Run;
  tasks: Task[];
  lease: RunLease;
  notes: RunNotes;
}

export function openRun(options: { store: Store; run: { resolved: ResolvedRun } | { resume: string; retryInfraErrors?: boolean }; catalog: EnvironmentCatalog; started: number }): OpenedRun {
  const { store } = options;
  if ('resume' in options.run) {
    const run = store.getRun(options.run.resume);
    if (!run) throw new InputError('run', `no run "${options.run.resume}" in ${store.path}`, 'a run id shown by `gauntlet runs`');
    const lease = store.acquireLease(run.id);
    try {
      const found = tasksOfRun(store, run.id, run.config, options.catalog);
      store.setRunStatus(run.id, 'running');
      return { run, tasks: found.tasks, lease, notes: { taskSource: found.source, drift: found.drift } };
    } catch (error) {
      lease.release();
      throw error;
    }
  }
  const { config, tasks } = options.run.resolved;
  const at = new Date(options.started);
  const files = environmentFiles(config.envs);
  const run: Run = { schemaVersion: SCHEMA_VERSION, id: newRunId(at), createdAt: at.toISOString(), gauntletVersion: GAUNTLET_VERSION, config, status: 'running', finishedAt: null, ...(files ? { environmentFiles: files } : {}) };
  store.createRun(run, tasks);
  return { run, tasks, lease: store.acquireLease(run.id), notes: { taskSource: 'stored', drift: [] } };
}

/** One rollout still to run, with its place in the enqueued order. */
export interface WorkItem {
  rolloutId: ReturnType<typeof rolloutIdFor>;
  task: Task;
  epoch: number;
  position: number;
}

/** The rollouts the store does not hold yet, epoch by epoch, in the in-process runner's order. */
export function missingWork(opened: OpenedRun, finished: ReadonlySet<string>): WorkItem[] {
  const work: WorkItem[] = [];
  for (let epoch = 0; epoch < opened.run.config.epochs; epoch++) {
    for (const task of opened.tasks) {
      const rolloutId = rolloutIdFor(opened.run.id, task.id, epoch);
      if (!finished.has(rolloutId)) work.push({ rolloutId, task, epoch, position: work.length });
    }
  }
  return work;
}
