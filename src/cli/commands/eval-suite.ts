import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { InputError, JsonObject, parseInput, parseInputText, readInputFile, SamplingParams, type DetectionCategory, type Task } from '../../core/index.ts';
import { environmentNames } from '../../envs/index.ts';
import { safetyTaskFiles } from '../../envs/safety/index.ts';
import { detectTrajectory, trajectoryOf } from '../../reward/detectors/index.ts';
import type { SqliteStore } from '../../store/index.ts';
import { SANDBOX_BACKENDS } from '../../sandbox/index.ts';

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
  const data = parseInputText(readInputFile(spec), spec, { syntax: 'not valid YAML/JSON' }).value;
  const suite = parseInput(EvalSuite, data, spec);
  if (!suite.envs && !suite.taskFiles) throw new InputError(spec, 'the suite names no tasks', '`envs: [...]` or `taskFiles: [...]`');
  // Task files are found next to the suite (so a suite can be run from anywhere); a path that is
  // not there is taken from the working directory, as suites written before this expected.
  if (suite.taskFiles) suite.taskFiles = suite.taskFiles.map((f) => (isAbsolute(f) || !existsSync(join(dirname(spec), f)) ? f : join(dirname(spec), f)));
  return suite;
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
