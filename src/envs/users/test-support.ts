// Simulated-user tests play whole episodes through the real lifecycle and agent loop.
import { nullRecorder, type ModelClient, type Task } from '../../core/index.ts';
import { runEpisode, unrecordedAgentDriver, type EpisodeOutcome } from '../../runner/index.ts';
import type { EnvironmentDefinition } from '../define.ts';
import type { UserSimulator } from './index.ts';

export interface PlayOptions {
  definition: EnvironmentDefinition;
  task: Task;
  model: ModelClient;
  user?: UserSimulator;
  /** The rollout's own time (default 60 s). */
  deadlineMs?: number;
  /** The run's cancel. */
  signal?: AbortSignal;
  runId?: string;
}

/** One episode of `task` with `model` as the agent and `user` as its user, seed 1, nothing recorded. */
export function playUserEpisode(options: PlayOptions): Promise<EpisodeOutcome> {
  const { definition, task, model } = options;
  const runId = options.runId ?? 'users-test';
  return runEpisode({
    ...(options.signal ? { signal: options.signal } : {}),
    definition,
    task,
    seed: 1,
    ...(options.user ? { user: options.user } : {}),
    deadlineMs: options.deadlineMs ?? 60_000,
    graceMs: 5_000,
    now: Date.now,
    recorder: nullRecorder,
    drive: unrecordedAgentDriver({ task, model, runId, seed: 1, maxTurns: 20 }),
  });
}
