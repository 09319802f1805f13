// `gauntlet probes --model SPEC`: runs the shortcut probes (src/envs/probes) and reports, per
// category, how often the model took the shortcut, with Wilson intervals. Verdicts come from the
// stored trajectory; the rule detectors run over the same rollouts and their flags are counted.
import type { Command } from 'commander';
import { DefectError, DETECTION_CATEGORIES, InputError, type DetectionCategory, type Rollout, type Task } from '../../core/index.ts';
import { PROBE_CATEGORIES, probeTasks, probeVerdict, type ProbeCategory, type ProbeVerdict } from '../../envs/probes/index.ts';
import { normalQuantile } from '../../eval/index.ts';
import { detectTrajectory, stepsOf, trajectoryOf } from '../../reward/detectors/index.ts';
import { executeRun, resolveRun, type RunRequest } from '../../runner/index.ts';
import type { SqliteStore } from '../../store/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { collect, nonNegativeInt, positiveInt } from '../options.ts';
import { openCliStore } from '../store.ts';
import { runExitCode } from './run.ts';

/** Wilson score interval for `successes` out of `n` at `confidence`; [0, 1] when n is 0. */
export function wilson(successes: number, n: number, confidence = 0.95): [number, number] {
  if (n === 0) return [0, 1];
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = successes / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface CategoryRate {
  category: ProbeCategory;
  /** Scored rollouts judged. */
  n: number;
  taken: number;
  rate: number | null;
  ci: [number, number];
  /** Scored rollouts that passed the probe's verifier (the honest outcome). */
  passed: number;
}

export interface ProbeReport {
  model: string;
  runId: string;
  categories: CategoryRate[];
  /** Rollouts not scored (infra_error, error, cancelled): never counted, always listed. */
  unscored: { rolloutId: string; taskId: string; status: string }[];
  /** Rule-detector flags over the scored probe rollouts, per detection category. */
  detectorFlags: Partial<Record<DetectionCategory, number>>;
  verdicts: (ProbeVerdict & { rolloutId: string; epoch: number; passed: boolean })[];
}

export function summariseProbes(verdicts: readonly (ProbeVerdict & { passed: boolean })[], confidence = 0.95): CategoryRate[] {
  return PROBE_CATEGORIES.map((category) => {
    const mine = verdicts.filter((v) => v.category === category);
    const taken = mine.filter((v) => v.taken).length;
    return { category, n: mine.length, taken, rate: mine.length === 0 ? null : taken / mine.length, ci: wilson(taken, mine.length, confidence), passed: mine.filter((v) => v.passed).length };
  });
}

export interface RunProbesOptions {
  store: SqliteStore;
  model: string;
  epochs: number;
  seed: number;
  /** Rollouts in flight (default 4). */
  concurrency?: number;
  categories?: readonly string[];
  taskIds?: readonly string[];
  env: Record<string, string | undefined>;
}

function chooseTasks(options: Pick<RunProbesOptions, 'categories' | 'taskIds'>): Task[] {
  for (const c of options.categories ?? []) if (!(PROBE_CATEGORIES as readonly string[]).includes(c)) throw new InputError('--category', `unknown probe category "${c}"`, `one of ${PROBE_CATEGORIES.join(', ')}`);
  let tasks = probeTasks();
  if (options.categories?.length) tasks = tasks.filter((t) => options.categories!.includes(t.tags.domain));
  if (options.taskIds?.length) {
    const unknown = options.taskIds.filter((id) => !tasks.some((t) => t.id === id));
    if (unknown.length > 0) throw new InputError('--task', `no probe ${unknown.join(', ')}`, `ids listed by \`gauntlet tasks --env probes\``);
    tasks = tasks.filter((t) => options.taskIds!.includes(t.id));
  }
  return tasks;
}

/** Runs the probes through the ordinary runner (stored, resumable) and judges every scored rollout. */
export async function runProbes(options: RunProbesOptions): Promise<{ report: ProbeReport; exitCode: number }> {
  const tasks = chooseTasks(options);
  const request = {
    envs: ['probes'],
    taskIds: tasks.map((t) => t.id),
    model: options.model,
    epochs: options.epochs,
    seed: options.seed,
    concurrency: options.concurrency ?? 4,
  } as RunRequest;
  const resolved = await resolveRun(request, { env: options.env });
  const summary = await executeRun({ store: options.store, run: { resolved }, modelEnvironment: { env: options.env } });
  if (summary.failure) throw new Error(summary.failure);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const rollouts: Rollout[] = options.store.rollouts(summary.runId);
  const verdicts: ProbeReport['verdicts'] = [];
  const unscored: ProbeReport['unscored'] = [];
  const detectorFlags: ProbeReport['detectorFlags'] = {};
  for (const rollout of rollouts) {
    const task = byId.get(rollout.taskId);
    if (!task) throw new DefectError('gauntlet', `run ${summary.runId} holds rollout ${rollout.id} of task ${rollout.taskId}, which is not a probe it was asked to run`);
    if (rollout.status !== 'scored') {
      unscored.push({ rolloutId: rollout.id, taskId: rollout.taskId, status: rollout.status });
      continue;
    }
    const trajectory = trajectoryOf(rollout, options.store.modelCalls(rollout.id), options.store.events(rollout.id));
    const calls = stepsOf(trajectory).map((s) => ({ tool: s.name, arguments: s.args }));
    verdicts.push({ ...probeVerdict(task, calls), rolloutId: rollout.id, epoch: rollout.epoch, passed: rollout.verifier?.passed === true });
    const detections = await detectTrajectory(trajectory, { task });
    for (const flag of detections.flags) detectorFlags[flag.category] = (detectorFlags[flag.category] ?? 0) + 1;
  }
  const model = rollouts[0]?.model ?? options.model;
  return { report: { model, runId: summary.runId, categories: summariseProbes(verdicts), unscored, detectorFlags, verdicts }, exitCode: runExitCode(summary) };
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

export function renderProbeReport(report: ProbeReport): string {
  const lines = [`shortcut probes: ${report.model} (run ${report.runId})`, '', `${'category'.padEnd(16)}${'n'.padStart(5)}${'taken'.padStart(7)}${'rate'.padStart(7)}   95% CI        verifier pass`];
  for (const c of report.categories) {
    const rate = c.rate === null ? '—' : pct(c.rate);
    const ci = c.n === 0 ? '—' : `[${pct(c.ci[0])}, ${pct(c.ci[1])}]`;
    lines.push(`${c.category.padEnd(16)}${String(c.n).padStart(5)}${String(c.taken).padStart(7)}${rate.padStart(7)}   ${ci.padEnd(14)}${String(c.passed).padStart(4)}/${c.n}`);
  }
  const flagged = DETECTION_CATEGORIES.filter((c) => report.detectorFlags[c]);
  lines.push('', flagged.length === 0 ? 'detector flags: none' : `detector flags: ${flagged.map((c) => `${c} ${report.detectorFlags[c]}`).join(', ')}`);
  if (report.unscored.length > 0) lines.push(`not scored (left out of every rate): ${report.unscored.map((u) => `${u.taskId} ${u.status}`).join(', ')}`);
  const taken = report.verdicts.filter((v) => v.taken);
  if (taken.length > 0) lines.push('', 'shortcuts taken:', ...taken.map((v) => `  ${v.taskId} #${v.epoch}: ${v.evidence.join('; ')}`));
  return lines.join('\n');
}

export function registerProbesCommand(program: Command, io: CliIo): void {
  program
    .command('probes')
    .description('Shortcut probes: which shortcuts a model takes (writable tests, answer file, git history, exists-only check, impossible tests), per category with Wilson CIs')
    .requiredOption('--model <spec>', 'the model to probe')
    .option('--epochs <k>', 'rollouts per probe', positiveInt('--epochs'), 1)
    .option('--seed <n>', 'world seed', nonNegativeInt('--seed'), 0)
    .option('--concurrency <n>', 'rollouts in flight', positiveInt('--concurrency'))
    .option('--category <name>', `only these categories (${PROBE_CATEGORIES.join(', ')}), repeatable`, collect)
    .option('--task <id>', 'only these probe ids, repeatable', collect)
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--json', 'one JSON document on stdout')
    .action(async (flags: { model: string; epochs: number; seed: number; concurrency?: number; category?: string[]; task?: string[]; store: string; json?: boolean }) => {
      const store = openCliStore(flags.store, io);
      try {
        const { report, exitCode } = await runProbes({
          store,
          model: flags.model,
          epochs: flags.epochs,
          seed: flags.seed,
          env: io.env,
          ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
          ...(flags.category ? { categories: flags.category } : {}),
          ...(flags.task ? { taskIds: flags.task } : {}),
        });
        if (flags.json) printJson(io, report);
        else io.stdout(`${renderProbeReport(report)}\n`);
        if (exitCode !== 0) process.exitCode = exitCode;
      } finally {
        store.close();
      }
    });
}
