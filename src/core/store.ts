// The store contract the runner, the agent loop and every reader depend on; SQLite implements it
// in `store`, tests may implement it in memory.
import { createHash } from 'node:crypto';
import { stableStringify } from './json.ts';
import type { ModelCall } from './model-call.ts';
import type { EventDataOf, EventType, Label, Rollout, RolloutEvent, Run } from './rollout.ts';
import type { RolloutId, RunId } from './ids.ts';
import type { Task } from './task.ts';

/** Where the loop reports what happened, as it happens. */
export interface RolloutRecorder {
  modelCall(call: ModelCall): void;
  event<T extends EventType>(type: T, data: EventDataOf<T>): void;
}

/** A recorder for one attempt. Once sealed (the attempt was abandoned) it drops whatever still arrives. */
export interface AttemptRecorder extends RolloutRecorder {
  seal(): void;
  readonly sealed: boolean;
}

export const nullRecorder: RolloutRecorder = { modelCall: () => {}, event: () => {} };

/** One recorded event, its data typed by its type. */
export type RecordedEvent = { [T in EventType]: { type: T; data: EventDataOf<T> } }[EventType];

export function memoryRecorder(): RolloutRecorder & { calls: ModelCall[]; events: RecordedEvent[] } {
  const calls: ModelCall[] = [];
  const events: RecordedEvent[] = [];
  return {
    calls,
    events,
    modelCall: (call) => void calls.push(call),
    event: (type, data) => void events.push({ type, data } as RecordedEvent),
  };
}

export interface AttemptIdentity {
  runId: RunId;
  rolloutId: RolloutId;
  attempt: number;
}

/** A task as a run ran it, with the content hash that tells whether its definition changed since. */
export interface StoredTask {
  task: Task;
  hash: string;
}

/** Content hash of a task: equal for equal content whatever the key order. */
export function taskHash(task: Task): string {
  return `sha256:${createHash('sha256').update(stableStringify(task)).digest('hex')}`;
}

/** Exclusive right to execute a run's rollouts; held by one process at a time and renewed while it runs. */
export interface RunLease {
  readonly runId: RunId;
  readonly owner: string;
  release(): void;
}

export interface Store {
  /** Where it lives, for messages (`:memory:` for tests). */
  readonly path: string;
  /** Stores a new run with the content of every task it will run (deduplicated by hash across runs). */
  createRun(run: Run, tasks: readonly Task[]): void;
  getRun(id: string): Run | null;
  listRuns(limit?: number): Run[];
  setRunStatus(id: string, status: Run['status']): void;
  /** The tasks a run ran, in run order, exactly as they were then. */
  runTasks(runId: string): StoredTask[];
  /** Takes the run's lease, or throws naming the holder when another live process has it. */
  acquireLease(runId: RunId): RunLease;
  recorder(identity: AttemptIdentity): AttemptRecorder;
  /** Writes the attempt's pending calls and events, then the rollout row, in one transaction. */
  commitRollout(rollout: Rollout): void;
  rollouts(runId: string): Rollout[];
  getRollout(id: string): Rollout | null;
  finishedRolloutIds(runId: string): Set<string>;
  /** The attempt number a new try of this rollout should use (after any interrupted ones). */
  nextAttempt(rolloutId: string): number;
  /** Every model call of a rollout (all attempts), in order. */
  modelCalls(rolloutId: string): ModelCall[];
  events(rolloutId: string): RolloutEvent[];
  saveLabel(label: Label): void;
  labels(rolloutId: string): Label[];
  flush(): void;
  close(): void;
}
