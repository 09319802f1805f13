// The store contract the runner, the agent loop and every reader depend on; SQLite implements it
// in `store`, tests may implement it in memory.
import { createHash } from 'node:crypto';
import { stableStringify } from './json.ts';
import type { DetectionRecord, DetectionReport } from './detections.ts';
import type { ModelCall } from './model-call.ts';
import type { JsonObject } from './json.ts';
import type { AttemptsSpend, EventDataOf, EventType, Label, Rollout, RolloutEvent, RolloutStatus, Run, TerminationReason } from './rollout.ts';
import type { RolloutId, RunId } from './ids.ts';
import type { Task } from './task.ts';

/** The fields of a rollout a run's summary counts. */
export type RolloutOutcome = Pick<Rollout, 'id' | 'taskId' | 'epoch' | 'status' | 'terminationReason' | 'score' | 'passed' | 'error'>;

/**
 * A run's rollouts counted rather than listed (by SQL in the store), for summaries of runs of any
 * size. Counted as `summarise` (src/runner/run.ts) and the viewer's rates count a list of them:
 * a rollout passed only when it is scored and `passed` is true.
 */
export interface RolloutCounts {
  rollouts: number;
  byStatus: Record<RolloutStatus, number>;
  terminationReasons: Record<TerminationReason, number>;
  /** Scored rollouts that passed; that have a pass/fail verdict; that have a score. */
  passed: number;
  judged: number;
  withScore: number;
  /**
   * The scored rollouts' scores (a missing one as 0) added one at a time in (task, epoch) order,
   * as a loop over the listed rollouts adds them: a total of floats depends on the order, and a
   * summary must not change in its last digit for being counted instead of listed.
   */
  scoreSum: number;
  /** Mean over the tasks with a scored rollout of each one's passed ÷ scored; null where none has one. */
  taskMeanPassRate: number | null;
  /** The same over the rollouts with a verdict (passed ÷ judged), over the tasks with one. */
  taskMeanJudgedPassRate: number | null;
}

/** The counts a run's summary is made of, as `rollouts` reads the rollouts, with those that ended in a defect listed. */
export interface RunSummaryCounts extends RolloutCounts {
  /** The rollouts that read as errors, in (task, epoch) order, each with its error. */
  errorRollouts: RolloutOutcome[];
}

/** Where the loop reports what happened, as it happens. */
export interface RolloutRecorder {
  modelCall(call: ModelCall): void;
  /** `at`: when it happened, for records replayed after the fact (a worker's, a thread's); now when absent. */
  event<T extends EventType>(type: T, data: EventDataOf<T>, at?: Date): void;
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

const taskHashes = new WeakMap<Task, string>();

/**
 * Content hash of a task: equal for equal content whatever the key order. Remembered per task
 * object (tasks are values, never changed once parsed): every epoch of a task asks again.
 */
export function taskHash(task: Task): string {
  let hash = taskHashes.get(task);
  if (hash === undefined) {
    hash = `sha256:${createHash('sha256').update(stableStringify(task)).digest('hex')}`;
    taskHashes.set(task, hash);
  }
  return hash;
}

/** Exclusive right to execute a run's rollouts; held by one process at a time and renewed while it runs. */
export interface RunLease {
  readonly runId: RunId;
  readonly owner: string;
  release(): void;
}

/** The process holding a run's lease, and whether it still executes the run (a killed one left its lease behind). */
export interface LeaseHolder {
  host: string;
  pid: number;
  renewedAt: string;
  alive: boolean;
}

/**
 * A rollout without its trajectory: what listings, summaries and review-queue sampling read, cheap
 * enough for 10,000 rollouts in one go. Counts are the rollout's final attempt's.
 */
export interface RolloutSummary {
  id: RolloutId;
  runId: RunId;
  taskId: string;
  epoch: number;
  groupId: string | null;
  attempt: number;
  status: RolloutStatus;
  terminationReason: TerminationReason;
  score: number | null;
  passed: boolean | null;
  turns: number;
  modelCalls: number;
  toolCalls: number;
  completionTokens: number;
  durationMs: number;
  /** Names of the perturbations applied, in order. */
  perturbations: string[];
}

/** Which of a run's rollouts to read, in (task, epoch) order. */
export interface RolloutQuery {
  taskId?: string;
  status?: RolloutStatus;
  passed?: boolean;
  /** Only rollouts after this one in (task, epoch) order: the keyset of the previous page. */
  after?: { taskId: string; epoch: number };
  limit?: number;
}

// Expert-review records travel through the store as the columns it filters, reserves and counts by,
// plus the record itself: the review module owns the record's schema and checks it on read.

/** One label, never overwritten: a reviewer's later label on the same target supersedes it in reading, not in storage. */
export interface ReviewLabelRow {
  id: string;
  /** `verdict`, `step`, `preference`. */
  kind: string;
  runId: string;
  rolloutId: string;
  /** The second rollout of a preference. */
  otherRolloutId: string | null;
  reviewer: string;
  queueItemId: string | null;
  /** Whether this label finishes the reviewer's turn on its queue item (ends the reservation, counts toward the item's reviewers). */
  completesItem: boolean;
  createdAt: string;
  record: JsonObject;
}

export interface ReviewQueueRow {
  id: string;
  runId: string;
  createdAt: string;
  /** Distinct reviewers each item needs before it is done. */
  reviewersPerItem: number;
  /** How long a reservation holds an item for its reviewer. */
  reservationMs: number;
  record: JsonObject;
}

export interface ReviewItemRow {
  id: string;
  queueId: string;
  position: number;
  rolloutId: string;
  record: JsonObject;
}

/** A queue item with who has finished it and who holds it now. */
export interface ReviewItemState {
  item: ReviewItemRow;
  /** Distinct reviewers whose completing label names this item, in the order they finished. */
  doneBy: string[];
  heldBy: { reviewer: string; expiresAt: number } | null;
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
  /** Who holds the run's lease now; null when no process took it or it was released. */
  leaseHolder(runId: RunId): LeaseHolder | null;
  recorder(identity: AttemptIdentity): AttemptRecorder;
  /** Writes the attempt's pending calls and events, then the rollout row, in one transaction. */
  commitRollout(rollout: Rollout): void;
  /** The same for several finished rollouts at once: one transaction instead of one each. */
  commitRollouts(rollouts: readonly Rollout[]): void;
  rollouts(runId: string): Rollout[];
  /** `rollouts`, read a page at a time: memory stays bounded whatever the size of the run. */
  eachRollout(runId: string): Iterable<Rollout>;
  /** What a run's summary needs of each rollout, without reading whole records (ordered as `rollouts`). */
  rolloutOutcomes(runId: string): RolloutOutcome[];
  /**
   * The run's rollouts counted, as `rollouts` reads them (one whose stored reward is damaged counts
   * as the error it reads as), without listing them: a run of 200k rollouts is counted from an index.
   */
  runSummaryCounts(runId: string): RunSummaryCounts;
  /** The same counted from the stored columns alone, as `rolloutSummaries` lists the rollouts (review listings): no record is read. */
  runStoredCounts(runId: string): RolloutCounts;
  /**
   * What the run's stored rollouts spent, every attempt of each included (`Rollout.spent`; a record
   * without it counts its `stats` and one attempt). All zero for a run with no rollouts.
   */
  runSpend(runId: string): AttemptsSpend;
  getRollout(id: string): Rollout | null;
  /** Rollouts of the run with a stored row; `exceptInfraErrors` leaves out those stored as infra errors (to run them again). */
  finishedRolloutIds(runId: string, options?: { exceptInfraErrors?: boolean }): Set<string>;
  /** The attempt number a new try of this rollout should use (after any interrupted ones). */
  nextAttempt(rolloutId: string): number;
  /**
   * What the rollout's attempts numbered below `beforeAttempt` spent, from what the store holds of
   * them (an earlier process's: one killed mid-attempt, or whose infra_error record a resume
   * replaces): the agent's model calls and their tokens (a judge's or a simulated user's are not
   * counted, as `traceAttempt` does not count them) and its tool calls. `attempts` is the highest
   * attempt number stored below `beforeAttempt`: numbers run on without gaps, so an attempt that
   * stored nothing before a later one did counts too. All zero when nothing is stored.
   */
  attemptsSpend(rolloutId: string, beforeAttempt: number): AttemptsSpend;
  /** Every model call of a rollout (all attempts), in order. */
  modelCalls(rolloutId: string): ModelCall[];
  events(rolloutId: string): RolloutEvent[];
  saveLabel(label: Label): void;
  labels(rolloutId: string): Label[];
  /** Stores the detectors' findings for one attempt of a rollout, replacing an earlier pass over it. */
  saveDetections(rolloutId: string, attempt: number, report: DetectionReport): void;
  /** The stored findings for a rollout, one record per attempt that was examined, in attempt order. */
  detections(rolloutId: string): DetectionRecord[];
  /** A run's rollouts without their trajectories, by task then epoch (all of them, or those the query selects). */
  rolloutSummaries(runId: string, query?: RolloutQuery): RolloutSummary[];
  /** The stored findings for every rollout of a run, by rollout then attempt. */
  runDetections(runId: string): DetectionRecord[];
  /** Tool calls by tool name over the final attempts of a run's rollouts. */
  toolCallCounts(runId: string): Record<string, number>;
  /** Appends a review label; a completing label also ends its reviewer's reservation of the item, in the same transaction. */
  appendReviewLabel(row: ReviewLabelRow): void;
  /** Labels on a rollout (either side of a preference), of a run, or all, in the order they were written. */
  reviewLabels(filter: { rolloutId?: string; runId?: string }): ReviewLabelRow[];
  createReviewQueue(queue: ReviewQueueRow, items: readonly ReviewItemRow[]): void;
  /** Queues, newest first (one when `id` is given). */
  reviewQueues(filter?: { id?: string }): ReviewQueueRow[];
  /** A queue's items in order, with reservations expired at `nowMs` left out. */
  reviewItems(queueId: string, nowMs: number): ReviewItemState[];
  /**
   * Atomically reserves the next item the reviewer may take (the one they already hold while it
   * still needs them, else the first that nobody holds, that they have not done and that still
   * needs reviewers) until `nowMs` + the queue's reservation time; null when none is left.
   */
  reserveReviewItem(request: { queueId: string; reviewer: string; nowMs: number }): ReviewItemState | null;
  /** Ends the reservation of an item (only the given reviewer's, when given); false when there was none. */
  releaseReviewItem(request: { queueId: string; itemId: string; reviewer?: string }): boolean;
  flush(): void;
  close(): void;
}
