// `gauntlet robustness`: runs the baseline and every arm of a perturbation suite over the same
// tasks and epochs, then reports each arm's pass rate and paired gap to the baseline (Holm across
// arms), the significant harms first, the tasks each hurts most, held-out against seen families,
// and a forest plot (SVG). With `--scaffolds` it runs a model × scaffold matrix instead, each cell
// compared to the first (robustness-matrix section below).
import { writeFileSync } from 'node:fs';
import { type SandboxBackend, SANDBOX_BACKENDS } from '../../sandbox/index.ts';
import type { Command } from 'commander';
import { GAUNTLET_VERSION, InputError, type ModelClient, type RunConfig, type Task } from '../../core/index.ts';
import { environmentNames, getEnvironment } from '../../envs/index.ts';
import { buildSuite, loadSuite, resolvePerturbations, type EpisodeSettings, type Suite } from '../../perturb/index.ts';
import { judgeFromConfig, judgeFrom, modelFromConfig, resolveRun, type RunRequest } from '../../runner/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { collect, nonNegativeInt, number, oneOf, positiveInt } from '../options.ts';
import { parseModelSpec } from '../../model/index.ts';
import { defaultAgentCache, startAgentRun, type AgentRun } from '../../training/agents/index.ts';
import { parseScaffolds, runColumns, runSuite, SCAFFOLD_CHOICES, type Column } from './robustness-episodes.ts';
import { analyseRobustness, type RobustnessReport } from './robustness-report.ts';
import { renderRobustnessHtml, renderRobustnessMarkdown, renderRobustnessSvg, renderRobustnessText } from './robustness-render.ts';

interface RobustnessFlags {
  env?: string[];
  task?: string[];
  tasksFile?: string[];
  model?: string[];
  scaffolds?: string[];
  suite?: string;
  perturb?: string[];
  epochs: number;
  seed: number;
  concurrency: number;
  sandbox?: SandboxBackend;
  maxTurns?: number;
  deadline?: number;
  maxTokens?: number;
  template?: string;
  tokenizer?: string;
  judge?: string;
  resamples: number;
  alpha: number;
  json?: boolean;
  html?: boolean;
  markdown?: boolean;
  out?: string;
  chart?: string;
}

/** The flag behind each run setting this command sets, for restating the runner's errors. */
const FLAG_OF: Record<string, string> = {
  envs: '--env',
  taskIds: '--task',
  taskFiles: '--tasks-file',
  model: '--model',
  judge: '--judge',
  sandbox: '--sandbox',
  'sampling.maxTokens': '--max-tokens',
  'modelOptions.template': '--template',
  'modelOptions.tokenizer': '--tokenizer',
};

export type OutputFormat = 'json' | 'html' | 'markdown' | 'text';

/** The report as written by `--json`: the data plus the chart the viewer shows. */
export type RobustnessDocument = RobustnessReport & { chart: { svg: string } };

function suiteFrom(flags: RobustnessFlags): Suite {
  if (flags.suite && flags.perturb) throw new InputError('--suite', 'give --suite or --perturb, not both');
  if (flags.suite) return loadSuite(flags.suite);
  if (flags.perturb && flags.perturb.length > 0) return buildSuite({ name: 'flags', seeds: [flags.seed], axes: {}, cross: false, arms: flags.perturb, heldOut: [] }, '--perturb');
  throw new InputError('--suite', 'no perturbations given', '--suite FILE (a perturbation suite) or --perturb SPEC (each one arm)');
}

function outputFormat(flags: RobustnessFlags): OutputFormat {
  const chosen = (['json', 'html', 'markdown'] as const).filter((f) => flags[f]);
  if (chosen.length > 1) throw new InputError(`--${chosen[1]}`, `cannot be combined with --${chosen[0]}`, 'one of --json, --html, --markdown');
  return chosen[0] ?? 'text';
}

/**
 * The models every episode setting needs: the run's own, and a text-completion client per
 * tool-call format for arms that write tool calls as text (those need --template).
 */
export function modelsFor(config: RunConfig, flags: Pick<RobustnessFlags, 'template' | 'tokenizer'>, io: CliIo, opened: ModelClient[]): (settings: EpisodeSettings) => Promise<ModelClient> {
  const open = async (settings: EpisodeSettings): Promise<ModelClient> => {
    if (settings.scaffold !== 'text-tools') return modelFromConfig(config, { env: io.env });
    if (!flags.template) throw new InputError('--template', `the ${settings.toolFormat ?? 'text'} arm writes tool calls as text and needs the model's chat template`, '--template PATH (a Jinja chat template) with an openai: model');
    // The runner validates text-tools settings (template, format, an openai: model) as for any run.
    const request: RunRequest = {
      ...config,
      scaffold: 'text-tools',
      modelOptions: { ...config.modelOptions, template: flags.template, toolFormat: settings.toolFormat ?? 'hermes', ...(flags.tokenizer ? { tokenizer: flags.tokenizer } : {}) },
    };
    try {
      return await modelFromConfig((await resolveRun(request, { env: io.env })).config, { env: io.env });
    } catch (error) {
      throw error instanceof InputError ? error.at(FLAG_OF[error.where] ?? error.where) : error;
    }
  };
  const cache = new Map<string, Promise<ModelClient>>();
  return (settings) => {
    const key = `${settings.scaffold ?? 'interleaved'}:${settings.toolFormat ?? ''}`;
    let model = cache.get(key);
    if (!model) {
      model = open(settings).then((client) => {
        opened.push(client);
        return client;
      });
      cache.set(key, model);
    }
    return model;
  };
}

/** Every text tool-call format the suite's arms use: their clients are opened (and checked) before anything runs. */
function textFormats(suite: Suite): EpisodeSettings[] {
  return suite.arms.flatMap((arm) =>
    arm.resolved.entries.flatMap((e) => (e.perturbation.id === 'scaffold.tools' && e.params.mode === 'text' ? [{ scaffold: 'text-tools' as const, toolFormat: e.params.format as EpisodeSettings['toolFormat'] }] : [])),
  );
}

/** The run request the flags describe for one model. */
function requestFor(flags: RobustnessFlags, model: string): RunRequest {
  return {
    // With a tasks file the file names each task's environment; any built-in one may appear.
    envs: flags.env ?? environmentNames(),
    ...(flags.task ? { taskIds: flags.task } : {}),
    ...(flags.tasksFile ? { taskFiles: flags.tasksFile } : {}),
    model,
    epochs: flags.epochs,
    concurrency: flags.concurrency,
    seed: flags.seed,
    ...(flags.sandbox ? { sandbox: flags.sandbox } : {}),
    ...(flags.maxTurns ? { maxTurns: flags.maxTurns } : {}),
    ...(flags.deadline ? { deadlineMs: flags.deadline * 1000 } : {}),
    ...(flags.maxTokens !== undefined ? { sampling: { maxTokens: flags.maxTokens } } : {}),
    ...(flags.judge ? { judge: flags.judge } : {}),
  };
}

async function resolveFor(flags: RobustnessFlags, model: string, io: CliIo): Promise<{ config: RunConfig; tasks: Task[] }> {
  try {
    return await resolveRun(requestFor(flags, model), { env: io.env });
  } catch (error) {
    // The runner names config fields; say which flag set them.
    throw error instanceof InputError ? error.at(FLAG_OF[error.where] ?? error.where) : error;
  }
}

export async function robustness(flags: RobustnessFlags, io: CliIo, signal?: AbortSignal): Promise<{ document: RobustnessDocument; exitCode: number }> {
  const models = flags.model ?? [];
  if (models.length === 0) throw new InputError('--model', 'no model given', 'a model spec such as oracle or openai:http://localhost:8000/v1#MODEL');
  if (!flags.env && !flags.tasksFile) throw new InputError('--env', 'no tasks given', `--env NAME (one of ${environmentNames().join(', ')}) or --tasks-file FILE`);
  const format = outputFormat(flags);
  if (flags.scaffolds) return robustnessMatrix({ flags, io, format, models, scaffolds: flags.scaffolds, ...(signal ? { signal } : {}) });
  if (models.length > 1) throw new InputError('--model', `${models.length} models given; a perturbation suite runs one model`, 'one --model, or several with --scaffolds LIST (a model × scaffold matrix)');
  const suite = suiteFrom(flags);
  const { config, tasks } = await resolveFor(flags, models[0]!, io);
  const opened: ModelClient[] = [];
  try {
    return await runAndReport({ flags, io, suite, format, config, tasks, opened, ...(signal ? { signal } : {}) });
  } finally {
    await Promise.all(opened.map((m) => m.close?.()));
  }
}

interface ReportRun {
  flags: RobustnessFlags;
  io: CliIo;
  suite: Suite;
  format: OutputFormat;
  config: RunConfig;
  tasks: Task[];
  /** Model clients opened on the way, closed by the caller. */
  opened: ModelClient[];
  signal?: AbortSignal;
}

async function runAndReport({ flags, io, suite, format, config, tasks, opened, signal }: ReportRun): Promise<{ document: RobustnessDocument; exitCode: number }> {
  const judgeModel = await judgeFromConfig(config, { env: io.env });
  if (judgeModel) opened.push(judgeModel);
  const modelFor = modelsFor(config, flags, io, opened);
  for (const settings of textFormats(suite)) await modelFor(settings);
  const total = tasks.length * flags.epochs * (1 + suite.arms.length);
  io.stderr(`robustness: ${tasks.length} tasks × ${flags.epochs} epochs × (baseline + ${suite.arms.length} arms) = up to ${total} rollouts\n`);
  const results = await runSuite({ suite, modelFor, ...sharedRunOptions({ flags, io, tasks, config, judgeModel, signal }) });
  if (io.interactive) io.stderr('\n');
  const report = analyseRobustness({
    meta: {
      gauntletVersion: GAUNTLET_VERSION,
      createdAt: new Date().toISOString(),
      suite: suite.name,
      model: config.model,
      envs: [...new Set(tasks.map((t) => t.env))],
      tasks: tasks.length,
      epochs: flags.epochs,
      seed: flags.seed,
      perturbationSeeds: suite.seeds,
      heldOut: suite.heldOut,
    },
    tasks,
    baseline: results.baseline,
    arms: results.arms,
    resamples: flags.resamples,
    alpha: flags.alpha,
  });
  return publish({ report, flags, io, format, cancelled: results.cancelled });
}

/** What every column of a run shares, from the flags: tasks, worlds, limits, judge, progress. */
function sharedRunOptions({ flags, io, tasks, config, judgeModel, signal }: { flags: RobustnessFlags; io: CliIo; tasks: Task[]; config: RunConfig; judgeModel: ModelClient | null | undefined; signal: AbortSignal | undefined }) {
  let lastShown = 0;
  return {
    tasks,
    definition: getEnvironment,
    epochs: flags.epochs,
    runSeed: flags.seed,
    concurrency: flags.concurrency,
    sandbox: config.sandbox,
    ...(judgeModel ? { judge: judgeFrom(judgeModel) } : {}),
    ...(flags.maxTurns ? { maxTurns: flags.maxTurns } : {}),
    ...(flags.deadline ? { deadlineMs: flags.deadline * 1000 } : {}),
    ...(signal ? { signal } : {}),
    onProgress: ({ done, total }: { done: number; total: number }) => {
      if (!io.interactive || done - lastShown < Math.max(1, Math.floor(total / 50))) return;
      lastShown = done;
      io.stderr(`\r${done}/${total} rollouts`);
    },
  };
}

interface MatrixRun {
  flags: RobustnessFlags;
  io: CliIo;
  format: OutputFormat;
  models: string[];
  scaffolds: string[];
  signal?: AbortSignal;
}

/**
 * A model × scaffold matrix: every cell plays the same tasks and epochs in the same worlds, and
 * each is compared (paired, Holm across cells) to the first model's first scaffold. Agent-loop
 * scaffolds are the scaffold perturbations; `agent:NAME` cells are played by the external agent
 * through its own gateway in front of the cell's model.
 */
async function robustnessMatrix({ flags, io, format, models, scaffolds: written, signal }: MatrixRun): Promise<{ document: RobustnessDocument; exitCode: number }> {
  if (flags.suite || flags.perturb) throw new InputError('--scaffolds', 'cannot be combined with --suite or --perturb', 'either --scaffolds LIST (a model × scaffold matrix) or a perturbation suite; run them separately');
  const scaffolds = parseScaffolds(written);
  const twice = models.find((m, i) => models.indexOf(m) !== i);
  if (twice) throw new InputError('--model', `"${twice}" is given twice`, 'each model once');
  if (models.length * scaffolds.length < 2) throw new InputError('--scaffolds', `one scaffold (${scaffolds[0]!.label}) and one model leave nothing to compare`, 'two or more scaffolds, or several --model');
  const agent = scaffolds.find((s) => 'agent' in s);
  // Checked before anything is installed or started.
  for (const model of agent ? models : []) {
    if (parseModelSpec(model).kind !== 'openai') throw new InputError('--model', `${agent!.label} reaches the model through a gateway in front of an OpenAI-style endpoint, got "${model}"`, 'openai:BASE_URL#MODEL');
  }
  const runs: { config: RunConfig; tasks: Task[] }[] = [];
  for (const model of models) runs.push(await resolveFor(flags, model, io));
  const { config, tasks } = runs[0]!;
  const opened: ModelClient[] = [];
  const agentRuns: AgentRun[] = [];
  try {
    const judgeModel = await judgeFromConfig(config, { env: io.env });
    if (judgeModel) opened.push(judgeModel);
    const modelFors = runs.map((run) => modelsFor(run.config, flags, io, opened));
    // Text-tools clients (template, format, model) are checked before any agent is installed.
    for (const modelFor of modelFors) for (const s of scaffolds) if ('settings' in s) await modelFor(s.settings);
    const columns: Column[] = [];
    const labels: string[] = [];
    for (const [m, model] of models.entries()) {
      for (const s of scaffolds) {
        labels.push(models.length > 1 ? `${s.label} @ ${model}` : s.label);
        const key = `cell-${columns.length}`;
        if ('settings' in s) {
          columns.push({ key, resolved: resolvePerturbations([s.perturbation], '--scaffolds'), player: { modelFor: modelFors[m]! } });
          continue;
        }
        const run = await startAgentRun({ agent: { name: s.agent.name, version: s.agent.version }, model, cacheDir: defaultAgentCache(io.env), ...(io.env.OPENAI_API_KEY ? { apiKey: io.env.OPENAI_API_KEY } : {}), log: (line) => io.stderr(`${line}\n`) });
        agentRuns.push(run);
        columns.push({ key, resolved: resolvePerturbations([]), player: { driver: run.driver, modelSpec: model } });
      }
    }
    io.stderr(`robustness: ${tasks.length} tasks × ${flags.epochs} epochs × (${models.length} models × ${scaffolds.length} scaffolds) = up to ${tasks.length * flags.epochs * columns.length} rollouts, compared to ${labels[0]}\n`);
    // Scaffold perturbations draw nothing at random; the run seed stands in for a suite's.
    const results = await runColumns({ columns, perturbSeed: () => flags.seed, ...sharedRunOptions({ flags, io, tasks, config, judgeModel, signal }) });
    if (io.interactive) io.stderr('\n');
    const [first, ...rest] = results.columns;
    const report = analyseRobustness({
      meta: {
        gauntletVersion: GAUNTLET_VERSION,
        createdAt: new Date().toISOString(),
        suite: 'scaffolds',
        model: models.join(', '),
        envs: [...new Set(tasks.map((t) => t.env))],
        tasks: tasks.length,
        epochs: flags.epochs,
        seed: flags.seed,
        perturbationSeeds: [flags.seed],
        heldOut: [],
        matrix: { models, scaffolds: scaffolds.map((s) => s.label) },
      },
      tasks,
      baseline: first!.rollouts,
      baselineId: labels[0]!,
      baselineSkipped: first!,
      arms: rest.map((result, i) => ({ id: labels[i + 1]!, split: 'matrix', families: [], ...result })),
      resamples: flags.resamples,
      alpha: flags.alpha,
      order: 'given',
    });
    return publish({ report, flags, io, format, cancelled: results.cancelled });
  } finally {
    await Promise.all([...opened.map((m) => m.close?.()), ...agentRuns.map((r) => r.close())]);
  }
}

/**
 * Writes the report where the flags say; exit 130 when cancelled, 1 when any rollout hit a defect
 * or a column ran without a single scored rollout (as `run` and `eval` fail a run that has no result).
 */
export function publish({ report, flags, io, format, cancelled }: { report: RobustnessReport; flags: Pick<RobustnessFlags, 'chart' | 'out'>; io: CliIo; format: OutputFormat; cancelled: number }): { document: RobustnessDocument; exitCode: number } {
  const svg = renderRobustnessSvg(report);
  const document: RobustnessDocument = { ...report, chart: { svg } };
  const rendered = format === 'json' ? `${JSON.stringify(document, null, 2)}\n` : format === 'html' ? renderRobustnessHtml(report) : format === 'markdown' ? renderRobustnessMarkdown(report) : renderRobustnessText(report);
  if (flags.chart) writeFileSync(flags.chart, `${svg}\n`);
  if (flags.out) {
    writeFileSync(flags.out, rendered);
    io.stderr(`robustness report written to ${flags.out}\n`);
  } else if (format === 'json') printJson(io, document);
  else io.stdout(rendered);
  const rows = [report.baseline, ...report.arms];
  const defects = rows.reduce((n, a) => n + a.rollouts.errors, 0);
  const noResult = rows.filter((a) => a.rollouts.total > 0 && a.rollouts.scored === 0 && a.rollouts.total > a.rollouts.cancelled);
  if (noResult.length > 0) {
    const count = (key: 'infraErrors' | 'errors') => noResult.reduce((n, a) => n + a.rollouts[key], 0);
    io.stderr(`gauntlet: no rollout was scored in ${noResult.map((a) => a.id).join('; ')} (${count('infraErrors')} infrastructure error(s), ${count('errors')} defect(s)): no result there; see the report's warnings\n`);
  }
  return { document, exitCode: cancelled > 0 ? 130 : defects > 0 || noResult.length > 0 ? 1 : 0 };
}

export function registerRobustnessCommand(program: Command, io: CliIo): void {
  program
    .command('robustness')
    .description('Run a perturbation suite against an unperturbed baseline (or a model × scaffold matrix against its first cell) and report paired, Holm-corrected gaps')
    .option('--env <name>', 'environment(s), repeatable or comma-separated', collect)
    .option('--task <id>', 'only these task ids (repeatable)', collect)
    .option('--tasks-file <path>', 'tasks from YAML/JSON files (repeatable)', collect)
    .option('--model <spec>', 'the model: oracle, scripted:PATH, openai:URL#MODEL, … (repeatable with --scaffolds: one matrix row per model)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--scaffolds <list>', `a model × scaffold matrix instead of a perturbation suite, the first scaffold the baseline (comma-separated or repeatable: ${SCAFFOLD_CHOICES})`, collect)
    .option('--suite <path>', 'perturbation suite (YAML: seeds, axes, cross, arms, heldOut)')
    .option('--perturb <spec>', 'one arm per value instead of a suite (repeatable; a,b in one value apply together)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--epochs <n>', 'epochs per task and arm', positiveInt('--epochs', { max: 10_000 }), 1)
    .option('--seed <n>', 'run seed (worlds); the suite has its own perturbation seeds', nonNegativeInt('--seed', { max: 2 ** 32 - 1 }), 0)
    .option('--concurrency <n>', 'rollouts at once', positiveInt('--concurrency', { max: 10_000 }), 4)
    .option('--sandbox <backend>', 'auto, virtual, bwrap, remote or k8s', oneOf('--sandbox', SANDBOX_BACKENDS))
    .option('--max-turns <n>', 'turn limit per rollout (default: each task\'s own)', positiveInt('--max-turns', { max: 100_000 }))
    .option('--deadline <seconds>', 'wall-clock limit per rollout', positiveInt('--deadline'))
    .option('--max-tokens <n>', 'completion token limit per call (needed by text-tools arms: /v1/completions engines stop after 16 tokens without it)', positiveInt('--max-tokens', { max: 100_000_000 }))
    .option('--template <path>', 'chat template for arms that write tool calls as text (scaffold.tools:text)')
    .option('--tokenizer <path>', 'tokenizer.json for text arms')
    .option('--judge <spec>', 'judge model for LLM-judge checks')
    .option('--resamples <n>', 'bootstrap resamples', positiveInt('--resamples', { max: 1_000_000 }), 10_000)
    .option('--alpha <p>', 'significance level (Holm-corrected across arms)', number('--alpha', { min: 0.0001, max: 0.5 }), 0.05)
    .option('--json', 'print the report as JSON (with the SVG chart)')
    .option('--html', 'print the report as HTML (with the chart)')
    .option('--markdown', 'print the report as Markdown')
    .option('--out <path>', 'write the report to a file instead of stdout')
    .option('--chart <path>', 'also write the chart as an SVG file')
    .action(async (flags: RobustnessFlags) => {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      try {
        const { exitCode } = await robustness(flags, io, stop.signal);
        process.exitCode = exitCode;
      } finally {
        process.off('SIGINT', onSignal);
      }
    });
}
