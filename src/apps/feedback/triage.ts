// `feedback ingest`: read, deduplicate, cluster, classify (rules first, the model for what they
// leave open), route to owners. The triage document is what `feedback to-tasks` reads.
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import { fanOut, type AgentOutcome, type FanoutLimits, type Pricing } from '../../agent/fanout/index.ts';
import { errorMessage, InputError, parseInput, Task, type JsonObject, type ModelClient, type Store, type TaskInput } from '../../core/index.ts';
import { getEnvironment, instantiate } from '../../envs/index.ts';
import { labelTask, readLabel, slug } from '../labels.ts';
import { createAppRun, outcomeText } from '../run.ts';
import type { Problem } from '../radar/feeds.ts';
import { CLASSIFY_FEEDBACK_SYSTEM, classifyFeedbackPrompt, NO_AREA, ruleArea, type Area, type FeedbackConfig } from './areas.ts';
import { clusterReports } from './cluster.ts';
import { answerCore, EXPECTED_FLAGS, expectedAnswerPattern } from './expected.ts';
import { FeedbackReport, ingestFile, jsonErrorWhere } from './ingest.ts';

export const TriagedCluster = z.object({
  id: z.string(),
  /** null when neither rules nor model decided (no model given, or it failed: `failure` says why). */
  area: z.string().nullable(),
  method: z.enum(['rules', 'model']).nullable(),
  owners: z.array(z.string()),
  keywordHits: z.record(z.string(), z.number()),
  failure: z.string().nullable(),
  rolloutId: z.string().nullable(),
  reports: z.array(FeedbackReport),
  duplicates: z.array(z.string()),
});
export type TriagedCluster = z.infer<typeof TriagedCluster>;

export const Triage = z.object({
  version: z.literal(1),
  runId: z.string().nullable(),
  createdAt: z.string(),
  files: z.array(z.string()),
  counts: z.object({ rows: z.number(), skipped: z.number(), reports: z.number(), duplicates: z.number(), clusters: z.number(), byRules: z.number(), byModel: z.number(), undecided: z.number() }),
  problems: z.array(z.object({ where: z.string(), message: z.string() })),
  clusters: z.array(TriagedCluster),
});
export type Triage = z.infer<typeof Triage>;

export interface TriageOptions {
  files: readonly string[];
  config: FeedbackConfig;
  /** Classifies what the rules leave open; without one those clusters go to the triage owners undecided. */
  model?: ModelClient;
  store?: Store;
  concurrency: number;
  limits?: FanoutLimits;
  /** What tokens cost; needed for a dollar limit. */
  pricing?: Pricing;
  /** Ctrl-C: the classifier agents are cancelled and their clusters left undecided; the run is stored as interrupted. */
  signal?: AbortSignal;
  now?: () => Date;
}

export async function runTriage(options: TriageOptions): Promise<Triage> {
  const now = options.now ?? (() => new Date());
  const reports: FeedbackReport[] = [];
  const problems: Problem[] = [];
  let rows = 0;
  const ids = new Set<string>();
  const sources = sourceNames(options.files);
  for (const [i, file] of options.files.entries()) {
    const read = await ingestFile(file, { source: sources[i] as string });
    rows += read.rows;
    problems.push(...read.problems);
    for (const report of read.reports) {
      if (ids.has(report.id)) problems.push({ where: report.id, message: 'the same file and row id was ingested twice' });
      else {
        ids.add(report.id);
        reports.push(report);
      }
    }
  }
  const { clusters, duplicates } = clusterReports(reports, { threshold: options.config.clusterThreshold });
  const areas = options.config.areas;
  const ruled = clusters.map((cluster) => ({ cluster, ...ruleArea(cluster, areas) }));
  const open = ruled.filter((r) => r.area === null);

  let runId: string | null = null;
  const decided = new Map<string, { area: string | null; failure: string | null; rolloutId: string | null }>();
  if (options.model && open.length > 0) {
    const run = options.store ? createAppRun(options.store, { app: 'feedback', model: options.model.spec, concurrency: options.concurrency, now }) : null;
    runId = run?.id ?? null;
    const allowed = [...areas.map((a) => a.id), NO_AREA];
    const result = await fanOut({
      items: open,
      model: options.model,
      concurrency: options.concurrency,
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.pricing ? { pricing: options.pricing } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      name: (r) => r.cluster.id,
      ...(run && options.store ? { recording: { store: options.store, runId: run.id, env: 'apps/feedback', stage: 'classify' } } : {}),
      agent: async ({ item, complete }) => {
        const response = await complete({ messages: [{ role: 'system', content: CLASSIFY_FEEDBACK_SYSTEM }, { role: 'user', content: classifyFeedbackPrompt(item.cluster.representative, areas) }] });
        return readLabel(response.message.content, { field: 'Area', allowed });
      },
    });
    result.outcomes.forEach((outcome: AgentOutcome<string>, i) => {
      const id = open[i]?.cluster.id ?? '';
      decided.set(id, { area: outcome.status === 'ok' ? outcome.value : null, failure: outcome.status === 'ok' ? null : outcomeText(outcome), rolloutId: outcome.rolloutId });
    });
    if (run && options.store) options.store.setRunStatus(run.id, options.signal?.aborted ? 'interrupted' : 'finished');
  }

  const triaged: TriagedCluster[] = ruled.map(({ cluster, area, hits }) => {
    const byModel = decided.get(cluster.id);
    const finalArea = area ?? byModel?.area ?? null;
    const owners = finalArea && finalArea !== NO_AREA ? ownersOf(areas, finalArea) : options.config.triageOwners;
    return {
      id: cluster.id,
      area: finalArea,
      method: area ? 'rules' : byModel?.area ? 'model' : null,
      owners,
      keywordHits: hits,
      failure: area ? null : (byModel?.failure ?? (options.model ? null : 'no rule decided and no --model was given')),
      rolloutId: byModel?.rolloutId ?? null,
      reports: cluster.reports,
      duplicates: cluster.duplicates,
    };
  });
  return {
    version: 1,
    runId,
    createdAt: now().toISOString(),
    files: [...options.files],
    counts: {
      rows,
      skipped: problems.length,
      reports: reports.length,
      duplicates,
      clusters: clusters.length,
      byRules: triaged.filter((c) => c.method === 'rules').length,
      byModel: triaged.filter((c) => c.method === 'model').length,
      undecided: triaged.filter((c) => c.method === null).length,
    },
    problems,
    clusters: triaged,
  };
}

/**
 * What report ids call each file: its base name, unless two different files share it
 * (`jan/feedback.jsonl`, `feb/feedback.jsonl`); then the path as given, or the second file's rows
 * would all look like repeats of the first's and be dropped.
 */
function sourceNames(files: readonly string[]): string[] {
  const pathsByName = new Map<string, Set<string>>();
  for (const file of files) {
    const name = basename(file);
    pathsByName.set(name, (pathsByName.get(name) ?? new Set()).add(resolve(file)));
  }
  return files.map((file) => ((pathsByName.get(basename(file))?.size ?? 0) > 1 ? file : basename(file)));
}

function ownersOf(areas: readonly Area[], id: string): string[] {
  return areas.find((a) => a.id === id)?.owners ?? [];
}

/** The triage document `feedback ingest` wrote; a damaged one is named with its line. */
export async function readTriage(path: string): Promise<Triage> {
  const expected = 'a triage document written by `gauntlet feedback ingest`';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new InputError(path, missing ? 'no such file' : `cannot read: ${errorMessage(error)}`, expected);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(jsonErrorWhere(path, text, error), `not JSON: ${errorMessage(error)}`, `${expected} (run it again to rewrite the file)`);
  }
  return parseInput(Triage, value, path);
}

export interface ToTaskOptions {
  triage: Triage;
  reportId: string;
  confirmedBy: string;
  /** Overrides the report's own prompt / expected answer. */
  prompt?: string;
  expected?: string;
  /** A regex the answer must match (flag `i`); by default the expected answer as a whole token (see expectedAnswerPattern). */
  pattern?: string;
}

/**
 * A confirmed failure as a question-set regression task: the user's prompt, checked for the
 * expected answer. Before it is written the task's own verifier grades the expected answer (it must
 * pass) and, when the report records it, the answer the user complained about (it must fail): a
 * task that passes the failure it was made from would report the regression fixed while it is not.
 */
export async function feedbackToTask(options: ToTaskOptions): Promise<TaskInput> {
  const { cluster, report } = findReport(options.triage, options.reportId);
  const prompt = options.prompt ?? report.prompt;
  const expected = options.expected ?? report.expected;
  if (!prompt) throw new InputError('--prompt', `report ${report.id} says nothing of what the model was asked`, '--prompt TEXT');
  if (!expected) throw new InputError('--expect', `report ${report.id} says nothing of the right answer`, '--expect TEXT (the golden answer)');
  const given = options.pattern !== undefined;
  const pattern = options.pattern ?? expectedAnswerPattern(expected);
  const flags = given ? 'i' : EXPECTED_FLAGS;
  try {
    new RegExp(pattern, flags);
  } catch (error) {
    throw new InputError('--pattern', `not a regular expression: ${errorMessage(error)}`);
  }
  const area = cluster.area ?? 'unassigned';
  const task: TaskInput = {
    id: `feedback/${slug(area)}/${slug(report.id)}`,
    env: 'qa',
    instruction: prompt,
    verifier: { checks: [{ check: 'answer_regex', pattern, flags, name: given ? 'regression: expected answer' : `regression: expected answer ${quoted(answerCore(expected))} as a whole word or number` }] },
    golden: { answer: expected },
    tags: { domain: area, difficulty: 'medium', labels: ['regression', 'feedback'] },
    metadata: { reportId: report.id, cluster: cluster.id, confirmedBy: options.confirmedBy, ...(report.url ? { url: report.url } : {}), ...(report.response ? { failedAnswer: report.response } : {}) },
  };
  const where = given ? '--pattern' : `report ${report.id}`;
  const shown = `/${pattern.length > 200 ? `${pattern.slice(0, 200)}…` : pattern}/${flags}`;
  if (!(await passes(task, expected))) throw new InputError(where, `${shown} does not match the expected answer ${quoted(expected)}, so the task could never pass`, 'a pattern the golden answer matches');
  if (report.response && (await passes(task, report.response))) {
    throw new InputError(
      where,
      `the task's check ${shown} also passes the answer the user reported as wrong, ${quoted(report.response)}, so it could not catch this failure again`,
      `--pattern REGEX that the expected answer ${quoted(expected)} matches and the failed answer does not${given ? '' : ' (or --expect with a more specific answer)'}`,
    );
  }
  return task;
}

/** The report and its cluster; a report merged as a duplicate names the one it was merged into. */
function findReport(triage: Triage, reportId: string): { cluster: TriagedCluster; report: FeedbackReport } {
  for (const cluster of triage.clusters) {
    const report = cluster.reports.find((r) => r.id === reportId);
    if (report) return { cluster, report };
  }
  const merged = triage.clusters.find((c) => c.duplicates.includes(reportId));
  if (merged) {
    // The duplicate's text, prompt and answers are those of a report in the same cluster; the
    // triage does not say which one, so every candidate is named.
    const ids = merged.reports.map((r) => r.id).join(', ');
    throw new InputError('--report', `report '${reportId}' was merged as an exact duplicate into cluster ${merged.id}`, `the id of the report it repeats: one of ${ids}`);
  }
  throw new InputError('--report', `no report '${reportId}' in the triage`, 'a report id from the triage file, like feedback.jsonl#12');
}

/** Whether the task's own verifier (the qa environment's, as a run grades it) passes `answer`. */
async function passes(task: TaskInput, answer: string): Promise<boolean> {
  const env = instantiate(getEnvironment(task.env));
  try {
    await env.reset(Task.parse(task), { seed: 1 });
    return (await env.verify({ answer })).passed;
  } finally {
    await env.close();
  }
}

function quoted(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 79)}…` : flat);
}

/**
 * Task ids are slugs of report ids, so two reports can share one (`a.jsonl#1-2` and `a.jsonl#1_2`,
 * or long ids cut at 60 characters), and merging would silently replace one report's task with the
 * other's. A task keeps its id when the id is free or belongs to the same report (an update);
 * otherwise it takes `-2`, `-3`…. The same report asked for twice gives one task.
 */
export function distinctReportTasks(tasks: readonly TaskInput[], existing: readonly JsonObject[]): TaskInput[] {
  const owner = new Map<string, unknown>(existing.map((t) => [String(t.id), isJsonObject(t.metadata) ? t.metadata.reportId : undefined]));
  const byReport = new Map<unknown, TaskInput>();
  for (const task of tasks) {
    const reportId = task.metadata?.reportId;
    if (byReport.has(reportId)) continue;
    let id = task.id;
    for (let n = 2; owner.has(id) && owner.get(id) !== reportId; n++) id = `${task.id}-${n}`;
    owner.set(id, reportId);
    byReport.set(reportId, { ...task, id });
  }
  return [...byReport.values()];
}

function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The labelled set's items as classifier cases (`feedback cases`). */
export const LabelledFeedback = z
  .object({ items: z.array(z.object({ title: z.string().min(1), body: z.string().default(''), area: z.string().min(1) }).strict()).min(1) })
  .strict();
export type LabelledFeedback = z.infer<typeof LabelledFeedback>;

export function feedbackCases(options: { config: FeedbackConfig; labelled: LabelledFeedback }): TaskInput[] {
  const allowed = new Set([...options.config.areas.map((a) => a.id), NO_AREA]);
  const ids = new Set<string>();
  return options.labelled.items.map((item, i) => {
    if (!allowed.has(item.area)) throw new InputError(`labelled items.${i}.area`, `unknown area '${item.area}'`, [...allowed].join(', '));
    let id = `feedback/labelled/${slug(item.title)}`;
    for (let n = 2; ids.has(id); n++) id = `feedback/labelled/${slug(item.title)}-${n}`;
    ids.add(id);
    return labelTask({ id, domain: 'feedback-areas', system: CLASSIFY_FEEDBACK_SYSTEM, prompt: classifyFeedbackPrompt(item, options.config.areas), field: 'Area', expected: item.area, labels: ['feedback', 'labelled'] });
  });
}
