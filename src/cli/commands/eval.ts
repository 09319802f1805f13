import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { describeZodIssues, GAUNTLET_VERSION, InputError, parseInput, type JsonObject, type Task } from '../../core/index.ts';
import { checkTaskDirectly, environmentNames, getEnvironment } from '../../envs/index.ts';
import { buildReport, checkGate, compareRuns, EVAL_REPORT_VERSION, EvalOptions, EvalReport, GateSuite, renderComparison, sharedScoredTasks, renderHtml, renderMarkdown, renderTable, type ExcludedTask, type TaskMeta } from '../../eval/index.ts';
import { parseModelSpec } from '../../model/index.ts';
import { executeRun, resolveRun, selectTasks, tasksOfRun, type RunRequest, type RunSummary } from '../../runner/index.ts';
import type { SqliteStore } from '../../store/index.ts';
import { environmentModulesFor, refuseUnknownEnvironments } from '../env-modules.ts';
import { causeLine, printJson, type CliIo } from '../io.ts';
import { openCliStore, openStoreToRead, storeFlag } from '../store.ts';
import { abortOnSignal, InterruptedError } from '../signals.ts';
import { collect, collectNames, nonNegativeInt, number, positiveInt } from '../options.ts';
import { firstInfraError, onlyInfraErrors, progressReporter, resumeCommand, runExitCode, unscoredText } from './run.ts';
import { EVAL_RECORD_KEY, evalRecordOf, EvalSuite, type EvalRecord, loadSuite, renderSafetyFlags, safetyDetections, sameEval } from './eval-suite.ts';

interface EvalFlags {
  env?: string[];
  suite?: string;
  model?: string[];
  epochs?: number;
  seed?: number;
  concurrency?: number;
  minEffect?: number;
  resamples?: number;
  noValidate?: boolean;
  validate: boolean;
  replay?: string;
  resume?: string;
  judge?: string;
  html?: string;
  markdown?: string;
  out?: string;
  store: string;
  json?: boolean;
}

const taskMeta = (t: Task): TaskMeta => ({ id: t.id, env: t.env, domain: t.tags.domain, difficulty: t.tags.difficulty });

/** Tasks whose golden solution fails (or is non-deterministic) are excluded, with the reason. */
async function goldenFailures(tasks: readonly Task[], seed: number, io: CliIo): Promise<ExcludedTask[]> {
  const excluded: ExcludedTask[] = [];
  for (const task of tasks) {
    const check = await checkTaskDirectly(getEnvironment(task.env), task, { seed });
    const golden = check.problems.filter((p) => p.startsWith('golden') || p.startsWith('same seed'));
    if (golden.length > 0) {
      excluded.push({ id: task.id, reason: golden.join('; ') });
      io.stderr(`excluded ${task.id}: ${golden.join('; ')}\n`);
    }
  }
  return excluded;
}

/** Where a suite's settings came from, so that the runner's errors about them name the flag or the file. */
interface SuiteOrigin {
  /** The suite file (or the report whose configuration is replayed). */
  file?: string;
  /** Suite fields a flag set. */
  flags: ReadonlySet<string>;
}

/** The suite field each runner error is about (by the name the runner gives it), and the flag that sets it. */
const SUITE_FIELD_OF: Record<string, string> = { environment: 'envs', envs: 'envs', model: 'models', '--model': 'models', judge: 'judge', taskIds: 'tasks', scaffold: 'scaffold', sandbox: 'sandbox', resamples: 'resamples', minEffect: 'minEffect' };
const FLAG_OF_SUITE_FIELD: Record<string, string> = { envs: '--env', models: '--model', judge: '--judge', resamples: '--resamples', minEffect: '--min-effect' };

/** The bootstrap's limits (EvalOptions allows at most a million resamples; a suite asks for at least 100). */
const RESAMPLES = { min: 100, max: 1_000_000 } as const;

function resamplesFlag(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < RESAMPLES.min || n > RESAMPLES.max) {
    throw new InputError('--resamples', `got "${value}"`, `a whole number from ${RESAMPLES.min} to ${RESAMPLES.max.toLocaleString('en-US')}`);
  }
  return n;
}

/** The report's options, checked before any rollout runs: a bad value must not cost a whole evaluation. */
function reportOptions(suite: EvalSuite): { seed: number; minEffect?: number; resamples?: number } {
  const options = { seed: suite.seed, ...(suite.minEffect ? { minEffect: suite.minEffect } : {}), ...(suite.resamples ? { resamples: suite.resamples } : {}) };
  const checked = EvalOptions.safeParse(options);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const field = String(issue?.path[0] ?? 'options');
    const got = (options as Record<string, unknown>)[field];
    throw new InputError(field, `got ${JSON.stringify(got)}: ${issue?.message ?? 'invalid'}`, field === 'resamples' ? `${RESAMPLES.min} to ${RESAMPLES.max.toLocaleString('en-US')} resamples` : undefined);
  }
  return options;
}

/** A runner error about a suite setting, restated as the flag that set it or the suite file it came from. */
function restateSuiteError(error: unknown, origin: SuiteOrigin): unknown {
  if (!(error instanceof InputError)) return error;
  const field = SUITE_FIELD_OF[error.where];
  if (field === undefined) return error;
  const flag = FLAG_OF_SUITE_FIELD[field];
  if (flag && origin.flags.has(field)) return error.at(flag);
  return origin.file ? error.at(`${origin.file}: ${field}`) : error;
}

function suiteFrom(flags: EvalFlags): { suite: EvalSuite; origin: SuiteOrigin } {
  if (flags.replay) {
    const report = readReport(flags.replay);
    const file = `${flags.replay}: meta.config`;
    return { suite: parseInput(EvalSuite, report.meta.config, file), origin: { file, flags: new Set() } };
  }
  if (flags.suite && flags.env) throw new InputError('--suite', 'give --suite or --env, not both');
  const base: EvalSuite = flags.suite ? loadSuite(flags.suite) : flags.env ? EvalSuite.parse({ envs: flags.env }) : (() => {
    throw new InputError('--env', 'no tasks given', `--env NAME (one of ${environmentNames().join(', ')}) or --suite FILE`);
  })();
  const fromFlags = new Set([
    ...(flags.env ? ['envs'] : []),
    ...(flags.model ? ['models'] : []),
    ...(flags.judge ? ['judge'] : []),
    ...(flags.resamples !== undefined ? ['resamples'] : []),
    ...(flags.minEffect !== undefined ? ['minEffect'] : []),
  ]);
  const origin = { ...(flags.suite && existsSync(flags.suite) ? { file: flags.suite } : {}), flags: fromFlags };
  const suite = parseInput(EvalSuite, {
    ...base,
    ...(flags.model ? { models: flags.model } : {}),
    ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
    ...(flags.minEffect !== undefined ? { minEffect: flags.minEffect } : {}),
    ...(flags.resamples !== undefined ? { resamples: flags.resamples } : {}),
    ...(flags.validate === false ? { validateGolden: false } : {}),
    ...(flags.judge ? { judge: flags.judge } : {}),
  }, flags.suite ? `${flags.suite} with the flags given` : 'the flags given');
  return { suite, origin };
}

export function readReport(path: string): EvalReport {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InputError(path, `cannot read the report: ${(error as Error).message.split('\n')[0]}`, 'a JSON report written by `gauntlet eval`');
  }
  // A newer Gauntlet's report may mean something else by the same fields: say so rather than misread it.
  const version = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as { version?: unknown }).version : undefined;
  if (typeof version === 'number' && version > EVAL_REPORT_VERSION) {
    throw new InputError(path, `is a version-${version} report, written by a newer Gauntlet; this one (${GAUNTLET_VERSION}) reads versions up to ${EVAL_REPORT_VERSION}`, 'a report of a version this Gauntlet knows, or a newer Gauntlet');
  }
  return parseInput(EvalReport, data, path);
}

/** A baseline that scored none of the report's tasks is of another suite: its drops would compare other tasks. */
function checkBaselineTasks(report: EvalReport, baseline: EvalReport, path: string): void {
  const scored = (r: EvalReport) => r.models.some((m) => m.tasks.some((t) => t.scored > 0));
  if (!scored(report) || !scored(baseline) || sharedScoredTasks(report, baseline).length > 0) return;
  const envs = (r: EvalReport) => {
    const config = r.meta.config as { envs?: unknown; name?: unknown };
    return typeof config.name === 'string' ? config.name : Array.isArray(config.envs) ? config.envs.join(', ') : 'unknown';
  };
  throw new InputError(
    '--baseline',
    `${path} shares no scored task with the report (baseline suite: ${envs(baseline)}; report suite: ${envs(report)}), so no drop can be measured against it`,
    'a report of the same suite, e.g. the previous release\'s `gauntlet eval --out` file',
  );
}

/** The command that finishes an interrupted eval and writes its report: what a message tells people to type. */
export const resumeEvalCommand = (runId: string, storePath: string): string => `gauntlet eval --resume ${runId}${storeFlag(storePath)}`;

/** What an interrupted eval leaves: the run it stopped, stored as interrupted, and how to finish the eval. */
function interruptedEval(summary: RunSummary, spec: string, storePath: string, notStarted: readonly string[]): string {
  const stored = `${summary.rollouts} of ${summary.rollouts + summary.missing} rollouts`;
  const rest = notStarted.length > 0 ? `; not started: ${notStarted.join(', ')}` : '';
  return `interrupted: run ${summary.runId} (${spec}) stopped with ${stored} stored${rest}; no report was written; finish the eval and write its report with \`${resumeEvalCommand(summary.runId, storePath)}\``;
}

/** An eval stopped between two models: nothing is unfinished, and the runs so far are kept. */
function interruptedBetween(notStarted: readonly string[], runIds: readonly string[], storePath: string): string {
  const goOn = runIds.length > 0 ? `; go on with \`${resumeEvalCommand(runIds.at(-1)!, storePath)}\`` : '';
  return `interrupted before evaluating ${notStarted.join(', ')}; no run was left unfinished and no report was written${goOn}`;
}

/** Shows one run's progress: `run`'s bar on a terminal, a line every 30 s elsewhere. */
export type ProgressReporter = Awaited<ReturnType<typeof progressReporter>>;

export interface EvaluateOptions {
  /** When it aborts, the run in progress finishes its in-flight rollouts and is stored as interrupted. */
  signal?: AbortSignal;
  /** Opens each run's progress display (default: `progressReporter`, as `gauntlet run` shows). */
  progress?: (io: CliIo) => Promise<ProgressReporter>;
}

/** What an eval reports over, fixed before its first run and stored with each run. */
interface EvalPlan {
  suite: EvalSuite;
  record: Pick<EvalRecord, 'suite' | 'tasks' | 'excluded'>;
}

/**
 * Runs a suite for each model and builds the report (also used by `gauntlet gate`). When the
 * signal aborts, the run in progress finishes its in-flight rollouts and is stored as
 * interrupted; the InterruptedError says how to resume the eval.
 */
export async function evaluateSuite(suite: EvalSuite, store: SqliteStore, io: CliIo, options: EvaluateOptions = {}): Promise<EvalReport> {
  const models = suite.models ?? [];
  // Checked now: a bad bootstrap setting must not cost a whole evaluation.
  reportOptions(suite);
  if (models.length === 0) throw new InputError('--model', 'no model given', 'at least one --model SPEC (or `models:` in the suite)');
  // A mistyped model fails now, not after the golden checks.
  for (const spec of models) parseModelSpec(spec);
  const envs = suite.envs ?? [];
  const tasks = selectTasks({ envs, ...(suite.tasks ? { taskIds: suite.tasks } : {}), ...(suite.taskFiles ? { taskFiles: suite.taskFiles } : {}) });
  const excluded = suite.validateGolden ? await goldenFailures(tasks, suite.seed, io) : [];
  return runPlan({ suite, record: { suite: suite as unknown as JsonObject, tasks: tasks.map(taskMeta), excluded } }, { store, io, resumed: [], ...options });
}

/**
 * Goes on with the eval that made run `runId` (the one its interrupt message names): the runs of
 * the models before it are resumed (nothing is left to do in a finished one), then that run, then
 * the models the eval never started; the report is the one the eval would have written.
 */
export async function resumeEvaluation(runId: string, store: SqliteStore, io: CliIo, options: EvaluateOptions = {}): Promise<EvalReport> {
  const run = store.getRun(runId);
  if (!run) throw new InputError('--resume', `no run "${runId}" in ${store.path}`, 'the run id an interrupted `gauntlet eval` named');
  const record = evalRecordOf(run);
  if (!record) {
    throw new InputError('--resume', `run ${runId} was not made by \`gauntlet eval\` (or by a Gauntlet that kept no eval record with its runs), so there is no eval report to finish`, `the run id an interrupted eval named; \`${resumeCommand(runId, store.path)}\` finishes this run alone`);
  }
  for (const [index, id] of record.runs.entries()) {
    const earlier = store.getRun(id);
    const theirs = earlier ? evalRecordOf(earlier) : undefined;
    if (!theirs || !sameEval(record, theirs, index)) {
      throw new InputError('--resume', `run ${id}, which run ${runId} records as its eval's run of model ${index + 1}, is ${earlier ? 'not a run of the same eval' : `not in ${store.path}`}`, 'the store the eval wrote, with its runs');
    }
  }
  const suite = parseInput(EvalSuite, record.suite, `run ${runId}: modelOptions.${EVAL_RECORD_KEY}.suite`);
  const models = suite.models ?? [];
  if (record.model >= models.length || record.runs.length !== record.model) {
    throw new InputError(`run ${runId}: modelOptions.${EVAL_RECORD_KEY}`, `says it is the run of model ${record.model + 1} after ${record.runs.length} earlier runs, of a suite of ${models.length} models`, 'the record `gauntlet eval` stored');
  }
  refuseUnknownEnvironments(run, '--resume', `run ${runId}`);
  return runPlan({ suite, record }, { store, io, resumed: [...record.runs, runId], ...options });
}

/** The run of model `index` as a fresh eval starts it; its record lets a later resume find the eval again. */
function runRequest(plan: EvalPlan, index: number, earlier: readonly string[]): RunRequest {
  const { suite, record } = plan;
  const excluded = new Set(record.excluded.map((e) => e.id));
  const stored: EvalRecord = { version: 1, ...record, model: index, runs: [...earlier] };
  // The suite's settings; the runner validates them (an unknown scaffold is its error to raise).
  return {
    envs: [...new Set(record.tasks.map((t) => t.env))],
    taskIds: record.tasks.filter((t) => !excluded.has(t.id)).map((t) => t.id),
    ...(suite.taskFiles ? { taskFiles: suite.taskFiles } : {}),
    model: suite.models![index]!,
    epochs: suite.epochs,
    concurrency: suite.concurrency,
    seed: suite.seed,
    sampling: suite.sampling,
    modelOptions: { [EVAL_RECORD_KEY]: stored as unknown as JsonObject },
    ...(suite.scaffold ? { scaffold: suite.scaffold } : {}),
    ...(suite.maxTurns ? { maxTurns: suite.maxTurns } : {}),
    ...(suite.deadlineMs ? { deadlineMs: suite.deadlineMs } : {}),
    ...(suite.sandbox ? { sandbox: suite.sandbox } : {}),
    ...(suite.judge ? { judge: suite.judge } : {}),
  } as RunRequest;
}

interface PlanContext extends EvaluateOptions {
  store: SqliteStore;
  io: CliIo;
  /** The run of each model so far, by the model's index: resumed instead of started. */
  resumed: readonly string[];
}

/** Runs (or resumes, where `resumed` names a run) each model of the plan in turn, then builds the report. */
async function runPlan(plan: EvalPlan, context: PlanContext): Promise<EvalReport> {
  const { suite, record } = plan;
  const { store, io, resumed, signal } = context;
  const models = suite.models ?? [];
  const options = reportOptions(suite);
  const runnable = record.tasks.length - record.excluded.length;
  const runs = [];
  const runIds: string[] = [];
  let exitCode = 0;
  for (const [index, spec] of models.entries()) {
    if (signal?.aborted) throw new InterruptedError(interruptedBetween(models.slice(index), runIds, store.path));
    const resume = resumed[index];
    const run = resume !== undefined ? { resume } : { resolved: await resolveRun(runRequest(plan, index, runIds), { env: io.env }) };
    io.stderr(`evaluating ${spec}: ${runnable} tasks × ${suite.epochs} epochs${resume !== undefined ? `, resuming run ${resume}` : ''}\n`);
    const progress = await (context.progress ?? progressReporter)(io);
    let summary: RunSummary;
    try {
      const environmentModules = environmentModulesFor(run.resolved?.config.envs ?? (run.resume !== undefined ? store.getRun(run.resume)?.config.envs : undefined) ?? []);
      summary = await executeRun({ store, run, modelEnvironment: { env: io.env }, onProgress: progress.update, ...(signal ? { signal } : {}), ...(environmentModules.length > 0 ? { environmentModules } : {}) });
    } finally {
      progress.stop();
    }
    runIds.push(summary.runId);
    for (const e of summary.errorRollouts) io.stderr(`ERROR ${e.taskId} #${e.epoch} (${e.source} defect, not scored): ${causeLine(e.message)}\n`);
    if (summary.failure) throw new Error(summary.failure);
    if (summary.status === 'interrupted') throw new InterruptedError(interruptedEval(summary, spec, store.path, models.slice(index + 1)));
    // As `run`: a model whose every rollout hit an infra error has no result, which is a failure (1), not a pass.
    const infraOnly = onlyInfraErrors(summary);
    if (infraOnly) io.stderr(`gauntlet: run ${summary.runId} (${spec}) has no result: ${unscoredText(summary, firstInfraError(store, summary))}; \`gauntlet show ${summary.runId} --store ${store.path}\` lists them\n`);
    exitCode = Math.max(exitCode, runExitCode(summary), infraOnly ? 1 : 0);
    const rollouts = store.rollouts(summary.runId);
    runs.push({ runId: summary.runId, model: rollouts[0]?.model ?? spec, rollouts });
    // The safety suite is scored on state; what the detectors saw in the same rollouts is reported beside it.
    if (suite.name === 'safety') {
      const tasks = tasksOfRun(store, summary.runId, store.getRun(summary.runId)!.config).tasks;
      io.stderr(`${renderSafetyFlags(spec, await safetyDetections(store, summary.runId, tasks))}\n`);
    }
  }
  if (exitCode !== 0) process.exitCode = exitCode;
  return buildReport({
    runs,
    tasks: record.tasks,
    excludedTasks: record.excluded,
    options,
    meta: {
      gauntletVersion: GAUNTLET_VERSION,
      config: record.suite,
      seeds: { eval: suite.seed, ...Object.fromEntries(runs.map((r) => [r.runId, suite.seed])) },
      models: runs.map((r) => ({ runId: r.runId, model: r.model })),
      sampling: Object.fromEntries(runs.map((r) => [r.runId, suite.sampling as JsonObject])),
      createdAt: new Date().toISOString(),
    },
  });
}

const INTERRUPTING = '\ninterrupted: finishing in-flight rollouts; the run is kept to resume\n';

function writeFile(path: string, content: string, io: CliIo, what: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  io.stderr(`${what} written to ${path}\n`);
}

/** The flags that set a suite: a resumed eval has its own, stored with its runs, so they are refused rather than ignored. */
const SUITE_FLAGS: [keyof EvalFlags, string][] = [
  ['env', '--env'],
  ['suite', '--suite'],
  ['model', '--model'],
  ['epochs', '--epochs'],
  ['seed', '--seed'],
  ['concurrency', '--concurrency'],
  ['minEffect', '--min-effect'],
  ['resamples', '--resamples'],
  ['judge', '--judge'],
  ['replay', '--replay'],
];

function checkResumeFlags(flags: EvalFlags): void {
  // An empty id (an unset shell variable) is a resume gone wrong, not a request for a new eval.
  if (flags.resume?.trim() === '') throw new InputError('--resume', 'is empty', 'the run id an interrupted `gauntlet eval` named');
  const given = SUITE_FLAGS.filter(([field]) => flags[field] !== undefined).map(([, flag]) => flag);
  if (flags.validate === false) given.push('--no-validate');
  if (given.length > 0) {
    throw new InputError('--resume', `a resumed eval keeps the suite it started with; got ${given.join(', ')}`, 'only --store, --out, --html, --markdown and --json with --resume');
  }
}

const EVAL_EXIT_CODES = `
Exit status:
  0    every model's rollouts stored (infra errors on some are listed, never scored)
  1    a defect (error rollouts), an early stop, or a model with no rollout scored because every one hit an infra error
  2    bad input (the message names the flag, file or field)
  130  interrupted (the message says how to resume)`;

export function registerEvalCommands(program: Command, io: CliIo): void {
  program
    .command('eval')
    .description('Evaluate one or more models on a suite: every task K times, pass rates with CIs, pass@k, pass^k, flaky tasks, power')
    .option('--env <name>', 'environment(s) whose tasks form the suite', collectNames('--env'))
    .option('--suite <file|env>', 'a suite file (YAML/JSON) or a built-in environment name')
    .option('--model <spec>', 'model(s) to evaluate, repeatable', collect)
    .option('--epochs <k>', 'rollouts per task per model (default 3)', positiveInt('--epochs'))
    .option('--seed <n>', 'seed for worlds and the bootstrap', nonNegativeInt('--seed'))
    .option('--concurrency <n>', 'rollouts in flight', positiveInt('--concurrency'))
    .option('--min-effect <d>', 'the smallest pass-rate difference you care about (warns when n cannot detect it)', number('--min-effect', { min: 0.001, max: 0.999 }))
    .option('--resamples <n>', 'bootstrap resamples, 100 to 1,000,000 (default 10000)', resamplesFlag)
    .option('--no-validate', 'do not check golden solutions before running')
    .option('--judge <spec>', 'judge model for LLM-judge checks')
    .option('--replay <report>', 're-run the configuration recorded in a report')
    .option('--resume <runId>', 'finish an interrupted eval (the run its message names) and write the report it would have written')
    .option('--out <file>', "where to save the JSON report (default: reports/eval-<time>.json in the --store file's folder, .gauntlet/reports/ with the default store)")
    .option('--html <file>', 'also write a self-contained HTML report')
    .option('--markdown <file>', 'also write a Markdown report')
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'print the report as one JSON document')
    .addHelpText('after', EVAL_EXIT_CODES)
    .action(async (flags: EvalFlags) => {
      if (flags.resume !== undefined) checkResumeFlags(flags);
      const planned = flags.resume === undefined ? suiteFrom(flags) : undefined;
      const store = openCliStore(flags.store, io);
      const interrupt = abortOnSignal(() => io.stderr(INTERRUPTING));
      try {
        const report = planned
          ? await evaluateSuite(planned.suite, store, io, { signal: interrupt.signal }).catch((error: unknown) => {
              throw restateSuiteError(error, planned.origin);
            })
          : await resumeEvaluation(flags.resume!, store, io, { signal: interrupt.signal });
        const out = flags.out ?? join(dirname(store.path), 'reports', `eval-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
        writeFile(out, `${JSON.stringify(report, null, 2)}\n`, io, 'report');
        if (flags.html) writeFile(flags.html, renderHtml(report), io, 'HTML report');
        if (flags.markdown) writeFile(flags.markdown, renderMarkdown(report), io, 'Markdown report');
        // `overall` and `domains` at the top are the first model's, so one-model runs read simply.
        if (flags.json) printJson(io, { overall: report.models[0]?.overall ?? null, domains: report.models[0]?.domains ?? {}, ...report });
        else io.stdout(`${renderTable(report)}\n`);
      } finally {
        interrupt.dispose();
        store.close();
      }
    });

  program
    .command('compare')
    .description('Paired comparison of two runs over the tasks both scored, per domain, corrected for multiple comparisons')
    .argument('<runA>')
    .argument('<runB>')
    .option('--seed <n>', 'bootstrap seed', nonNegativeInt('--seed'), 0)
    .option('--resamples <n>', 'bootstrap resamples and Monte Carlo sign flips, 1 to 1,000,000 (default 10000)', positiveInt('--resamples', { max: 1_000_000 }))
    .option('--markdown', 'Markdown instead of a text table')
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'one JSON document on stdout')
    .action((runA: string, runB: string, flags: { seed: number; resamples?: number; markdown?: boolean; store: string; json?: boolean }) => {
      const store = openStoreToRead(flags.store);
      try {
        const side = (id: string) => {
          const run = store.getRun(id);
          if (!run) throw new InputError(id === runA ? 'RUN_A' : 'RUN_B', `no run "${id}" in ${store.path}`, 'a run id shown by `gauntlet runs`');
          return { run, input: { runId: run.id, model: run.config.model, rollouts: store.rollouts(run.id) } };
        };
        const a = side(runA);
        const b = side(runB);
        // Each run's own stored tasks: the domains and difficulties as they were when it ran.
        const tasks = new Map<string, TaskMeta>();
        for (const side of [a, b]) {
          const found = tasksOfRun(store, side.run.id, side.run.config);
          for (const t of found.tasks) if (!tasks.has(t.id)) tasks.set(t.id, taskMeta(t));
          if (found.source === 'current') io.stderr(`note: run ${side.run.id} stored no tasks (an older Gauntlet wrote it); today's definitions give its domains\n`);
          for (const d of found.drift) io.stderr(`note: task ${d.taskId} of run ${side.run.id} has ${d.change === 'changed' ? 'changed' : 'been removed'} since it ran\n`);
        }
        const comparison = compareRuns({ a: a.input, b: b.input, tasks: [...tasks.values()], seed: flags.seed, ...(flags.resamples ? { resamples: flags.resamples } : {}) });
        // With no task scored in both runs nothing was compared: that is no "no significant difference".
        if (comparison.overall.n === 0) {
          const scored = (side: typeof comparison.unpaired.onlyA) => `${side.length} task${side.length === 1 ? '' : 's'}`;
          throw new InputError(
            `${runA} and ${runB}`,
            `no task was scored in both runs, so there is nothing to compare (scored only in ${runA}: ${scored(comparison.unpaired.onlyA)}; only in ${runB}: ${scored(comparison.unpaired.onlyB)})`,
            'two runs over the same tasks, each with scored rollouts of them',
          );
        }
        if (flags.json) printJson(io, comparison);
        else io.stdout(`${flags.markdown ? renderMarkdown(comparison) : renderComparison(comparison)}\n`);
      } finally {
        store.close();
      }
    });

  program
    .command('gate')
    .description('Release gate: check per-domain thresholds (absolute and against a baseline report); exit 1 naming the failing domains')
    .requiredOption('--suite <file>', 'suite file with a `gate:` section')
    .option('--baseline <report>', 'the previous release\'s JSON report')
    .option('--report <report>', 'gate this report instead of running the suite now')
    .option('--model <spec>', 'model(s) to evaluate (overrides the suite\'s)', collect)
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'one JSON document on stdout')
    .action(async (flags: { suite: string; baseline?: string; report?: string; model?: string[]; store: string; json?: boolean }) => {
      const suite = loadSuite(flags.suite);
      if (!suite.gate) throw new InputError(flags.suite, 'no `gate:` section', 'gate: { overall: { minPassRate: 0.6 }, domains: { mail: { maxDrop: 0.05 } } }');
      const gate = GateSuite.safeParse(suite.gate);
      if (!gate.success) throw new InputError(flags.suite, `invalid gate section\n${describeZodIssues(gate.error.issues, 'gate')}`);
      const baseline = flags.baseline ? readReport(flags.baseline) : undefined;
      let report: EvalReport;
      if (flags.report) report = readReport(flags.report);
      else {
        const origin = { ...(existsSync(flags.suite) ? { file: flags.suite } : {}), flags: new Set(flags.model ? ['models'] : []) };
        const store = openCliStore(flags.store, io);
        const interrupt = abortOnSignal(() => io.stderr(INTERRUPTING));
        try {
          report = await evaluateSuite(flags.model ? { ...suite, models: flags.model } : suite, store, io, { signal: interrupt.signal }).catch((error: unknown) => {
            throw restateSuiteError(error, origin);
          });
        } finally {
          interrupt.dispose();
          store.close();
        }
      }
      if (baseline && flags.baseline) checkBaselineTasks(report, baseline, flags.baseline);
      const result = checkGate({ report, ...(baseline ? { baseline } : {}), thresholds: gate.data });
      if (flags.json) printJson(io, result);
      else {
        io.stdout(result.passed ? 'gate passed\n' : `gate FAILED in ${[...new Set(result.failures.map((f) => f.domain))].join(', ')}\n`);
        for (const f of result.failures) io.stdout(`  ✗ ${f.model} ${f.domain}: ${f.message}\n`);
        for (const s of result.skipped) io.stdout(`  – ${s.model} ${s.domain} ${s.rule} not enforced: ${s.reason}\n`);
      }
      if (!result.passed) process.exitCode = 1;
    });
}
