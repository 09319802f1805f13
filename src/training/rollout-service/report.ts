// What the service reports: queue, lag, staleness drops, and the bias the handout window allows.
//
// Bias. Served groups are a subset of started groups, so for any attribute (task, difficulty) the
// total variation distance between the served and the started distributions is at most
// 1 − served/started: the unserved share is all the distributions can differ by. With one batch of
// B groups and a window of W, that is W / (B + W); a window of 0 serves exactly what it started.
import type { GroupRecord } from './scheduler.ts';

/** Running counts kept as groups are handed out. */
export interface Ledger {
  callLags: Map<number, number>;
  groupLags: Map<number, number>;
}

export function emptyLedger(): Ledger {
  return { callLags: new Map(), groupLags: new Map() };
}

export function accountHandout(ledger: Ledger, callLags: readonly number[], groupLag: number): void {
  for (const lag of callLags) ledger.callLags.set(lag, (ledger.callLags.get(lag) ?? 0) + 1);
  ledger.groupLags.set(groupLag, (ledger.groupLags.get(groupLag) ?? 0) + 1);
}

export interface ShareRow {
  key: string;
  started: number;
  served: number;
  startedShare: number;
  servedShare: number;
}

export interface Distribution {
  /** ½ Σ |served share − started share|; null before anything was served. */
  totalVariation: number | null;
  /** 1 − served/started: the largest distance the unserved groups allow. */
  bound: number | null;
  rows: ShareRow[];
}

export interface LengthFigures {
  groups: number;
  /** Mean over groups of the members' mean turns (null for groups still running). */
  meanTurns: number | null;
  meanCompletionTokens: number | null;
  meanMs: number | null;
}

export interface BatchSummary {
  id: string;
  state: string;
  size: number;
  served: number;
  startedForIt: number;
  /** Served groups that had been started for an earlier batch (its leftovers). */
  servedFromEarlier: number;
  ms: number | null;
}

export interface SchedulerReport {
  queue: { openBatches: number; wantedGroups: number; groupsRunning: number; groupsReady: number };
  groups: { started: number; served: number; dropped: Record<string, number>; cancelled: Record<string, number> };
  lag: { calls: Record<string, number>; groups: Record<string, number>; meanCallLag: number | null; maxCallLag: number | null };
  staleness: { maxStaleness: number; droppedGroups: number; cancelledGroups: number };
  bias: {
    window: number;
    tasks: Distribution;
    difficulty: Distribution;
    /** `started` counts running groups at their elapsed time so far (a lower bound); `settled` are groups whose rollouts ended. */
    length: { served: LengthFigures; settled: LengthFigures; started: LengthFigures & { stillRunning: number } };
  };
  batches: BatchSummary[];
  failure: string | null;
}

interface ReportInput {
  /** Groups still in play (running, ready, or retired while their rollouts still run). */
  groups: Iterable<GroupRecord>;
  /** Every group that left play and settled, folded into counts and sums. */
  folded: GroupTally;
  batches: readonly { id: string; state: string; size: number; served: number; startedGroups: number; servedFromEarlier: number; createdAt: number; completedAt: number | null }[];
  ledger: Ledger;
  now: number;
  maxStaleness: number;
  window: number;
  failure: string | null;
}

/** Counts and sums for one `LengthFigures`: a mean is a sum over a count, so groups fold in one at a time. */
class LengthSums {
  groups = 0;
  measured = 0;
  turns = 0;
  completionTokens = 0;
  ms = 0;

  add(g: GroupRecord, now: number): void {
    this.groups++;
    this.ms += (g.endedAt ?? now) - g.startedAt;
    if (!g.lengths) return;
    this.measured++;
    this.turns += g.lengths.turns;
    this.completionTokens += g.lengths.completionTokens;
  }

  figures(): LengthFigures {
    const m = this.measured;
    return { groups: this.groups, meanTurns: m ? this.turns / m : null, meanCompletionTokens: m ? this.completionTokens / m : null, meanMs: this.groups ? this.ms / this.groups : null };
  }
}

/**
 * Every figure the report draws from groups, as counts and sums. A service runs for weeks, so a
 * group that has left play and settled is folded in here and let go: holding every group record
 * (with its abort controller, whose `AbortSignal.any` dependants Node keeps as long as the
 * controller lives) grew the heap by ~3 KB per group, and every report walked all of them.
 */
export class GroupTally {
  started = 0;
  served = 0;
  running = 0;
  ready = 0;
  unsettled = 0;
  readonly dropped: Record<string, number> = {};
  readonly cancelled: Record<string, number> = {};
  readonly tasks = new Map<string, { started: number; served: number }>();
  readonly difficulty = new Map<string, { started: number; served: number }>();
  readonly lengths = { served: new LengthSums(), settled: new LengthSums(), started: new LengthSums() };

  add(g: GroupRecord, now: number): void {
    this.started++;
    if (g.state === 'served') this.served++;
    else if (g.state === 'running') this.running++;
    else if (g.state === 'ready') this.ready++;
    else {
      const reasons = g.state === 'dropped' ? this.dropped : this.cancelled;
      reasons[g.reason ?? 'unknown'] = (reasons[g.reason ?? 'unknown'] ?? 0) + 1;
    }
    count(this.tasks, g.task.id, g.state === 'served');
    count(this.difficulty, g.task.tags.difficulty, g.state === 'served');
    if (g.state === 'served') this.lengths.served.add(g, now);
    if (g.endedAt !== null) this.lengths.settled.add(g, now);
    else this.unsettled++;
    this.lengths.started.add(g, now);
  }

  /** A copy, for adding the groups still in play without changing the folded totals. */
  copy(): GroupTally {
    const out = new GroupTally();
    Object.assign(out, { started: this.started, served: this.served, running: this.running, ready: this.ready, unsettled: this.unsettled });
    Object.assign(out.dropped, this.dropped);
    Object.assign(out.cancelled, this.cancelled);
    for (const [k, v] of this.tasks) out.tasks.set(k, { ...v });
    for (const [k, v] of this.difficulty) out.difficulty.set(k, { ...v });
    for (const which of ['served', 'settled', 'started'] as const) Object.assign(out.lengths[which], this.lengths[which]);
    return out;
  }
}

function count(counts: Map<string, { started: number; served: number }>, key: string, served: boolean): void {
  const entry = counts.get(key) ?? { started: 0, served: 0 };
  entry.started++;
  if (served) entry.served++;
  counts.set(key, entry);
}

export function serviceReport(input: ReportInput): SchedulerReport {
  const tally = input.folded.copy();
  for (const g of input.groups) tally.add(g, input.now);
  const open = input.batches.filter((b) => b.state === 'open');
  const callLags = [...input.ledger.callLags].flatMap(([lag, n]) => Array.from({ length: n }, () => lag));
  return {
    queue: {
      openBatches: open.length,
      wantedGroups: open.reduce((n, b) => n + b.size - b.served, 0),
      groupsRunning: tally.running,
      groupsReady: tally.ready,
    },
    groups: { started: tally.started, served: tally.served, dropped: tally.dropped, cancelled: tally.cancelled },
    lag: {
      calls: histogram(input.ledger.callLags),
      groups: histogram(input.ledger.groupLags),
      meanCallLag: callLags.length ? callLags.reduce((a, b) => a + b, 0) / callLags.length : null,
      maxCallLag: callLags.length ? Math.max(...callLags) : null,
    },
    staleness: {
      maxStaleness: input.maxStaleness,
      droppedGroups: tally.dropped.stale ?? 0,
      cancelledGroups: tally.cancelled.stale ?? 0,
    },
    bias: {
      window: input.window,
      tasks: distribution(tally.tasks, tally.started, tally.served),
      difficulty: distribution(tally.difficulty, tally.started, tally.served),
      length: {
        served: tally.lengths.served.figures(),
        settled: tally.lengths.settled.figures(),
        started: { ...tally.lengths.started.figures(), stillRunning: tally.unsettled },
      },
    },
    batches: input.batches.map((b) => ({
      id: b.id,
      state: b.state,
      size: b.size,
      served: b.served,
      startedForIt: b.startedGroups,
      servedFromEarlier: b.servedFromEarlier,
      ms: b.completedAt === null ? null : b.completedAt - b.createdAt,
    })),
    failure: input.failure,
  };
}

function histogram(counts: Map<number, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => a[0] - b[0]).map(([lag, n]) => [String(lag), n]));
}

/** Served vs started shares of an attribute, with their total variation distance and its bound. */
export function distribution(counts: ReadonlyMap<string, { started: number; served: number }>, started: number, served: number): Distribution {
  const rows = [...counts]
    .map(([k, c]) => ({ key: k, started: c.started, served: c.served, startedShare: started ? c.started / started : 0, servedShare: served ? c.served / served : 0 }))
    .sort((a, b) => a.key.localeCompare(b.key));
  return {
    totalVariation: served ? rows.reduce((sum, r) => sum + Math.abs(r.servedShare - r.startedShare), 0) / 2 : null,
    bound: served ? 1 - served / started : null,
    rows,
  };
}
