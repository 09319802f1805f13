// Each app invocation is one stored run; its agents are that run's rollouts (fan-out recording).
import type { AgentOutcome } from '../agent/fanout/index.ts';
import { GAUNTLET_VERSION, newRunId, RunConfig, SCHEMA_VERSION, type Run, type Store } from '../core/index.ts';

export interface AppRunOptions {
  /** `radar` or `feedback`: the run's env is `apps/<app>`. */
  app: string;
  model: string;
  concurrency: number;
  now?: () => Date;
}

export function createAppRun(store: Store, options: AppRunOptions): Run {
  const now = options.now?.() ?? new Date();
  const run: Run = {
    schemaVersion: SCHEMA_VERSION,
    id: newRunId(now),
    createdAt: now.toISOString(),
    gauntletVersion: GAUNTLET_VERSION,
    config: RunConfig.parse({ envs: [`apps/${options.app}`], model: options.model, epochs: 1, concurrency: options.concurrency, seed: 0 }),
    status: 'running',
    finishedAt: null,
  };
  // The agents' prompts live in their recorded calls; the run holds no environment tasks.
  store.createRun(run, []);
  return run;
}

/** Why an agent produced nothing, for reports. */
export function outcomeText(outcome: AgentOutcome<unknown>): string {
  switch (outcome.status) {
    case 'ok':
      return 'ok';
    case 'failed':
      return `${outcome.failure.kind}: ${outcome.failure.message}`;
    case 'deadline':
      return 'the agent ran past its deadline';
    case 'cancelled':
      return `cancelled (${outcome.reason === 'caller' ? 'interrupted' : `${outcome.reason} budget spent`})`;
    case 'not_started':
      return `not started (${outcome.reason === 'caller' ? 'interrupted' : `${outcome.reason} budget spent`})`;
  }
}
