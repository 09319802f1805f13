import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { isMap, isScalar, isNode } from 'yaml';
import { InputError, JsonObject, lineOf, parseInputText, readInputFile, SamplingParams, type DetectionCategory, type ParsedInput, type Run, type Task } from '../../core/index.ts';
import { environmentNames } from '../../envs/index.ts';
import { ExcludedTask } from '../../eval/index.ts';
import { safetyTaskFiles } from '../../envs/safety/index.ts';
import { detectTrajectory, trajectoryOf } from '../../reward/detectors/index.ts';
import type { SqliteStore } from '../../store/index.ts';
import { SANDBOX_BACKENDS } from '../../sandbox/index.ts';
import { closestName, expectedOf } from '../../runner/resolve.ts';

/** A suite: what to evaluate, how often, and (for `gauntlet gate`) the thresholds to hold. */
export const EvalSuite = z
  .object({
    name: z.string().min(1).optional(),
    envs: z.array(z.string().min(1)).min(1, 'at least one environment').optional(),
    tasks: z.array(z.string().min(1)).optional(),
    taskFiles: z.array(z.string().min(1)).optional(),
    models: z.array(z.string().min(1)).optional(),
    /** Judge model spec for LLM-judge checks. */
    judge: z.string().min(1).optional(),
    epochs: z.number().int().min(1).default(3),
    seed: z.number().int().nonnegative().default(0),
    concurrency: z.number().int().positive().default(4),
    minEffect: z.number().gt(0).lt(1).optional(),
    resamples: z.number().int().min(100).optional(),
    scaffold: z.string().optional(),
    maxTurns: z.number().int().positive().optional(),
    deadlineMs: z.number().int().positive().optional(),
    sandbox: z.enum(SANDBOX_BACKENDS).optional(),
    sampling: SamplingParams.default({}),
    /** Skip tasks whose golden solution fails (checked before running); on by default. */
    validateGolden: z.boolean().default(true),
    gate: JsonObject.optional(),
  })
  .strict();
export type EvalSuite = z.infer<typeof EvalSuite>;

/** Where in a run's `modelOptions` (a map the runner passes through untouched) an eval keeps its EvalRecord. */
export const EVAL_RECORD_KEY = 'eval';

/**
 * What each run of an eval stores about the eval: the suite, the tasks and exclusions its report
 * is built over, which of the suite's models the run is, and the runs of the models before it.
 * From the last run alone an interrupted eval goes on (`gauntlet eval --resume RUN`) and writes
 * the report it would have written, with no golden check or suite file read again.
 */
export const EvalRecord = z
  .object({
    version: z.literal(1),
    /** The suite as the report records it (`meta.config`). */
    suite: JsonObject,
    /** Every task of the suite in order, excluded ones included, as the report lists them. */
    tasks: z.array(z.object({ id: z.string(), env: z.string(), domain: z.string(), difficulty: z.string() }).strict()),
    excluded: z.array(ExcludedTask),
    /** The index of this run's model in `suite.models`. */
    model: z.number().int().nonnegative(),
    /** The runs of the models before it, in order. */
    runs: z.array(z.string()),
  })
  .strict();
export type EvalRecord = z.infer<typeof EvalRecord>;

/** The eval record a run holds, undefined for a run no eval made; a damaged one is named as such. */
export function evalRecordOf(run: Run): EvalRecord | undefined {
  const stored = run.config.modelOptions[EVAL_RECORD_KEY];
  if (stored === undefined) return undefined;
  const parsed = EvalRecord.safeParse(stored);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new InputError(`run ${run.id}: modelOptions.${EVAL_RECORD_KEY}${issue?.path.length ? `.${issue.path.join('.')}` : ''}`, `not an eval record this Gauntlet reads (${issue?.message ?? 'invalid'})`, 'a run made by `gauntlet eval`');
}

/** Whether `other`, stored with the run of model `index`, belongs to the same eval as `record`. */
export function sameEval(record: EvalRecord, other: EvalRecord, index: number): boolean {
  const plan = (r: EvalRecord) => JSON.stringify([r.suite, r.tasks, r.excluded]);
  return other.model === index && plan(other) === plan(record) && JSON.stringify(other.runs) === JSON.stringify(record.runs.slice(0, index));
}

/**
 * Suites known by name. `safety` is the pre-release safety suite: tasks in mail, workplace,
 * terminal and coding where the right behaviour is to refuse, ask, stop or do only the legitimate
 * part; each task's domain is its category (destructive, injection, exfiltration, shortcut), so
 * the report breaks pass rates down by category.
 */
export const BUILTIN_SUITES: Record<string, () => EvalSuite> = {
  safety: () => EvalSuite.parse({ name: 'safety', taskFiles: safetyTaskFiles() }),
};

/** `--suite` takes a YAML/JSON file, a built-in suite name (`safety`), or the name of a built-in environment (its whole task set). */
export function loadSuite(spec: string): EvalSuite {
  if (!existsSync(spec)) {
    const builtin = BUILTIN_SUITES[spec];
    if (builtin) return builtin();
    if (environmentNames().includes(spec)) return EvalSuite.parse({ name: spec, envs: [spec] });
    const names = [...Object.keys(BUILTIN_SUITES), ...environmentNames()];
    throw new InputError('--suite', `"${spec}" is neither a file, a built-in suite nor a built-in environment`, `a suite file or one of ${names.join(', ')}`);
  }
  const suite = parseSuiteFile(parseInputText(readInputFile(spec), spec, { syntax: 'not valid YAML/JSON', lineInWhere: true }), spec);
  if (!suite.envs && !suite.taskFiles) throw new InputError(spec, 'the suite names no tasks', '`envs: [...]` or `taskFiles: [...]`');
  // Task files are found next to the suite (so a suite can be run from anywhere); a path that is
  // not there is taken from the working directory, as suites written before this expected.
  if (suite.taskFiles) suite.taskFiles = suite.taskFiles.map((f) => (isAbsolute(f) || !existsSync(join(dirname(spec), f)) ? f : join(dirname(spec), f)));
  return suite;
}

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The setting names a suite file may hold, per level that is a fixed set of fields (`gate` is read by the gate). */
const SUITE_KEYS: { at: string; what: string; keys: readonly string[] }[] = [
  { at: '', what: 'suite', keys: Object.keys(EvalSuite.shape) },
  { at: 'sampling', what: 'sampling', keys: Object.keys(SamplingParams.shape) },
];

/** The 1-based line of the key `key` in the mapping at `at` (`` for the top level), if the document has it. */
function keyLine(input: ParsedInput, at: readonly string[], key: string): number | undefined {
  const { doc, lines } = input.document();
  const map = at.length === 0 ? doc.contents : doc.getIn(at, true);
  const found = isMap(map) ? map.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === key)?.key : undefined;
  return isNode(found) && found.range ? lines.linePos(found.range[0]).line : lineOf(input, [...at, key]);
}

const located = (spec: string, line: number | undefined) => (line === undefined ? spec : `${spec}:${line}`);

/**
 * A suite file's settings. A key the suite does not know is named at its line with the key it most
 * likely meant and the keys allowed (`epoch: 1` would otherwise be refused as `(root)`, or, inside
 * `sampling`, dropped without a word); any other problem is named at its field's line.
 */
function parseSuiteFile(input: ParsedInput, spec: string): EvalSuite {
  const data = input.value;
  if (!isMapping(data)) throw new InputError(spec, 'not a mapping', 'a YAML/JSON object of suite settings, such as envs: [mail] and epochs: 3');
  for (const { at, what, keys } of SUITE_KEYS) {
    const level = at === '' ? data : data[at];
    if (!isMapping(level)) continue;
    const unknown = Object.keys(level).find((key) => !keys.includes(key));
    if (unknown === undefined) continue;
    const path = at === '' ? [] : [at];
    const guess = closestName(unknown, keys);
    throw new InputError(
      `${located(spec, keyLine(input, path, unknown))}: ${[...path, unknown].join('.')}`,
      `not a ${what} setting${guess ? ` (did you mean "${guess}"?)` : ''}`,
      `one of ${keys.join(', ')}`,
    );
  }
  const result = EvalSuite.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const field = path.join('.') || 'suite';
  const shown = 'input' in issue && issue.input !== undefined ? JSON.stringify(issue.input) : undefined;
  const got = shown !== undefined ? `got ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}` : issue.code === 'invalid_type' ? 'missing' : 'invalid';
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem${result.error.issues.length > 2 ? 's' : ''})` : '';
  throw new InputError(`${located(spec, lineOf(input, path))}: ${field}`, `${got}${more}`, expectedOf(issue, field));
}

/** What the rule detectors saw in one safety category (a task domain) of a run. */
export interface SafetyFlags {
  domain: string;
  /** Scored rollouts looked at. */
  rollouts: number;
  /** Rollouts with at least one flag. */
  flagged: number;
  /** Flags per detection category. */
  categories: Partial<Record<DetectionCategory, number>>;
}

/**
 * Runs the rule detectors over every scored rollout of a run, stores each report beside its
 * rollout (for review and the viewer) and counts flags per task domain: a safety task is judged
 * by its final state, and the flags say what the agent tried on the way there.
 */
export async function safetyDetections(store: SqliteStore, runId: string, tasks: readonly Task[]): Promise<SafetyFlags[]> {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const byDomain = new Map<string, SafetyFlags>();
  for (const rollout of store.rollouts(runId)) {
    if (rollout.status !== 'scored') continue;
    const task = byId.get(rollout.taskId);
    const domain = task?.tags.domain;
    if (domain === undefined) throw new InputError(`run ${runId}`, `rollout ${rollout.id} is of task ${rollout.taskId}, which the suite does not list`);
    const entry = byDomain.get(domain) ?? { domain, rollouts: 0, flagged: 0, categories: {} };
    byDomain.set(domain, entry);
    const report = await detectTrajectory(trajectoryOf(rollout, store.modelCalls(rollout.id), store.events(rollout.id)), { task });
    store.saveDetections(rollout.id, rollout.attempt, report);
    entry.rollouts++;
    if (report.flags.length > 0) entry.flagged++;
    for (const flag of report.flags) entry.categories[flag.category] = (entry.categories[flag.category] ?? 0) + 1;
  }
  return [...byDomain.values()].sort((a, b) => a.domain.localeCompare(b.domain));
}

export function renderSafetyFlags(model: string, flags: readonly SafetyFlags[]): string {
  const lines = [`detector flags (${model}):`];
  for (const f of flags) {
    const counts = Object.entries(f.categories).map(([c, n]) => `${c} ${n}`).join(', ');
    lines.push(`  ${f.domain.padEnd(14)} ${f.flagged}/${f.rollouts} rollouts flagged${counts ? `: ${counts}` : ''}`);
  }
  return lines.join('\n');
}
