// Runs, their rollouts and single trajectories. Listings read light rollout rows (no trajectory
// JSON), so a 10,000-rollout run pages in milliseconds; a trajectory sends each step's new
// messages only.
import type { Hono } from 'hono';
import { z } from 'zod';
import { DetectionCategory, InputError, RolloutStatus, type DetectionRecord, type ReviewLabelRow, type RolloutCounts, type RolloutSummary, type Run, type Store } from '../../core/index.ts';
import {
  finalFindings,
  flagCounts,
  hasFlag,
  monitoringSeries,
  perPerturbationRates,
  perTaskRates,
  readLabels,
  runHeadline,
  scoreHistogram,
  stepsOf,
  terminationCounts,
  withHistory,
  type RateSummary,
  type RunHeadline,
} from '../../review/index.ts';
import type { ApiContext } from './context.ts';
import { idParam, notFound, PageQuery, paginate, queryOf, QueryBoolean, QueryNumber } from './http.ts';

const FlagFilter = z.union([DetectionCategory, z.literal('any')], { error: `a detection category or any` });

const RunsQuery = z.strictObject({
  env: z.string().optional(),
  model: z.string().optional(),
  status: z.enum(['running', 'finished', 'interrupted']).optional(),
  minScore: QueryNumber.optional(),
  maxScore: QueryNumber.optional(),
  perturbation: z.string().optional(),
  flag: FlagFilter.optional(),
  ...PageQuery,
});

const RolloutsQuery = z.strictObject({
  status: RolloutStatus.optional(),
  passed: QueryBoolean.optional(),
  task: z.string().optional(),
  flag: FlagFilter.optional(),
  ...PageQuery,
  limit: PageQuery.limit.default(100),
});

const MonitoringQuery = z.strictObject({ env: z.string().optional(), model: z.string().optional() });
const SiblingsQuery = z.strictObject({ ...PageQuery });

export interface LabelCounts {
  verdict: number;
  step: number;
  preference: number;
}

/** One line of a run's rollout table. `flags` is null where the detectors have not examined the final attempt. */
export interface RolloutRow {
  id: string;
  taskId: string;
  epoch: number;
  groupId: string | null;
  attempt: number;
  status: RolloutSummary['status'];
  terminationReason: RolloutSummary['terminationReason'];
  score: number | null;
  passed: boolean | null;
  turns: number;
  toolCalls: number;
  durationMs: number;
  flags: number | null;
  labels: LabelCounts;
}

function labelCounts(rows: readonly ReviewLabelRow[]): Map<string, LabelCounts> {
  const out = new Map<string, LabelCounts>();
  const add = (id: string, kind: string) => {
    const counts = out.get(id) ?? { verdict: 0, step: 0, preference: 0 };
    if (kind === 'verdict' || kind === 'step' || kind === 'preference') counts[kind]++;
    out.set(id, counts);
  };
  for (const row of rows) {
    add(row.rolloutId, row.kind);
    if (row.otherRolloutId !== null) add(row.otherRolloutId, row.kind);
  }
  return out;
}

/** Rows for some of a run's rollouts; findings are read for just these unless the caller has them all. */
export function rolloutRows(store: Store, summaries: readonly RolloutSummary[], findings?: ReadonlyMap<string, DetectionRecord>): RolloutRow[] {
  if (summaries.length === 0) return [];
  const counts = labelCounts(store.reviewLabels({ runId: summaries[0]!.runId }));
  return summaries.map((r) => {
    const record = findings ? findings.get(r.id) : store.detections(r.id).find((d) => d.attempt === r.attempt);
    return {
      id: r.id,
      taskId: r.taskId,
      epoch: r.epoch,
      groupId: r.groupId,
      attempt: r.attempt,
      status: r.status,
      terminationReason: r.terminationReason,
      score: r.score,
      passed: r.passed,
      turns: r.turns,
      toolCalls: r.toolCalls,
      durationMs: r.durationMs,
      flags: record ? record.flags.length : null,
      labels: counts.get(r.id) ?? { verdict: 0, step: 0, preference: 0 },
    };
  });
}

const Cursor = z.tuple([z.string(), z.number().int().nonnegative()]);

/** The (task, epoch) a rollouts cursor names. */
function rolloutCursor(cursor: string): { taskId: string; epoch: number } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (_error) {
    value = null;
  }
  const parsed = Cursor.safeParse(value);
  if (!parsed.success) throw new InputError('cursor', 'is not a cursor this API returned', 'the nextCursor of the previous page');
  return { taskId: parsed.data[0], epoch: parsed.data[1] };
}

/** `rates` of the run's rollouts, from their counts: the list of the run's rows is never read. */
function ratesOf(counts: RolloutCounts): RateSummary {
  const { scored } = counts.byStatus;
  return {
    total: counts.rollouts,
    byStatus: { ...counts.byStatus },
    scored,
    passed: counts.passed,
    pooledPassRate: scored > 0 ? counts.passed / scored : null,
    taskMeanPassRate: counts.taskMeanPassRate,
    meanScore: scored > 0 ? counts.scoreSum / scored : null,
  };
}

/** `runHeadline` from the run's counts as review listings count them (the stored columns). */
function headlineOf(run: Run, counts: RolloutCounts): RunHeadline {
  return { ...runHeadline(run, []), summary: ratesOf(counts) };
}

function runOr404(store: Store, id: string): Run {
  const run = store.getRun(id);
  if (!run) throw notFound(`run "${id}"`, 'runId');
  return run;
}

function rolloutOr404(store: Store, id: string) {
  const rollout = store.getRollout(id);
  if (!rollout) throw notFound(`rollout "${id}"`, 'rolloutId');
  return rollout;
}

export function runRoutes(app: Hono, ctx: ApiContext): void {
  const { store } = ctx;

  app.get('/api/runs', (c) => {
    const q = queryOf(c, RunsQuery);
    const runs = store
      .listRuns(100_000)
      .filter((r) => q.env === undefined || r.config.envs.includes(q.env))
      .filter((r) => q.model === undefined || r.config.model === q.model)
      .filter((r) => q.status === undefined || r.status === q.status);
    // Headlines are counted by the store (a 200k-rollout run in ~0.2 s instead of ~2 s of rows);
    // only the perturbation and flag filters still read a run's rows.
    const headlines = new Map<string, RunHeadline>();
    const headline = (run: Run) => headlines.get(run.id) ?? headlines.set(run.id, headlineOf(run, store.runStoredCounts(run.id))).get(run.id)!;
    const rowsOf = new Map<string, RolloutSummary[]>();
    const rows = (run: Run) => rowsOf.get(run.id) ?? rowsOf.set(run.id, store.rolloutSummaries(run.id)).get(run.id)!;
    const matching = runs.filter((run) => {
      if (q.minScore === undefined && q.maxScore === undefined && q.perturbation === undefined && q.flag === undefined) return true;
      const mean = headline(run).summary.meanScore;
      if (q.minScore !== undefined && (mean === null || mean < q.minScore)) return false;
      if (q.maxScore !== undefined && (mean === null || mean > q.maxScore)) return false;
      if (q.perturbation !== undefined && !rows(run).some((r) => r.perturbations.includes(q.perturbation!))) return false;
      if (q.flag !== undefined && ![...finalFindings(rows(run), store.runDetections(run.id)).values()].some((f) => hasFlag(f, q.flag!))) return false;
      return true;
    });
    const page = paginate(matching, q, (r) => r.id);
    return c.json({ ...page, items: page.items.map((run) => headline(run)) });
  });

  app.get('/api/runs/:runId', (c) => {
    const run = runOr404(store, idParam(c, 'runId'));
    const rows = store.rolloutSummaries(run.id);
    const findings = finalFindings(rows, store.runDetections(run.id));
    return c.json({
      run,
      ...runHeadline(run, rows),
      perTask: perTaskRates(rows),
      scoreHistogram: scoreHistogram(rows),
      terminationCounts: terminationCounts(rows),
      perPerturbation: perPerturbationRates(rows),
      flags: flagCounts(findings),
      toolCalls: store.toolCallCounts(run.id),
      spent: store.runSpend(run.id),
    });
  });

  app.get('/api/runs/:runId/rollouts', (c) => {
    const run = runOr404(store, idParam(c, 'runId'));
    const q = queryOf(c, RolloutsQuery);
    const after = q.cursor !== undefined ? rolloutCursor(q.cursor) : undefined;
    const query = { ...(q.task !== undefined ? { taskId: q.task } : {}), ...(q.status !== undefined ? { status: q.status } : {}), ...(q.passed !== undefined ? { passed: q.passed } : {}) };
    let rows: RolloutSummary[];
    let findings: Map<string, DetectionRecord> | undefined;
    if (q.flag === undefined) {
      // The store filters and pages: only the page's rows are read past their columns.
      rows = store.rolloutSummaries(run.id, { ...query, ...(after ? { after } : {}), limit: q.limit + 1 });
    } else {
      const all = store.rolloutSummaries(run.id, query);
      findings = finalFindings(all, store.runDetections(run.id));
      const start = after ? all.findIndex((r) => r.taskId > after.taskId || (r.taskId === after.taskId && r.epoch > after.epoch)) : 0;
      rows = (start < 0 ? [] : all.slice(start)).filter((r) => hasFlag(findings!.get(r.id), q.flag!)).slice(0, q.limit + 1);
    }
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return c.json({ items: rolloutRows(store, page, findings), nextCursor: rows.length > q.limit && last ? Buffer.from(JSON.stringify([last.taskId, last.epoch])).toString('base64url') : null });
  });

  app.get('/api/rollouts/:rolloutId', (c) => {
    const rollout = rolloutOr404(store, idParam(c, 'rolloutId'));
    const calls = store.modelCalls(rollout.id);
    const findings = store.detections(rollout.id).find((d) => d.attempt === rollout.attempt);
    const steps = stepsOf({ calls, events: store.events(rollout.id), attempt: rollout.attempt, findings });
    const firstCall = calls.find((call) => call.attempt === rollout.attempt);
    const siblings = siblingsOf(store, rollout);
    return c.json({
      rollout,
      task: store.runTasks(rollout.runId).find((t) => t.task.id === rollout.taskId)?.task ?? null,
      tools: firstCall?.request.tools ?? [],
      sampling: firstCall?.request.sampling ?? {},
      steps,
      rewardTerms: rollout.rewardTerms,
      reward: rollout.reward ?? null,
      verifier: rollout.verifier,
      detections: findings
        ? { examined: true, attempt: findings.attempt, detectors: findings.detectors, monitor: findings.monitor, review: findings.review, unparsed: findings.unparsed, flags: findings.flags }
        : { examined: false },
      labels: withHistory(readLabels(store, { rolloutId: rollout.id })),
      siblings: rolloutRows(store, siblings),
    });
  });

  app.get('/api/rollouts/:rolloutId/siblings', (c) => {
    const rollout = rolloutOr404(store, idParam(c, 'rolloutId'));
    const q = queryOf(c, SiblingsQuery);
    const page = paginate(siblingsOf(store, rollout), q, (r) => r.id);
    return c.json({ ...page, items: rolloutRows(store, page.items) });
  });

  app.get('/api/monitoring', (c) => {
    const q = queryOf(c, MonitoringQuery);
    return c.json({ points: monitoringSeries(store, q) });
  });
}

/** Other rollouts of the same task in the same run: the same group (same world) first, then by epoch. */
function siblingsOf(store: Store, rollout: { id: string; runId: string; taskId: string; groupId?: string | undefined }): RolloutSummary[] {
  const same = (r: RolloutSummary) => (rollout.groupId !== undefined && r.groupId === rollout.groupId ? 0 : 1);
  return store
    .rolloutSummaries(rollout.runId, { taskId: rollout.taskId })
    .filter((r) => r.id !== rollout.id)
    .sort((a, b) => same(a) - same(b) || a.epoch - b.epoch);
}
