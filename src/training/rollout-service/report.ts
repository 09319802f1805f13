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
  groups: readonly GroupRecord[];
  batches: readonly { id: string; state: string; size: number; served: number; startedGroups: number; servedFromEarlier: number; createdAt: number; completedAt: number | null }[];
  ledger: Ledger;
  now: number;
  maxStaleness: number;
  window: number;
  failure: string | null;
}

export function serviceReport(input: ReportInput): SchedulerReport {
  const { groups } = input;
  const served = groups.filter((g) => g.state === 'served');
  const open = input.batches.filter((b) => b.state === 'open');
  const callLags = [...input.ledger.callLags].flatMap(([lag, n]) => Array.from({ length: n }, () => lag));
  return {
    queue: {
      openBatches: open.length,
      wantedGroups: open.reduce((n, b) => n + b.size - b.served, 0),
      groupsRunning: groups.filter((g) => g.state === 'running').length,
      groupsReady: groups.filter((g) => g.state === 'ready').length,
    },
    groups: { started: groups.length, served: served.length, dropped: reasons(groups, 'dropped'), cancelled: reasons(groups, 'cancelled') },
    lag: {
      calls: histogram(input.ledger.callLags),
      groups: histogram(input.ledger.groupLags),
      meanCallLag: callLags.length ? callLags.reduce((a, b) => a + b, 0) / callLags.length : null,
      maxCallLag: callLags.length ? Math.max(...callLags) : null,
    },
    staleness: {
      maxStaleness: input.maxStaleness,
      droppedGroups: groups.filter((g) => g.state === 'dropped' && g.reason === 'stale').length,
      cancelledGroups: groups.filter((g) => g.state === 'cancelled' && g.reason === 'stale').length,
    },
    bias: {
      window: input.window,
      tasks: distribution(groups, (g) => g.task.id),
      difficulty: distribution(groups, (g) => g.task.tags.difficulty),
      length: {
        served: lengths(served, input.now),
        settled: lengths(groups.filter((g) => g.endedAt !== null), input.now),
        started: { ...lengths(groups, input.now), stillRunning: groups.filter((g) => g.endedAt === null).length },
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

function reasons(groups: readonly GroupRecord[], state: 'dropped' | 'cancelled'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const g of groups) if (g.state === state) out[g.reason ?? 'unknown'] = (out[g.reason ?? 'unknown'] ?? 0) + 1;
  return out;
}

function histogram(counts: Map<number, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => a[0] - b[0]).map(([lag, n]) => [String(lag), n]));
}

/** Served vs started shares of an attribute, with their total variation distance and its bound. */
export function distribution(groups: readonly GroupRecord[], key: (g: GroupRecord) => string): Distribution {
  const counts = new Map<string, { started: number; served: number }>();
  for (const g of groups) {
    const entry = counts.get(key(g)) ?? { started: 0, served: 0 };
    entry.started++;
    if (g.state === 'served') entry.served++;
    counts.set(key(g), entry);
  }
  const started = groups.length;
  const served = groups.filter((g) => g.state === 'served').length;
  const rows = [...counts]
    .map(([k, c]) => ({ key: k, started: c.started, served: c.served, startedShare: started ? c.started / started : 0, servedShare: served ? c.served / served : 0 }))
    .sort((a, b) => a.key.localeCompare(b.key));
  return {
    totalVariation: served ? rows.reduce((sum, r) => sum + Math.abs(r.servedShare - r.startedShare), 0) / 2 : null,
    bound: served ? 1 - served / started : null,
    rows,
  };
}

function mean(values: readonly number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

function lengths(groups: readonly GroupRecord[], now: number): LengthFigures {
  const measured = groups.flatMap((g) => (g.lengths ? [g.lengths] : []));
  return {
    groups: groups.length,
    meanTurns: mean(measured.map((l) => l.turns)),
    meanCompletionTokens: mean(measured.map((l) => l.completionTokens)),
    meanMs: mean(groups.map((g) => (g.endedAt ?? now) - g.startedAt)),
  };
}
