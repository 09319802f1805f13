// Gauntlet's agent loop as an episode's driver with nothing recorded: for validation and tests,
// which need an episode's outcome but keep none of its calls.
import { runAgent } from '../agent/index.ts';
import { createRng, nullRecorder, type ModelClient, type RolloutId, type RunId, type Task } from '../core/index.ts';
import type { RunEpisodeOptions } from './episode.ts';

export interface UnrecordedAgentOptions {
  task: Task;
  model: ModelClient;
  /** Names the attempt: run `runId`, rollout `runId:taskId`. */
  runId: string;
  /** Seeds the agent's random choices. */
  seed: number;
  maxTurns: number;
}

/** Drives an episode with the agent loop: reset's observation joins the first user turn and the episode's cancel reaches the agent, as in a run. */
export function unrecordedAgentDriver(options: UnrecordedAgentOptions): RunEpisodeOptions['drive'] {
  const { task, model, runId, seed, maxTurns } = options;
  const identity = { runId: runId as RunId, rolloutId: `${runId}:${task.id}` as RolloutId, attempt: 1 };
  return (episode, { deadlineAt, signal }) =>
    runAgent({
      task,
      environment: episode.environment,
      model,
      recorder: nullRecorder,
      identity,
      settings: { maxTurns, deadlineAt, rng: createRng(seed) },
      ...(episode.observation ? { observation: episode.observation } : {}),
      ...(signal ? { signal } : {}),
    });
}
