// Messages between a run's main thread and its rollout threads. Both ends are this process's own
// code, so the messages are typed rather than parsed; structured cloning keeps shared objects
// shared, so a rollout's calls arrive with their message history by reference, as recorded.
import type { AttemptsSpend, Rollout, RunConfig, RunId, StoreError, Task } from '../../core/index.ts';
import type { ThreadStoreAccess } from '../../store/index.ts';
import type { DecodedResult } from '../queue/replay.ts';

/** What every thread of a run needs to build its clients and run rollouts. */
export interface ThreadInit {
  runId: RunId;
  config: RunConfig;
  /** Where API keys are read: the caller's environment variables. */
  env: Record<string, string | undefined>;
  graceMs: number;
  /** The run's store, when threads can open it: each thread then stores its own rollouts. */
  store?: ThreadStoreAccess;
  /** Environment modules (absolute paths) the main thread loaded: the thread loads them before anything else. */
  environmentModules?: string[];
}

export type ToThread =
  /**
   * `earlier`: what the attempts before `firstAttempt` spent, as the main thread's store holds
   * them; only a thread recording into memory needs it (one storing its own reads its store).
   */
  | { kind: 'rollout'; seq: number; task: Task; epoch: number; firstAttempt: number; earlier?: AttemptsSpend }
  /** The run was cancelled: rollouts in flight end without a record (they stay missing, for --resume). */
  | { kind: 'abort'; reason: string }
  | { kind: 'close' };

export type FromThread =
  /** `niceness`: the thread's nice level once lowered below the main thread's (Linux only). */
  | { kind: 'ready'; niceness?: number }
  /** `result` null: the run was cancelled mid-rollout. */
  | { kind: 'result'; seq: number; result: DecodedResult | null }
  /** The thread stored the rollout itself (`rollout` null: cancelled mid-rollout); or could not, and why. */
  | { kind: 'stored'; seq: number; rollout: Rollout | null; storeFailure?: { path: string; problem: StoreError['problem']; message: string } }
  /** A defect: executeRollout threw (in-process, the run would reject with it). */
  | { kind: 'failed'; seq: number; message: string; stack?: string }
  /** The thread could not start (an environment module it could not load, a model client it could not build). */
  | { kind: 'init_failed'; message: string; stack?: string; input?: { where: string; problem: string; expected?: string } }
  | { kind: 'closed' };

export type RolloutOutcome = { rollout: Rollout; result: DecodedResult } | null;
