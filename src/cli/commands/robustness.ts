// `gauntlet robustness`: runs the baseline and every arm of a perturbation suite over the same
// tasks and epochs, then reports each arm's pass rate and paired gap to the baseline (Holm across
// arms), the significant harms first, the tasks each hurts most, held-out against seen families,
// and a forest plot (SVG).
import { writeFileSync } from 'node:fs';
import { type SandboxBackend, SANDBOX_BACKENDS } from '../../sandbox/index.ts';
import type { Command } from 'commander';
import { GAUNTLET_VERSION, InputError, type ModelClient, type RunConfig, type Task } from '../../core/index.ts';
import { environmentNames, getEnvironment } from '../../envs/index.ts';
import { buildSuite, loadSuite, type EpisodeSettings, type Suite } from '../../perturb/index.ts';
import { judgeFromConfig, judgeFrom, modelFromConfig, resolveRun, type RunRequest } from '../../runner/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { collect, nonNegativeInt, number, oneOf, positiveInt } from '../options.ts';
import { runSuite } from './robustness-episodes.ts';
import { analyseRobustness, type RobustnessReport } from './robustness-report.ts';
import { renderRobustnessHtml, renderRobustnessMarkdown, renderRobustnessSvg, renderRobustnessText } from './robustness-render.ts';

interface RobustnessFlags {
  env?: string[];
  task?: string[];
  tasksFile?: string[];
  model?: string;
  suite?: string;
  perturb?: string[];
  epochs: number;
  seed: number;
  concurrency: number;
  sandbox?: SandboxBackend;
  maxTurns?: number;
  deadline?: number;
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
  'modelOptions.template': '--template',
  'modelOptions.tokenizer': '--tokenizer',
};

/** The report as written by `--json`: the data plus the chart the viewer shows. */
export type RobustnessDocument = RobustnessReport & { chart: { svg: string } };

function suiteFrom(flags: RobustnessFlags): Suite {
  if (flags.suite && flags.perturb) throw new InputError('--suite', 'give --suite or --perturb, not both');
  if (flags.suite) return loadSuite(flags.suite);
  if (flags.perturb && flags.perturb.length > 0) return buildSuite({ name: 'flags', seeds: [flags.seed], axes: {}, cross: false, arms: flags.perturb, heldOut: [] }, '--perturb');
  throw new InputError('--suite', 'no perturbations given', '--suite FILE (a perturbation suite) or --perturb SPEC (each one arm)');
}

function outputFormat(flags: RobustnessFlags): 'json' | 'html' | 'markdown' | 'text' {
  const chosen = (['json', 'html', 'markdown'] as const).filter((f) => flags[f]);
  if (chosen.length > 1) throw new InputError(`--${chosen[1]}`, `cannot be combined with --${chosen[0]}`, 'one of --json, --html, --markdown');
  return chosen[0] ?? 'text';
}

/**
 * The models every episode setting needs: the run's own, and a text-completion client per
 * tool-call format for arms that write tool calls as text (those need --template).
 */
function modelsFor(config: RunConfig, flags: RobustnessFlags, io: CliIo, opened: ModelClient[]): (settings: EpisodeSettings) => Promise<ModelClient> {
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

export async function robustness(flags: RobustnessFlags, io: CliIo, signal?: AbortSignal): Promise<{ document: RobustnessDocument; exitCode: number }> {
  if (!flags.model) throw new InputError('--model', 'no model given', 'a model spec such as oracle or openai:http://localhost:8000/v1#MODEL');
  if (!flags.env && !flags.tasksFile) throw new InputError('--env', 'no tasks given', `--env NAME (one of ${environmentNames().join(', ')}) or --tasks-file FILE`);
  const format = outputFormat(flags);
  const suite = suiteFrom(flags);
  const request: RunRequest = {
    // With a tasks file the file names each task's environment; any built-in one may appear.
    envs: flags.env ?? environmentNames(),
    ...(flags.task ? { taskIds: flags.task } : {}),
    ...(flags.tasksFile ? { taskFiles: flags.tasksFile } : {}),
    model: flags.model,
    epochs: flags.epochs,
    concurrency: flags.concurrency,
    seed: flags.seed,
    ...(flags.sandbox ? { sandbox: flags.sandbox } : {}),
    ...(flags.maxTurns ? { maxTurns: flags.maxTurns } : {}),
    ...(flags.deadline ? { deadlineMs: flags.deadline * 1000 } : {}),
    ...(flags.judge ? { judge: flags.judge } : {}),
  };
  let resolved;
  try {
    resolved = await resolveRun(request, { env: io.env });
  } catch (error) {
    // The runner names config fields; say which flag set them.
    throw error instanceof InputError ? error.at(FLAG_OF[error.where] ?? error.where) : error;
  }
  const { config, tasks } = resolved;
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
  format: 'json' | 'html' | 'markdown' | 'text';
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
  let lastShown = 0;
  const results = await runSuite({
    suite,
    tasks,
    definition: getEnvironment,
    modelFor,
    epochs: flags.epochs,
    runSeed: flags.seed,
    concurrency: flags.concurrency,
    sandbox: config.sandbox,
    ...(judgeModel ? { judge: judgeFrom(judgeModel) } : {}),
    ...(flags.maxTurns ? { maxTurns: flags.maxTurns } : {}),
    ...(flags.deadline ? { deadlineMs: flags.deadline * 1000 } : {}),
    ...(signal ? { signal } : {}),
    onProgress: ({ done, total: all }) => {
      if (!io.interactive || done - lastShown < Math.max(1, Math.floor(all / 50))) return;
      lastShown = done;
      io.stderr(`\r${done}/${all} rollouts`);
    },
  });
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
  const svg = renderRobustnessSvg(report);
  const document: RobustnessDocument = { ...report, chart: { svg } };
  const rendered = format === 'json' ? `${JSON.stringify(document, null, 2)}\n` : format === 'html' ? renderRobustnessHtml(report) : format === 'markdown' ? renderRobustnessMarkdown(report) : renderRobustnessText(report);
  if (flags.chart) writeFileSync(flags.chart, `${svg}\n`);
  if (flags.out) {
    writeFileSync(flags.out, rendered);
    io.stderr(`robustness report written to ${flags.out}\n`);
  } else if (format === 'json') printJson(io, document);
  else io.stdout(rendered);
  const defects = [report.baseline, ...report.arms].reduce((n, a) => n + a.rollouts.errors, 0);
  return { document, exitCode: results.cancelled > 0 ? 130 : defects > 0 ? 1 : 0 };
}

export function registerRobustnessCommand(program: Command, io: CliIo): void {
  program
    .command('robustness')
    .description('Run a perturbation suite against an unperturbed baseline and report which perturbations hurt, with paired, Holm-corrected gaps')
    .option('--env <name>', 'environment(s), repeatable or comma-separated', collect)
    .option('--task <id>', 'only these task ids (repeatable)', collect)
    .option('--tasks-file <path>', 'tasks from YAML/JSON files (repeatable)', collect)
    .option('--model <spec>', 'the model: oracle, scripted:PATH, openai:URL#MODEL, …')
    .option('--suite <path>', 'perturbation suite (YAML: seeds, axes, cross, arms, heldOut)')
    .option('--perturb <spec>', 'one arm per value instead of a suite (repeatable; a,b in one value apply together)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--epochs <n>', 'epochs per task and arm', positiveInt('--epochs', { max: 10_000 }), 1)
    .option('--seed <n>', 'run seed (worlds); the suite has its own perturbation seeds', nonNegativeInt('--seed', { max: 2 ** 32 - 1 }), 0)
    .option('--concurrency <n>', 'rollouts at once', positiveInt('--concurrency', { max: 10_000 }), 4)
    .option('--sandbox <backend>', 'auto, virtual, bwrap or remote', oneOf('--sandbox', SANDBOX_BACKENDS))
    .option('--max-turns <n>', 'turn limit per rollout (default: each task\'s own)', positiveInt('--max-turns', { max: 100_000 }))
    .option('--deadline <seconds>', 'wall-clock limit per rollout', positiveInt('--deadline'))
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
