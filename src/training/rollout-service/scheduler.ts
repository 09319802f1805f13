// Which groups run, which batch each finished group goes to, and the one rule that never bends:
// a group is handed out only if every call in it is within `maxStaleness` versions of the
// trainer's current version, checked in the same synchronous step that writes it to the stream.
import { DefectError, errorMessage, type Task } from '../../core/index.ts';
import type { AdvantageMethod } from '../advantages/index.ts';
import type { ExportTarget } from '../export/index.ts';
import { findNonFinite, hasNonFinite, pathText } from '../../store/index.ts';
import type { CallNotice } from './driver.ts';
import { accountHandout, emptyLedger, GroupTally, serviceReport, type Ledger, type SchedulerReport } from './report.ts';
import type { FinishedMember, GroupRows } from './rows.ts';
import { groupLine } from './lines.ts';
import type { StreamLine, VersionSpan } from './schemas.ts';
import { groupVersions, withinStaleness } from './versions.ts';

/** What the scheduler asks for: G rollouts of one task in one world. */
export interface GroupWork {
  task: Task;
  world: number;
  signal: AbortSignal;
  onCall(notice: CallNotice): void;
}

/** Runs groups. Resolves with every member that started, once all have settled (stored). */
export interface GroupExecutor {
  run(work: GroupWork): Promise<FinishedMember[]>;
}

/** Where a batch's lines go. `write` returns false when the reader is gone (the line was not taken). */
export interface BatchSink {
  write(line: string): boolean;
  end(): void;
}

export interface SchedulerOptions {
  tasks: readonly Task[];
  groupSize: number;
  maxStaleness: number;
  /** Groups kept in flight beyond what open batches still need. */
  window: number;
  /** What happens to a batch's unfinished groups once it is full: keep them for later batches, or cancel them. */
  leftovers: 'keep' | 'cancel';
  /** Groups in a row that end in infrastructure failures before open batches are failed. */
  maxFailedGroups: number;
  executor: GroupExecutor;
  /** The longest line a group may take on the stream (what clients read); a longer group is dropped, not sent. */
  maxLineChars: number;
  rows(members: readonly FinishedMember[], batch: { target: ExportTarget; method: AdvantageMethod }): GroupRows;
  currentVersion(): number;
  now(): number;
  log?: (line: string) => void;
}

export type GroupState = 'running' | 'ready' | 'served' | 'dropped' | 'cancelled';

export interface GroupRecord {
  key: string;
  task: Task;
  world: number;
  startedFor: string;
  startedAt: number;
  endedAt: number | null;
  state: GroupState;
  /** Why it was dropped or cancelled. */
  reason: string | null;
  /** Versions seen so far per rollout (current attempt only): lets a hopelessly stale group be cancelled early. */
  observed: Map<string, { attempt: number; min: number }>;
  controller: AbortController;
  /** Held only while the group waits to be handed out. */
  members: FinishedMember[] | null;
  span: VersionSpan | null;
  /** Mean turns and completion tokens of its members, once they settled. */
  lengths: { turns: number; completionTokens: number } | null;
}

export interface BatchSpec {
  size: number;
  tasks: ReadonlySet<string> | null;
  target: ExportTarget;
  method: AdvantageMethod;
  policyVersion: number;
}

export interface BatchRecord extends BatchSpec {
  id: string;
  served: number;
  state: 'open' | 'complete' | 'failed';
  sink: BatchSink | null;
  createdAt: number;
  completedAt: number | null;
  startedGroups: number;
  servedFromEarlier: number;
  message: string | null;
}

export type AttachResult = { ok: true } | { ok: false; status: 404 | 409; message: string };

/** Finished batches remembered for their status and the report; older ones are forgotten (404). */
export const FINISHED_BATCHES_KEPT = 256;

export class RolloutScheduler {
  /**
   * Groups whose figures can still change: running or ready (`live`), or retired while their
   * rollouts still run. The rest are folded into `folded` and let go, so a session that runs for
   * weeks holds what is in play, not every group it ever started.
   */
  private readonly inPlay = new Set<GroupRecord>();
  private readonly folded = new GroupTally();
  private readonly live = new Set<GroupRecord>();
  /** Open batches, and the last `FINISHED_BATCHES_KEPT` finished ones (`finishedOrder`, oldest first). */
  private readonly batches = new Map<string, BatchRecord>();
  private readonly finishedOrder: string[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly worlds = new Map<string, number>();
  private readonly ledger: Ledger = emptyLedger();
  private cursor = 0;
  private batchCount = 0;
  /** Groups in a row lost to infrastructure failures, and groups in a row that could not be handed out (no token ids, no versions). */
  private infraInARow = 0;
  private unusableInARow = 0;
  private pumping = false;
  private again = false;
  private closing = false;
  failure: string | null = null;

  constructor(private readonly options: SchedulerOptions) {}

  openBatch(spec: BatchSpec): BatchRecord {
    const batch: BatchRecord = { ...spec, id: `batch_${++this.batchCount}`, served: 0, state: 'open', sink: null, createdAt: this.options.now(), completedAt: null, startedGroups: 0, servedFromEarlier: 0, message: null };
    this.batches.set(batch.id, batch);
    this.pump();
    return batch;
  }

  batch(id: string): BatchRecord | undefined {
    return this.batches.get(id);
  }

  /** Groups open batches still await: what the scheduler keeps running on their behalf. */
  owedGroups(): number {
    let owed = 0;
    for (const batch of this.batches.values()) if (batch.state === 'open') owed += batch.size - batch.served;
    return owed;
  }

  /** Group and batch records held now (bounded by what is in play plus `FINISHED_BATCHES_KEPT`). */
  retained(): { groups: number; batches: number } {
    return { groups: this.inPlay.size, batches: this.batches.size };
  }

  /** Connects a reader; finished groups flow to it from now on. One reader per batch at a time. */
  attach(id: string, sink: BatchSink): AttachResult {
    const batch = this.batches.get(id);
    if (!batch) return { ok: false, status: 404, message: `no batch ${id} (the service remembers its open batches and the last ${FINISHED_BATCHES_KEPT} finished ones)` };
    if (batch.state !== 'open') return { ok: false, status: 409, message: `batch ${id} is ${batch.state}${batch.message ? `: ${batch.message}` : ''}; its groups were handed out once` };
    if (batch.sink) return { ok: false, status: 409, message: `batch ${id} already has a reader` };
    batch.sink = sink;
    this.pump();
    return { ok: true };
  }

  detach(id: string, sink: BatchSink): void {
    const batch = this.batches.get(id);
    if (batch?.sink === sink) batch.sink = null;
  }

  /** After an announcement: finished groups now too stale are dropped, running ones that can never qualify are cancelled. */
  versionChanged(): { dropped: number; cancelled: number } {
    const current = this.options.currentVersion();
    let dropped = 0;
    let cancelled = 0;
    for (const group of [...this.live]) {
      if (group.state === 'ready' && group.span && !withinStaleness(group.span.min, current, this.options.maxStaleness)) {
        this.drop(group, 'stale');
        dropped++;
      } else if (group.state === 'running') {
        const oldest = observedOldest(group);
        if (oldest !== null && !withinStaleness(oldest, current, this.options.maxStaleness)) {
          this.cancel(group, 'stale');
          cancelled++;
        }
      }
    }
    this.pump();
    return { dropped, cancelled };
  }

  report(): SchedulerReport {
    return serviceReport({ groups: this.inPlay, folded: this.folded, batches: [...this.batches.values()], ledger: this.ledger, now: this.options.now(), maxStaleness: this.options.maxStaleness, window: this.options.window, failure: this.failure });
  }

  /** Ends open batches with an error line, cancels running groups and waits until they are stored. */
  async close(message = 'the rollout service is shutting down'): Promise<void> {
    this.closing = true;
    for (const batch of this.batches.values()) if (batch.state === 'open') this.endBatch(batch, 'failed', message);
    for (const group of [...this.live]) if (group.state === 'running') this.cancel(group, 'shutdown');
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private fail(message: string): void {
    if (this.failure) return;
    this.failure = message;
    this.options.log?.(`failed: ${message}`);
    for (const batch of this.batches.values()) if (batch.state === 'open') this.endBatch(batch, 'failed', message);
    for (const group of [...this.live]) if (group.state === 'running') this.cancel(group, 'failure');
  }

  /** Hands out what can be handed out, then starts what open batches still need. Never re-entered. */
  private pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        if (this.closing || this.failure) return;
        this.handOutReady();
        this.topUp();
      } while (this.again);
    } catch (error) {
      this.fail(error instanceof DefectError ? error.message : `rollout service defect: ${errorMessage(error)}`);
    } finally {
      this.pumping = false;
    }
  }

  private openBatches(): BatchRecord[] {
    return [...this.batches.values()].filter((b) => b.state === 'open');
  }

  /** Finished groups go out in the order they finished, to the oldest open batch with a reader that accepts them. */
  private handOutReady(): void {
    const ready = [...this.live].filter((g) => g.state === 'ready').sort((a, b) => (a.endedAt as number) - (b.endedAt as number));
    if (ready.length === 0) return;
    for (const batch of this.openBatches()) {
      for (const group of ready) {
        if (batch.state !== 'open' || !batch.sink) break;
        if (group.state === 'ready' && accepts(batch, group.task)) this.handOut(group, batch);
      }
    }
  }

  private handOut(group: GroupRecord, batch: BatchRecord): void {
    const span = group.span as VersionSpan;
    const members = group.members as FinishedMember[];
    const current = this.options.currentVersion();
    // The check, the rows and the write happen in one synchronous step: no announcement can land between them.
    if (!withinStaleness(span.min, current, this.options.maxStaleness)) return this.drop(group, 'stale');
    const built = this.options.rows(members, batch);
    if (!built.ok) {
      this.options.log?.(`group ${group.key} cannot be exported (${built.reason}): ${built.detail}`);
      this.drop(group, `unexportable: ${built.reason}`);
      return this.unusable(`${built.reason}: ${built.detail}`);
    }
    const line = groupLine({ batch, key: group.key, task: group.task, span, current, built });
    refuseNonFinite(line, group.key);
    const text = lineText(line, this.options.maxLineChars);
    if (typeof text !== 'string') {
      // One group too big to send (longer than a string can be, or than clients read) costs that group, not the session.
      this.options.log?.(`group ${group.key} cannot be handed out: ${text.problem}`);
      this.drop(group, 'unexportable: line too long');
      return this.unusable(text.problem);
    }
    if (!batch.sink?.write(text)) {
      // The reader went away: the group was not handed out and waits for the next one.
      batch.sink = null;
      return;
    }
    this.retire(group, 'served', null);
    this.unusableInARow = 0;
    batch.served++;
    if (group.startedFor !== batch.id) batch.servedFromEarlier++;
    accountHandout(this.ledger, line.rollouts.flatMap((r) => r.calls.map((c) => c.lag)), current - span.min);
    if (batch.served === batch.size) this.completeBatch(batch, current);
  }

  private completeBatch(batch: BatchRecord, current: number): void {
    batch.sink?.write(`${JSON.stringify({ type: 'done', batchId: batch.id, served: batch.served, currentVersion: current } satisfies StreamLine)}\n`);
    this.endBatch(batch, 'complete', null);
    if (this.options.leftovers === 'cancel') {
      for (const group of [...this.live]) if (group.state === 'running' && group.startedFor === batch.id) this.cancel(group, 'leftover');
    }
  }

  private endBatch(batch: BatchRecord, state: 'complete' | 'failed', message: string | null): void {
    if (state === 'failed' && message) batch.sink?.write(`${JSON.stringify({ type: 'error', batchId: batch.id, message } satisfies StreamLine)}\n`);
    batch.sink?.end();
    batch.sink = null;
    batch.state = state;
    batch.message = message;
    batch.completedAt = this.options.now();
    this.finishedOrder.push(batch.id);
    while (this.finishedOrder.length > FINISHED_BATCHES_KEPT) this.batches.delete(this.finishedOrder.shift() as string);
  }

  /**
   * Open batches, oldest first, claim finished then running groups they accept; what they still
   * need is started, plus enough to keep `window` groups in flight that no batch has claimed.
   */
  private topUp(): void {
    const open = this.openBatches();
    const first = open[0];
    if (!first) return;
    const live = [...this.live];
    const supply = [...live.filter((g) => g.state === 'ready'), ...live.filter((g) => g.state === 'running')];
    const claimed = new Set<GroupRecord>();
    for (const batch of open) {
      let need = batch.size - batch.served;
      for (const group of supply) {
        if (need === 0) break;
        if (!claimed.has(group) && accepts(batch, group.task)) {
          claimed.add(group);
          need--;
        }
      }
      for (; need > 0; need--) claimed.add(this.start(batch));
    }
    const spare = supply.filter((g) => g.state === 'running' && !claimed.has(g)).length;
    for (let i = spare; i < this.options.window; i++) this.start(first);
  }

  private nextTask(batch: BatchRecord): Task {
    const tasks = this.options.tasks;
    for (let step = 0; step < tasks.length; step++) {
      const task = tasks[(this.cursor + step) % tasks.length] as Task;
      if (accepts(batch, task)) {
        this.cursor = (this.cursor + step + 1) % tasks.length;
        return task;
      }
    }
    throw new Error(`batch ${batch.id} accepts none of the session's tasks (checked when it was opened)`);
  }

  private start(batch: BatchRecord): GroupRecord {
    const task = this.nextTask(batch);
    const world = this.worlds.get(task.id) ?? 0;
    this.worlds.set(task.id, world + 1);
    const group: GroupRecord = {
      key: `${task.id}#${world}`,
      task,
      world,
      startedFor: batch.id,
      startedAt: this.options.now(),
      endedAt: null,
      state: 'running',
      reason: null,
      observed: new Map(),
      controller: new AbortController(),
      members: null,
      span: null,
      lengths: null,
    };
    this.inPlay.add(group);
    this.live.add(group);
    batch.startedGroups++;
    const work = this.options.executor
      .run({ task, world, signal: group.controller.signal, onCall: (notice) => observe(group, notice) })
      .then(
        (members) => this.settle(group, members),
        (error: unknown) => this.fail(`group ${group.key} could not run: ${errorMessage(error)}`),
      )
      .finally(() => this.running.delete(work));
    this.running.add(work);
    return group;
  }

  private settle(group: GroupRecord, members: FinishedMember[]): void {
    group.endedAt = this.options.now();
    if (members.length > 0) group.lengths = { turns: mean(members.map((m) => m.rollout.stats.turns)), completionTokens: mean(members.map((m) => m.rollout.stats.completionTokens)) };
    if (group.state !== 'running') {
      this.foldIfDone(group);
      return this.pump();
    }
    group.members = members;
    const defect = members.find((m) => m.rollout.status === 'error');
    if (defect) {
      this.drop(group, 'error');
      return this.fail(`rollout ${defect.rollout.id} (${defect.rollout.taskId}) hit a defect: ${defect.rollout.error?.message ?? 'no message'}`);
    }
    const unscored = members.filter((m) => m.rollout.status !== 'scored');
    if (unscored.length > 0 || members.length < this.options.groupSize) {
      this.drop(group, `incomplete: ${[...new Set(unscored.map((m) => m.rollout.status))].join(', ') || 'missing members'}`);
      if (unscored.some((m) => m.rollout.status === 'infra_error') && ++this.infraInARow >= this.options.maxFailedGroups) {
        const last = unscored.find((m) => m.rollout.error)?.rollout.error;
        return this.fail(`${this.infraInARow} groups in a row ended in infrastructure failures; the last: ${last ? `${last.source}: ${last.message}` : 'unknown'}`);
      }
      return this.pump();
    }
    this.infraInARow = 0;
    const versions = groupVersions(members);
    if (!versions.ok) {
      this.options.log?.(`group ${group.key} is never served: ${versions.detail}`);
      this.drop(group, 'untagged');
      this.unusable(versions.detail);
      return this.pump();
    }
    group.span = versions.span;
    group.state = 'ready';
    if (!withinStaleness(versions.span.min, this.options.currentVersion(), this.options.maxStaleness)) this.drop(group, 'stale');
    this.pump();
  }

  /** A systematic problem (an engine that returns no token ids) would otherwise start replacements forever. */
  private unusable(detail: string): void {
    if (++this.unusableInARow >= this.options.maxFailedGroups) this.fail(`${this.unusableInARow} groups in a row could not be handed out; the last: ${detail}`);
  }

  private drop(group: GroupRecord, reason: string): void {
    this.retire(group, 'dropped', reason);
  }

  private cancel(group: GroupRecord, reason: string): void {
    this.retire(group, 'cancelled', reason);
    group.controller.abort(new Error(`cancelled by the rollout service (${reason})`));
  }

  /** A group leaves play: only its figures are kept. */
  private retire(group: GroupRecord, state: 'served' | 'dropped' | 'cancelled', reason: string | null): void {
    group.state = state;
    group.reason = reason;
    group.members = null;
    this.live.delete(group);
    this.foldIfDone(group);
  }

  /** A retired group whose rollouts have ended: its figures are final, so they are counted and the record let go. */
  private foldIfDone(group: GroupRecord): void {
    if (this.live.has(group) || group.endedAt === null || !this.inPlay.delete(group)) return;
    this.folded.add(group, this.options.now());
  }
}

function accepts(batch: BatchSpec, task: Task): boolean {
  return batch.tasks === null || batch.tasks.has(task.id);
}

function observe(group: GroupRecord, notice: CallNotice): void {
  const seen = group.observed.get(notice.rolloutId);
  if (!seen || notice.attempt > seen.attempt) group.observed.set(notice.rolloutId, { attempt: notice.attempt, min: notice.version });
  else if (notice.attempt === seen.attempt) seen.min = Math.min(seen.min, notice.version);
}

function observedOldest(group: GroupRecord): number | null {
  let oldest: number | null = null;
  for (const { min } of group.observed.values()) oldest = oldest === null ? min : Math.min(oldest, min);
  return oldest;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Stream lines are strict JSON, read alike by every trainer's parser (Python's json and orjson,
 * JSON.parse). Rows are checked by their targets' schemas and rewards and advantages are finite,
 * so a number JSON has no word for in a line is a defect: it is named, never written as null
 * (or as a bare word that orjson and JSON.parse refuse). See docs/design/rollout-service.md.
 */
function refuseNonFinite(line: StreamLine, group: string): void {
  if (!hasNonFinite(line)) return;
  const [path, word] = findNonFinite(line)[0]!;
  throw new DefectError('gauntlet', `rollout service: the stream line of group ${group} holds ${word} at ${pathText(path)}; JSON has no ${word}, and the stream does not write null in its place`);
}

/** A stream line with its newline, or why it cannot be one. */
function lineText(line: StreamLine, maxChars: number): string | { problem: string } {
  let text: string;
  try {
    text = JSON.stringify(line);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return { problem: `its stream line is longer than a string can hold (${error.message})` };
  }
  if (text.length > maxChars) return { problem: `its stream line is ${text.length} characters long; clients read at most ${maxChars} (maxLineChars)` };
  return `${text}\n`;
}
